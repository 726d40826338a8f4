"""Our canonicalization (`jsonld.canonize`, which remembers processed contexts between calls)
gives exactly the N-Quads of a plain PyLD normalize that starts from nothing, on the
credentials credshare issues and on inputs that would trip a cache keyed wrongly."""

import copy
import datetime

import pytest
from pyld import jsonld as pyld_jsonld
from pyld.documentloader.frozen import FrozenDocumentLoader

from credshare.core import testing
from credshare.credentials.jsonld import (
    CONTEXTS,
    CREDENTIALS_V2,
    OPEN_BADGES_V3,
    JsonLdRejected,
    canonize,
)
from credshare.credentials.models import StatusList
from credshare.credentials.selectors import current_credential
from credshare.documents.models import Document
from credshare.documents.services import document_issue, document_version_add, document_withdraw

ISSUED_ON = datetime.date(2025, 6, 20)


def reference(document: dict) -> str:
    """PyLD's own normalize with a fresh loader of the same contexts and none of our caches."""
    return pyld_jsonld.normalize(
        copy.deepcopy(document),
        {
            "algorithm": "URDNA2015",
            "format": "application/n-quads",
            "documentLoader": FrozenDocumentLoader(documents=CONTEXTS),
        },
    )


def proof_options(credential: dict) -> dict:
    """What eddsa-rdfc-2022 canonicalizes besides the document: the proof without its value,
    with the document's @context."""
    options = {key: value for key, value in credential["proof"].items() if key != "proofValue"}
    options["@context"] = credential["@context"]
    return options


def unsigned(credential: dict) -> dict:
    return {key: value for key, value in credential.items() if key != "proof"}


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


@pytest.fixture
def issued_credentials(zoe, university):
    """Every kind of credential credshare signs: the four document types (a transcript with
    structured data in French and English, a student number, an expiry date), a corrected
    version, and the status list credential after a withdrawal."""
    courses = [
        [f"INF{1000 + n}", f"Cours {n} — « Programmation » / Course {n}", "3", grade]
        for n, grade in enumerate(["A+", "A", "B-", "C+", "S", "A-", "B", "B+", "D", "A"])
    ]
    transcript = issue(
        zoe,
        university,
        Document.Type.TRANSCRIPT,
        "Relevé de notes officiel / Official transcript",
        record={
            "program": "Baccalauréat en informatique / Bachelor of Computer Science",
            "courses": courses,
            "gpa": "3,71",
            "credential": "B.Sc. Informatique",
        },
        student_number="20251234",
    )
    diploma = issue(zoe, university, Document.Type.DIPLOMA, "Bachelor of Science")
    certificate = issue(
        zoe,
        university,
        Document.Type.CERTIFICATE,
        "Secourisme / First aid",
        valid_until=ISSUED_ON + datetime.timedelta(days=3 * 365),
    )
    letter = issue(zoe, university, Document.Type.LETTER, 'Lettre "d\'attestation"\tofficielle')
    document_version_add(document=diploma, pdf=testing.sample_pdf("corrected"))
    registrar = testing.make_issuer_staff(university, "registrar@example.org")
    document_withdraw(document=letter, reason="Issued in error", by=registrar)
    credentials = [
        current_credential(document).credential
        for document in (transcript, diploma, certificate, letter)
    ]
    status_list = StatusList.objects.get(issuer=university)
    return credentials + [status_list.credential]


def test_every_credential_we_sign_canonicalizes_as_plain_pyld_does(issued_credentials):
    documents = []
    for credential in issued_credentials:
        documents += [unsigned(credential), proof_options(credential), credential]
    expected = [reference(document) for document in documents]

    # Twice over, interleaved: the second round runs on what the first left in the caches.
    for _round in range(2):
        assert [canonize(document) for document in documents] == expected


def test_a_transcript_canonicalizes_to_the_courses_it_holds(issued_credentials):
    transcript = unsigned(issued_credentials[0])
    canonical = canonize(transcript)

    assert canonical == reference(transcript)
    assert '"INF1003 Cours 3 — « Programmation » / Course 3"' in canonical
    assert canonical.splitlines() == sorted(canonical.splitlines())


def test_a_changed_grade_changes_the_canonical_form(issued_credentials):
    transcript = unsigned(issued_credentials[0])
    before = canonize(transcript)
    altered = copy.deepcopy(transcript)
    altered["credentialSubject"]["result"][3]["value"] = "A+"

    after = canonize(altered)

    assert after != before
    assert after == reference(altered)


def test_a_local_context_that_redefines_a_term_is_not_served_from_the_cache(
    issued_credentials,
):
    # The same types and terms as our credentials, after a cached run, but "name" and
    # "Achievement" mean something else: a cache keyed on too little would give the old
    # meaning back.
    transcript = unsigned(issued_credentials[0])
    canonize(transcript)
    redefined = copy.deepcopy(transcript)
    redefined["@context"] = [
        CREDENTIALS_V2,
        OPEN_BADGES_V3,
        {"extra": "https://example.org/vocab#extra"},
    ]
    redefined["credentialSubject"]["achievement"]["@context"] = {
        "@version": 1.1,
        "comment": "https://example.org/vocab#comment",
    }
    redefined["credentialSubject"]["achievement"]["comment"] = "scoped"
    redefined["extra"] = "value"

    canonical = canonize(redefined)

    assert canonical == reference(redefined)
    assert "<https://example.org/vocab#extra>" in canonical
    assert "<https://example.org/vocab#comment>" in canonical
    # Our own credential again, after the redefinition: unchanged.
    assert canonize(transcript) == reference(transcript)


def test_the_same_local_context_object_changed_between_calls_is_read_again(
    issued_credentials,
):
    transcript = unsigned(issued_credentials[0])
    local_context = {"extra": "https://example.org/one#extra"}
    document = copy.deepcopy(transcript)
    document["@context"] = [CREDENTIALS_V2, OPEN_BADGES_V3, local_context]
    document["extra"] = "value"
    first = canonize(document)

    local_context["extra"] = "https://example.org/two#extra"
    second = canonize(document)

    assert "<https://example.org/one#extra>" in first
    assert "<https://example.org/two#extra>" in second
    assert second == reference(document)


def test_a_context_we_do_not_bundle_is_refused_without_the_network(issued_credentials):
    document = unsigned(issued_credentials[1])
    document["@context"] = [CREDENTIALS_V2, "https://example.org/unknown-context.json"]

    with pytest.raises(JsonLdRejected):
        canonize(document)


def test_a_context_importing_ours_is_refused_and_ours_stay_as_published(issued_credentials):
    # PyLD merges an @import into the imported context document itself: accepted, this would
    # make "Profile" mean something else for every credential read afterwards.
    transcript = unsigned(issued_credentials[0])
    crafted = {
        "@context": [
            {"@import": OPEN_BADGES_V3, "Profile": {"@id": "https://example.org/evil#Profile"}}
        ],
        "type": "Profile",
    }

    with pytest.raises(JsonLdRejected):
        canonize(crafted)

    canonical = canonize(transcript)
    assert canonical == reference(transcript)
    assert "<https://purl.imsglobal.org/spec/vc/ob/vocab.html#Profile>" in canonical
