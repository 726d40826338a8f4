"""The unsigned content of credentials.

Every document becomes an Open Badges 3.0 AchievementCredential (`OpenBadgeCredential`), a
profile of the W3C VC Data Model 2.0 that wallets understand:
- a diploma or a certificate: the achievement is the credential itself;
- a transcript: the achievement is the learning program (`fieldOfStudy`), each course is a
  result described in the achievement (`resultDescription`, `result`), with the GPA as one
  more result and the credits earned on the subject;
- every credential names its PDF in `relatedResource`, with the signed file's SHA-256
  (`digestSRI`), so that the credential and the PDF vouch for each other."""

import base64
import datetime

from django.conf import settings
from django.utils import translation

from credshare.core.ranges import day_after
from credshare.credentials.jsonld import CREDENTIALS_V2, OPEN_BADGES_V3
from credshare.documents.models import Document, DocumentVersion
from credshare.documents.signing import verification_url

ACHIEVEMENT_TYPES = {
    Document.Type.TRANSCRIPT: "LearningProgram",
    Document.Type.DIPLOMA: "Diploma",
    Document.Type.CERTIFICATE: "Certificate",
    Document.Type.LETTER: "Achievement",
}


def _midnight(day: datetime.date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def status_list_url(issuer, number: int) -> str:
    from django.urls import reverse

    path = reverse("credentials:status_list", args=[issuer.slug, number])
    return settings.CREDSHARE_BASE_URL.rstrip("/") + path


def _issuer_profile(issuer, did: str) -> dict:
    profile = {"id": did, "type": ["Profile"], "name": issuer.name_en}
    if issuer.name_fr and issuer.name_fr != issuer.name_en:
        profile["description"] = issuer.name_fr
    return profile


def _number(text: str) -> float | None:
    try:
        return float(str(text).replace(",", "."))
    except ValueError:
        return None


def _transcript_parts(document: Document, achievement_id: str) -> tuple[dict, dict]:
    """(achievement additions, subject additions) for a transcript's structured data."""
    record = document.record or {}
    achievement, subject = {}, {}
    if record.get("program"):
        achievement["fieldOfStudy"] = record["program"]
    descriptions, results = [], []
    credits = 0.0
    for position, course in enumerate(record.get("courses") or [], start=1):
        code, title, course_credits, grade = (list(course) + ["", "", "", ""])[:4]
        description_id = f"{achievement_id}-course-{position}"
        descriptions.append(
            {
                "id": description_id,
                "type": ["ResultDescription"],
                "name": f"{code} {title}".strip(),
                "resultType": "LetterGrade",
            }
        )
        results.append({"type": ["Result"], "resultDescription": description_id, "value": grade})
        credits += _number(course_credits) or 0.0
    if record.get("gpa"):
        description_id = f"{achievement_id}-gpa"
        descriptions.append(
            {
                "id": description_id,
                "type": ["ResultDescription"],
                "name": "GPA",
                "resultType": "GradePointAverage",
            }
        )
        results.append(
            {"type": ["Result"], "resultDescription": description_id, "value": record["gpa"]}
        )
    if descriptions:
        achievement["resultDescription"] = descriptions
        subject["result"] = results
    if credits:
        subject["creditsEarned"] = credits
    if record.get("credential"):
        achievement["criteria"] = {"narrative": f"Credential conferred: {record['credential']}"}
    return achievement, subject


def credential_content(
    *,
    version: DocumentVersion,
    credential_id: str,
    issuer_did: str,
    status_list_number: int,
    status_index: int,
) -> dict:
    document = version.document
    page = verification_url(document)
    # Credentials are written in English whatever the language of the request that issued them.
    with translation.override("en"):
        type_name = str(document.get_document_type_display())
    achievement_id = f"{page}#achievement"
    achievement = {
        "id": achievement_id,
        "type": ["Achievement"],
        "achievementType": ACHIEVEMENT_TYPES[document.document_type],
        "name": document.title,
        "description": f"{type_name} issued by {document.issuer.name_en}",
        "criteria": {"narrative": document.title},
    }
    # Before the learner has an account: the name and address the issuer gave.
    subject = {
        "type": ["AchievementSubject"],
        "name": document.learner_full_name or document.learner_address,
    }
    if document.student_number:
        subject["identifier"] = [
            {
                "type": "IdentityObject",
                "identityHash": document.student_number,
                "identityType": "studentId",
                "hashed": False,
            }
        ]
    if document.document_type == Document.Type.TRANSCRIPT:
        achievement_extra, subject_extra = _transcript_parts(document, achievement_id)
        achievement.update(achievement_extra)
        subject.update(subject_extra)
    subject["achievement"] = achievement
    list_url = status_list_url(document.issuer, status_list_number)
    digest = base64.b64encode(bytes.fromhex(version.sha256)).decode()
    content = {
        "@context": [CREDENTIALS_V2, OPEN_BADGES_V3],
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": _issuer_profile(document.issuer, issuer_did),
        "name": document.title,
        "validFrom": _midnight(document.issue_date),
        "credentialSubject": subject,
        "credentialStatus": {
            "id": f"{list_url}#{status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(status_index),
            "statusListCredential": list_url,
        },
        "relatedResource": [
            {
                "id": f"{page}#version-{version.number}",
                "mediaType": "application/pdf",
                "digestSRI": f"sha256-{digest}",
            }
        ],
    }
    if document.valid_until:
        # The first moment after the last valid day (the calendar's last day has no next).
        content["validUntil"] = _midnight(day_after(document.valid_until))
    return content


def status_list_content(*, issuer, issuer_did: str, number: int, encoded_list: str) -> dict:
    url = status_list_url(issuer, number)
    return {
        "@context": [CREDENTIALS_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_did,
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded_list,
        },
    }
