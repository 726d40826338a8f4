"""Our credentials verify with an independent implementation: Digital Bazaar's verifier for
Data Integrity (eddsa-rdfc-2022) and Bitstring Status List, run with Node
(`tools/vc-verifier/verify.mjs`). The DID documents and status lists it reads are fetched from
our own views, so what we publish is what gets checked. It loads nothing from the network."""

import copy
import datetime
import itertools
import json
import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.urls import reverse

from credshare.core import testing
from credshare.credentials.keys import ensure_credential_key
from credshare.credentials.models import CredentialKey, StatusList
from credshare.credentials.selectors import current_credential
from credshare.credentials.status_lists import encode
from credshare.documents.models import Document
from credshare.documents.services import document_issue, document_withdraw
from credshare.verification.credential import verify_credential
from credshare.verification.verdicts import Status

VERIFIER_DIR = Path(__file__).resolve().parents[3] / "tools" / "vc-verifier"
ISSUED_ON = datetime.date(2025, 6, 20)

TRANSCRIPT_RECORD = {
    "program": "Bachelor of Science, Computer Science",
    "courses": [
        ["INF1120", "Programming I", "3", "A"],
        ["MAT1600", "Linear algebra", "3", "B+"],
        ["INF2050", "Software development tools", "3", "A-"],
    ],
    "gpa": "3.70",
    "credential": "Bachelor of Science",
}


@pytest.fixture
def node_verify(tmp_path):
    """verify(credentials, documents) -> one outcome per credential, from one Node process."""
    node = testing.require_program("node", package="nodejs")
    if not (VERIFIER_DIR / "node_modules").is_dir():
        message = "needs the Node verifier's packages in tools/vc-verifier: run make test"
        if os.environ.get(testing.REQUIRE_ALL_ENV):
            pytest.fail(message)
        pytest.skip(message)

    runs = itertools.count(1)

    def verify(credentials: list[dict], documents: dict[str, dict]) -> list[dict]:
        path = tmp_path / f"verifier-input-{next(runs)}.json"
        path.write_text(json.dumps({"credentials": credentials, "documents": documents}))
        completed = subprocess.run(  # noqa: S603 -- our own script, a fixed program
            [node, str(VERIFIER_DIR / "verify.mjs"), str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        outcomes = [json.loads(line) for line in completed.stdout.splitlines()]
        assert len(outcomes) == len(credentials), completed.stdout
        return outcomes

    return verify


def published_documents(client, credentials: list[dict]) -> dict[str, dict]:
    """What a verifier fetches for CREDENTIALS, through our views: each issuer's DID document
    at the URL its did:web DID resolves to, and each status list credential at its URL."""
    documents = {}
    host = urlsplit(settings.CREDSHARE_BASE_URL).netloc
    for credential in credentials:
        slug = credential["issuer"]["id"].rsplit(":", 1)[1]
        path = reverse("credentials:did", args=[slug])
        response = client.get(path)
        assert response.status_code == 200
        # did:web always resolves over https; the Node verifier applies the method's rule.
        documents[f"https://{host}{path}"] = response.json()
        list_url = credential["credentialStatus"]["statusListCredential"]
        response = client.get(urlsplit(list_url).path)
        assert response.status_code == 200
        documents[list_url] = response.json()
    return documents


def issue(learner, issuer, document_type, title, **values) -> Document:
    return document_issue(
        issuer=issuer,
        learner=learner,
        document_type=document_type,
        title=title,
        issue_date=ISSUED_ON,
        pdf=testing.sample_pdf(title),
        **values,
    )


def credential_of(document: Document) -> dict:
    return current_credential(document).credential


def is_valid(outcome: dict) -> bool:
    return outcome == {"verified": True, "statusVerified": True, "revoked": False, "error": None}


@pytest.fixture
def three_documents(zoe, university):
    return [
        issue(
            zoe,
            university,
            Document.Type.TRANSCRIPT,
            "Official transcript",
            record=TRANSCRIPT_RECORD,
            student_number="20251234",
        ),
        issue(zoe, university, Document.Type.DIPLOMA, "Bachelor of Science"),
        issue(
            zoe,
            university,
            Document.Type.CERTIFICATE,
            "First aid",
            valid_until=ISSUED_ON + datetime.timedelta(days=3 * 365),
        ),
    ]


def test_a_transcript_a_diploma_and_a_certificate_verify_in_node_as_in_python(
    client, node_verify, three_documents
):
    credentials = [credential_of(document) for document in three_documents]
    # The transcript carries its structured data, so that data is what gets verified.
    transcript_subject = credentials[0]["credentialSubject"]
    assert [result["value"] for result in transcript_subject["result"]] == [
        "A",
        "B+",
        "A-",
        "3.70",
    ]

    outcomes = node_verify(credentials, published_documents(client, credentials))

    assert [is_valid(outcome) for outcome in outcomes] == [True, True, True], outcomes
    assert [verify_credential(credential).status for credential in credentials] == [
        Status.VALID
    ] * 3


@pytest.mark.parametrize("revoke", [False, True], ids=["withdrawn", "revoked"])
def test_after_a_withdrawal_node_reads_the_credential_as_revoked(
    client, node_verify, zoe, university, three_documents, revoke
):
    transcript, diploma, _certificate = three_documents
    registrar = testing.make_user("registrar@example-university.example")

    document_withdraw(document=diploma, reason="Issued in error", by=registrar, revoke=revoke)

    credentials = [credential_of(diploma), credential_of(transcript)]
    outcomes = node_verify(credentials, published_documents(client, credentials))
    # Its signature still holds; the issuer's status list says it no longer stands. The
    # transcript, in the same list, still stands.
    assert outcomes == [
        {"verified": True, "statusVerified": True, "revoked": True, "error": None},
        {"verified": True, "statusVerified": True, "revoked": False, "error": None},
    ]


def test_a_status_list_altered_in_transit_is_refused_in_node(client, node_verify, zoe_transcript):
    credential = credential_of(zoe_transcript)
    documents = published_documents(client, [credential])
    list_url = credential["credentialStatus"]["statusListCredential"]
    forged = copy.deepcopy(documents[list_url])
    # Every bit set, without the issuer's signature.
    forged["credentialSubject"]["encodedList"] = encode(range(StatusList.SIZE), StatusList.SIZE)

    [outcome] = node_verify([credential], {**documents, list_url: forged})

    assert outcome["verified"] is True
    assert outcome["statusVerified"] is False
    assert outcome["revoked"] is None
    assert "not verified" in outcome["error"]


def tampered(credential: dict, change) -> dict:
    copied = copy.deepcopy(credential)
    change(copied)
    return copied


def test_a_changed_grade_or_name_fails_in_node_and_in_python(client, node_verify, three_documents):
    transcript = credential_of(three_documents[0])

    def change_grade(credential):
        credential["credentialSubject"]["result"][1]["value"] = "A+"

    def change_name(credential):
        credential["credentialSubject"]["name"] = "Zoé Imposteure"

    def change_gpa(credential):
        credential["credentialSubject"]["result"][3]["value"] = "4.00"

    credentials = [
        transcript,
        tampered(transcript, change_grade),
        tampered(transcript, change_name),
        tampered(transcript, change_gpa),
    ]

    outcomes = node_verify(credentials, published_documents(client, credentials))

    assert [outcome["verified"] for outcome in outcomes] == [True, False, False, False]
    # A credential whose proof fails never has its status read.
    assert [outcome["statusVerified"] for outcome in outcomes[1:]] == [None] * 3
    assert all(outcome["error"] for outcome in outcomes[1:])
    assert [verify_credential(credential).status for credential in credentials] == [
        Status.VALID,
        Status.ALTERED,
        Status.ALTERED,
        Status.ALTERED,
    ]


def test_credentials_of_a_retired_key_still_verify_in_node(client, node_verify, zoe, university):
    before = issue(zoe, university, Document.Type.DIPLOMA, "Bachelor of Science")
    CredentialKey.objects.filter(issuer=university).update(is_active=False)
    ensure_credential_key(university)
    after = issue(zoe, university, Document.Type.CERTIFICATE, "First aid")
    credentials = [credential_of(before), credential_of(after)]
    assert [credential["proof"]["verificationMethod"][-6:] for credential in credentials] == [
        "#key-1",
        "#key-2",
    ]

    outcomes = node_verify(credentials, published_documents(client, credentials))

    assert [is_valid(outcome) for outcome in outcomes] == [True, True], outcomes
