"""Every document version is a signed Open Badges 3.0 credential: its encodings, what it says,
the documents a verifier resolves (DID document, status list), the learner's download, and
what `verify_credential` makes of good, stale and bad input."""

import base64
import datetime
import gzip
import hashlib
import itertools
import json
import types
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.urls import reverse
from django.utils import timezone

from credshare.core import testing
from credshare.credentials import services
from credshare.credentials.dataintegrity import add_proof
from credshare.credentials.keys import (
    ensure_credential_key,
    issuer_did,
    private_key_of,
    verification_method_id,
)
from credshare.credentials.models import CredentialKey, IssuedCredential, StatusEntry, StatusList
from credshare.credentials.multibase import (
    base58btc_decode,
    base58btc_encode,
    ed25519_public_key_from_multibase,
    ed25519_public_key_multibase,
    multibase_decode,
    multibase_encode,
)
from credshare.credentials.selectors import current_credential
from credshare.credentials.status_lists import MAX_LIST_BYTES, encode, is_set
from credshare.documents.models import Document
from credshare.documents.services import (
    document_correct,
    document_issue,
    document_version_add,
    document_withdraw,
)
from credshare.verification.credential import verify_credential
from credshare.verification.verdicts import Status, Verdict, VerificationInputError

# ---------------------------------------------------------------------------------------------
# Multibase


@pytest.mark.parametrize(
    ("data", "encoded"),
    [
        # Vectors from the multibase specification and an independent implementation.
        (b"Hello World!", "z2NEpo7TZRRrLZSi2U"),
        (b"yes mani !", "z7paNL19xttacUY"),
        (b"\x00\x00\x01", "z112"),
        (b"\x00\x00\x00\xff\xfe", "z111LUu"),
        (b"\x00", "z1"),
        (b"", "z"),
    ],
)
def test_multibase_base58btc_matches_known_vectors_both_ways(data, encoded):
    assert multibase_encode(data) == encoded
    assert multibase_decode(encoded) == data


@pytest.mark.parametrize("leading_zeros", [0, 1, 2, 7])
def test_multibase_round_trip_keeps_leading_zero_bytes(leading_zeros):
    for body in (b"", b"\x01", bytes(range(1, 33)), hashlib.sha256(b"x").digest()):
        data = b"\x00" * leading_zeros + body
        assert multibase_decode(multibase_encode(data)) == data
        assert base58btc_decode(base58btc_encode(data)) == data


@pytest.mark.parametrize("text", ["f00ff", "z0OIl", "zabc+", 42, None])
def test_multibase_decode_refuses_other_bases_and_characters(text):
    with pytest.raises(ValueError):
        multibase_decode(text)


def test_an_ed25519_multikey_has_its_well_known_prefix_and_round_trips():
    raw = b"\x00\x00" + bytes(range(30))

    encoded = ed25519_public_key_multibase(raw)

    # 0xed01 in base58btc: every Ed25519 Multikey starts with "z6Mk".
    assert encoded.startswith("z6Mk")
    assert ed25519_public_key_from_multibase(encoded) == raw
    with pytest.raises(ValueError):
        ed25519_public_key_from_multibase(multibase_encode(b"\xec\x01" + raw))


# ---------------------------------------------------------------------------------------------
# Bitstring Status List


def decoded_bits(encoded_list: str) -> bytes:
    body = encoded_list[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def test_a_status_list_puts_index_0_in_the_most_significant_bit_of_the_first_byte():
    encoded = encode([0, 9, 23], 32)

    assert encoded.startswith("u") and "=" not in encoded
    assert decoded_bits(encoded) == bytes([0b1000_0000, 0b0100_0000, 0b0000_0001, 0])
    assert [index for index in range(32) if is_set(encoded, index)] == [0, 9, 23]


def test_a_full_size_list_has_the_specifications_minimum_length_and_is_deterministic():
    encoded = encode([StatusList.SIZE - 1], StatusList.SIZE)

    assert len(decoded_bits(encoded)) == 16 * 1024
    assert is_set(encoded, StatusList.SIZE - 1) and not is_set(encoded, 0)
    assert encode([StatusList.SIZE - 1], StatusList.SIZE) == encoded


def test_an_index_outside_the_list_is_an_error():
    encoded = encode([], 64)
    with pytest.raises(ValueError):
        is_set(encoded, 64)
    with pytest.raises(ValueError):
        is_set(encoded, -1)


def forged_list(size_in_bytes: int) -> str:
    compressed = gzip.compress(b"\0" * size_in_bytes)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode()


def test_a_forged_list_that_inflates_past_any_list_we_publish_is_refused():
    bomb = forged_list(MAX_LIST_BYTES + 1)
    # Small on the wire, large once inflated.
    assert len(bomb) < 20_000

    with pytest.raises(ValueError, match="too large"):
        is_set(bomb, 0)
    # The largest accepted size still reads.
    assert is_set(forged_list(MAX_LIST_BYTES), 0) is False


@pytest.mark.parametrize("encoded_list", ["H4sIAAAAAAAA", 12, None])
def test_a_list_that_is_not_multibase_base64url_is_refused(encoded_list):
    with pytest.raises(ValueError):
        is_set(encoded_list, 0)


# ---------------------------------------------------------------------------------------------
# What an issued credential says


def credential_of(document: Document) -> dict:
    return current_credential(document).credential


def sri_sha256(data: bytes) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode()


@pytest.mark.parametrize(
    ("document_type", "achievement_type"),
    [
        (Document.Type.TRANSCRIPT, "LearningProgram"),
        (Document.Type.DIPLOMA, "Diploma"),
        (Document.Type.CERTIFICATE, "Certificate"),
        (Document.Type.LETTER, "Achievement"),
    ],
)
def test_every_document_type_gets_a_credential_naming_the_learner_and_the_signed_pdf(
    zoe, university, document_type, achievement_type
):
    document = testing.make_document(zoe, university, "A title", document_type=document_type)
    version = document.versions.get()

    credential = IssuedCredential.objects.get(version=version).credential

    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["issuer"]["id"] == issuer_did(university)
    subject = credential["credentialSubject"]
    assert subject["name"] == "Zoé Citoyenne"
    assert subject["achievement"]["achievementType"] == achievement_type
    assert subject["achievement"]["name"] == "A title"
    with version.file.open("rb") as stored:
        assert credential["relatedResource"][0]["digestSRI"] == sri_sha256(stored.read())
    assert credential["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert verify_credential(credential).status == Status.VALID


def test_a_transcripts_credential_carries_its_courses_and_gpa(zoe, university):
    document = document_issue(
        issuer=university,
        learner=zoe,
        document_type=Document.Type.TRANSCRIPT,
        title="Official transcript",
        issue_date=datetime.date(2026, 6, 1),
        pdf=testing.sample_pdf(),
        record={
            "program": "Computer Science",
            "courses": [["INF1120", "Programming I", "3", "A"], ["MAT1600", "Algebra", "4", "B"]],
            "gpa": "3.50",
            "credential": "Bachelor of Science",
        },
    )

    subject = credential_of(document)["credentialSubject"]

    assert subject["achievement"]["fieldOfStudy"] == "Computer Science"
    assert [d["name"] for d in subject["achievement"]["resultDescription"]] == [
        "INF1120 Programming I",
        "MAT1600 Algebra",
        "GPA",
    ]
    assert [result["value"] for result in subject["result"]] == ["A", "B", "3.50"]
    assert subject["creditsEarned"] == 7


@pytest.mark.parametrize("add_version", ["correct", "version_add"])
def test_a_new_version_gets_its_own_credential_and_the_old_one_is_superseded(
    zoe, university, zoe_transcript, add_version
):
    old = credential_of(zoe_transcript)
    registrar = testing.make_user("registrar@example-university.example")
    pdf = testing.sample_pdf("corrected")
    if add_version == "correct":
        document_correct(document=zoe_transcript, pdf=pdf, by=registrar)
    else:
        document_version_add(document=zoe_transcript, pdf=pdf)

    new = credential_of(zoe_transcript)

    assert IssuedCredential.objects.filter(version__document=zoe_transcript).count() == 2
    assert new["id"] != old["id"]
    newest = zoe_transcript.versions.get(number=2)
    with newest.file.open("rb") as stored:
        assert new["relatedResource"][0]["digestSRI"] == sri_sha256(stored.read())
    assert new["relatedResource"] != old["relatedResource"]
    old_verdict, new_verdict = verify_credential(old), verify_credential(new)
    assert (old_verdict.status, old_verdict.version_number) == (Status.SUPERSEDED, 1)
    assert (new_verdict.status, new_verdict.version_number) == (Status.VALID, 2)


@pytest.mark.parametrize(("revoke", "status"), [(False, Status.WITHDRAWN), (True, Status.REVOKED)])
def test_a_withdrawn_or_revoked_documents_credential_says_so_with_the_reason(
    zoe_transcript, revoke, status
):
    credential = credential_of(zoe_transcript)
    registrar = testing.make_user("registrar@example-university.example")

    document_withdraw(
        document=zoe_transcript, reason="Issued in error", by=registrar, revoke=revoke
    )

    verdict = verify_credential(credential)
    assert verdict.status == status
    assert "Issued in error" not in json.dumps(verdict.as_json())
    assert {"check": "status", "passed": False} in [
        {key: check[key] for key in ("check", "passed")} for check in verdict.as_json()["checks"]
    ]


def test_a_credential_past_its_valid_until_is_expired(zoe, university):
    today = timezone.localdate()
    document = document_issue(
        issuer=university,
        learner=zoe,
        document_type=Document.Type.CERTIFICATE,
        title="First aid",
        issue_date=today - datetime.timedelta(days=400),
        valid_until=today - datetime.timedelta(days=10),
        pdf=testing.sample_pdf(),
    )
    credential = credential_of(document)
    assert credential["validUntil"] == f"{today - datetime.timedelta(days=9)}T00:00:00Z"

    verdict = verify_credential(credential)

    assert verdict.status == Status.EXPIRED
    assert [c.passed for c in verdict.checks if c.code == "valid_until"] == [False]


# ---------------------------------------------------------------------------------------------
# What a verifier resolves: the DID document and the status list


def retire_key(issuer) -> CredentialKey:
    """Retire the issuer's active key and make its next one."""
    CredentialKey.objects.filter(issuer=issuer, is_active=True).update(is_active=False)
    return ensure_credential_key(issuer)


def test_the_did_document_lists_every_key_and_credentials_of_a_retired_key_still_verify(
    client, zoe, university, zoe_transcript
):
    old_credential = credential_of(zoe_transcript)
    new_key = retire_key(university)
    new_document = testing.make_document(zoe, university, "Diploma")
    did = issuer_did(university)

    response = client.get(reverse("credentials:did", args=[university.slug]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/did+json"
    assert response["Access-Control-Allow-Origin"] == "*"
    document = response.json()
    assert document["id"] == did
    methods = {method["id"]: method for method in document["verificationMethod"]}
    assert list(methods) == [f"{did}#key-1", f"{did}#key-2"]
    assert document["assertionMethod"] == [f"{did}#key-1", f"{did}#key-2"]
    assert methods[f"{did}#key-2"]["publicKeyMultibase"] == new_key.public_key_multibase
    assert {method["type"] for method in methods.values()} == {"Multikey"}
    assert old_credential["proof"]["verificationMethod"] == f"{did}#key-1"
    assert credential_of(new_document)["proof"]["verificationMethod"] == f"{did}#key-2"
    assert verify_credential(old_credential).status == Status.VALID
    assert verify_credential(credential_of(new_document)).status == Status.VALID


def test_the_did_names_our_host_with_its_port_percent_encoded(settings, university):
    settings.CREDSHARE_BASE_URL = "https://credshare.example:8443/"

    assert issuer_did(university) == "did:web:credshare.example%3A8443:issuers:example-university"


def test_an_unknown_issuer_has_no_did_document(client, zoe_transcript):
    response = client.get(reverse("credentials:did", args=["no-such-issuer"]))

    assert response.status_code == 404


def test_the_status_list_serves_the_signed_list_and_its_bit_flips_on_withdrawal(
    client, zoe_transcript
):
    credential = credential_of(zoe_transcript)
    status = credential["credentialStatus"]
    path = urlsplit(status["statusListCredential"]).path
    index = int(status["statusListIndex"])

    before = client.get(path)
    document_withdraw(
        document=zoe_transcript,
        reason="Issued in error",
        by=testing.make_user("registrar@example-university.example"),
    )
    after = client.get(path)

    assert before.status_code == after.status_code == 200
    assert before["Content-Type"] == "application/vc+ld+json"
    assert after.json() == StatusList.objects.get().credential
    assert before.json()["id"] == status["statusListCredential"]
    assert before.json()["credentialSubject"]["statusPurpose"] == "revocation"
    assert not is_set(before.json()["credentialSubject"]["encodedList"], index)
    assert is_set(after.json()["credentialSubject"]["encodedList"], index)
    # The list is itself a credential, signed by the issuer.
    assert after.json()["proof"]["verificationMethod"].startswith(after.json()["issuer"] + "#")


def test_an_unknown_status_list_is_a_404(client, zoe_transcript):
    response = client.get(reverse("credentials:status_list", args=["example-university", 99]))

    assert response.status_code == 404


# ---------------------------------------------------------------------------------------------
# The learner's download


@pytest.fixture
def locked(zoe, university):
    testing.set_fee_policy(university, collection_fee_cents=1500)
    return testing.make_document(zoe, university, "Diploma of arts")


def test_the_learner_downloads_the_current_credential_as_a_json_attachment(
    client, zoe, zoe_transcript
):
    testing.make_document(zoe, zoe_transcript.issuer, "Another one")
    document_version_add(document=zoe_transcript, pdf=testing.sample_pdf("v2"))
    client.force_login(zoe)

    response = client.get(reverse("documents:credential", args=[zoe_transcript.pk]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vc+ld+json")
    assert response["Content-Disposition"] == (
        'attachment; filename="official-transcript.credential.json"'
    )
    assert json.loads(response.content) == credential_of(zoe_transcript)
    assert verify_credential(response.content).version_number == 2


def test_another_learners_credential_is_a_404(client, bob, zoe_transcript):
    client.force_login(bob)

    response = client.get(reverse("documents:credential", args=[zoe_transcript.pk]))

    assert response.status_code == 404


def test_an_anonymous_visitor_is_sent_to_sign_in(client, zoe_transcript):
    url = reverse("documents:credential", args=[zoe_transcript.pk])

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_locked_documents_credential_is_a_404_and_not_offered(client, zoe, locked):
    client.force_login(zoe)

    response = client.get(reverse("documents:credential", args=[locked.pk]))
    page = client.get(reverse("documents:detail", args=[locked.pk])).content.decode()

    assert response.status_code == 404
    assert reverse("documents:credential", args=[locked.pk]) not in page
    assert "Download the credential (JSON)" not in page


def test_the_document_page_offers_the_credential_for_a_wallet(client, zoe, zoe_transcript):
    client.force_login(zoe)

    page = client.get(reverse("documents:detail", args=[zoe_transcript.pk])).content.decode()

    assert reverse("documents:credential", args=[zoe_transcript.pk]) in page
    assert "Download the credential (JSON)" in page
    assert "digital wallet" in page


# ---------------------------------------------------------------------------------------------
# verify_credential on bad input


def resign(content: dict, issuer, *, private_key=None, verification_method=None) -> dict:
    """CONTENT signed again, by the issuer's key unless told otherwise."""
    key = ensure_credential_key(issuer)
    unsigned = {name: value for name, value in content.items() if name != "proof"}
    return add_proof(
        unsigned,
        private_key=private_key or private_key_of(key),
        verification_method=verification_method or verification_method_id(key),
        created=timezone.now(),
    )


def failed_checks(verdict: Verdict) -> list[str]:
    return [check.code for check in verdict.checks if not check.passed]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("{not json", "malformed_json"),
        (b"\xff\xfe{}", "malformed_json"),
        ("[]", "not_a_credential"),
        ([{"type": ["VerifiableCredential"]}], "not_a_credential"),
        ('"a string"', "not_a_credential"),
        ("{}", "not_a_credential"),
        ({"@context": ["https://www.w3.org/2018/credentials/v1"]}, "not_a_credential"),
    ],
)
def test_input_that_is_not_a_credential_is_an_input_error(db, data, code):
    with pytest.raises(VerificationInputError) as raised:
        verify_credential(data)

    assert raised.value.code == code


def test_an_oversized_credential_is_refused_before_parsing(db, settings):
    settings.CREDSHARE_MAX_CREDENTIAL_BYTES = 1000
    oversized = json.dumps({"@context": ["x"], "padding": "x" * 1000})

    for data in (oversized, oversized.encode()):
        with pytest.raises(VerificationInputError) as raised:
            verify_credential(data)
        assert raised.value.code == "too_large"


def test_a_credential_without_proof_is_altered(zoe_transcript):
    credential = credential_of(zoe_transcript)
    del credential["proof"]

    verdict = verify_credential(credential)

    assert verdict.status == Status.ALTERED
    assert failed_checks(verdict) == ["proof"]
    assert "not signed" in verdict.checks[0].message


def test_a_proof_by_a_key_the_issuer_never_published_is_altered(university, zoe_transcript):
    did = issuer_did(university)
    forged = resign(
        credential_of(zoe_transcript),
        university,
        private_key=Ed25519PrivateKey.generate(),
        verification_method=f"{did}#key-9",
    )

    verdict = verify_credential(forged)

    assert verdict.status == Status.ALTERED
    assert failed_checks(verdict) == ["proof"]
    assert "not one the issuer has published" in verdict.checks[0].message


def test_a_proof_by_another_issuers_key_is_altered(university, free_college, zoe_transcript):
    other_key = ensure_credential_key(free_college)
    forged = resign(
        credential_of(zoe_transcript),
        university,
        private_key=private_key_of(other_key),
        verification_method=verification_method_id(other_key),
    )

    verdict = verify_credential(forged)

    assert verdict.status == Status.ALTERED
    assert failed_checks(verdict) == ["proof"]


@pytest.mark.parametrize(
    "issuer", ["did:web:evil.example:issuers:example-university", "", 42, {"id": None}]
)
def test_an_issuer_that_is_not_one_of_ours_is_altered(zoe_transcript, issuer):
    credential = credential_of(zoe_transcript)
    credential["issuer"] = issuer

    verdict = verify_credential(credential)

    assert verdict.status == Status.ALTERED
    assert failed_checks(verdict) == ["issuer"]
    assert not verdict.issuer_is_member


@pytest.mark.parametrize(
    "url",
    [
        "https://elsewhere.example/credentials/status/example-university/1",
        "http://127.0.0.1:8000/credentials/status/example-university/99",
        "http://127.0.0.1:8000/issuers/example-university/did.json",
    ],
)
def test_a_signed_credential_with_a_status_list_we_do_not_know_is_unchecked(
    university, zoe_transcript, url
):
    content = credential_of(zoe_transcript)
    content["credentialStatus"]["statusListCredential"] = url
    credential = resign(content, university)

    verdict = verify_credential(credential)

    assert verdict.status == Status.UNCHECKED
    assert failed_checks(verdict) == ["status"]
    # The signature holds: the verdict still says whose document it is.
    assert verdict.learner_name == "Zoé Citoyenne"


@pytest.mark.parametrize("proof_value", ["z0OIl", "zabc", "not multibase", 12345, None, ""])
def test_a_broken_proof_value_is_altered(zoe_transcript, proof_value):
    credential = credential_of(zoe_transcript)
    credential["proof"]["proofValue"] = proof_value

    verdict = verify_credential(credential)

    assert verdict.status == Status.ALTERED
    assert failed_checks(verdict) == ["proof"]


def set_path(path: list, value):
    def change(credential):
        target = credential
        for name in path[:-1]:
            target = target[name]
        target[path[-1]] = value

    return change


# Damage to the proof or to the signed content, as it arrives: the signature no longer holds.
DAMAGED = {
    "proof is a list": set_path(["proof"], [{}]),
    "proof is text": set_path(["proof"], "proof"),
    "unknown proof type": set_path(["proof", "type"], "Ed25519Signature2020"),
    "authentication purpose": set_path(["proof", "proofPurpose"], "authentication"),
    "method is a number": set_path(["proof", "verificationMethod"], 7),
    "method without fragment": set_path(["proof", "verificationMethod"], "did:web:x"),
    "unknown context": set_path(
        ["@context"], ["https://www.w3.org/ns/credentials/v2", "https://evil.example/ctx"]
    ),
    "subject is a list": set_path(["credentialSubject"], []),
}


@pytest.mark.parametrize("damage", list(DAMAGED))
def test_a_damaged_credential_is_altered_never_a_crash(zoe_transcript, damage):
    credential = credential_of(zoe_transcript)
    DAMAGED[damage](credential)

    verdict = verify_credential(credential)

    assert verdict.status == Status.ALTERED
    assert failed_checks(verdict) == ["proof"]


# Odd content signed with the issuer's own key: the signature holds, the rest must not crash.
ODD_BUT_SIGNED = {
    "status is text": (set_path(["credentialStatus"], "revoked"), Status.UNCHECKED),
    "status index is text": (
        set_path(["credentialStatus", "statusListIndex"], "first"),
        Status.UNCHECKED,
    ),
    "status index past the list": (
        set_path(["credentialStatus", "statusListIndex"], str(StatusList.SIZE)),
        Status.UNCHECKED,
    ),
    "status of another type": (
        set_path(["credentialStatus", "type"], "StatusList2021Entry"),
        Status.UNCHECKED,
    ),
    "no credential id": (set_path(["id"], "urn:uuid:not-a-uuid"), Status.ALTERED),
    "an id we never issued": (
        set_path(["id"], "urn:uuid:00000000-0000-4000-8000-000000000000"),
        Status.ALTERED,
    ),
}


@pytest.mark.parametrize("oddity", list(ODD_BUT_SIGNED))
def test_odd_content_under_a_valid_signature_gives_a_verdict_never_a_crash(
    university, zoe_transcript, oddity
):
    change, status = ODD_BUT_SIGNED[oddity]
    content = credential_of(zoe_transcript)
    change(content)

    verdict = verify_credential(resign(content, university))

    assert verdict.status == status


# ---------------------------------------------------------------------------------------------
# Status list entries


def bare_documents(learner, issuer, count: int) -> list[Document]:
    """Documents without versions: enough to allocate status entries quickly."""
    return [
        Document.objects.create(
            issuer=issuer,
            learner=learner,
            document_type=Document.Type.CERTIFICATE,
            title=f"Certificate {number}",
            issue_date=datetime.date(2026, 1, 1),
        )
        for number in range(count)
    ]


def test_fifty_documents_of_one_issuer_get_fifty_distinct_indexes(zoe, university):
    documents = bare_documents(zoe, university, 50)

    entries = [services.status_entry_allocate(document) for document in documents]

    assert len({(entry.status_list_id, entry.index) for entry in entries}) == 50
    assert all(0 <= entry.index < StatusList.SIZE for entry in entries)
    assert StatusList.objects.filter(issuer=university).count() == 1
    # A document keeps its entry.
    assert services.status_entry_allocate(documents[0]) == entries[0]


def test_colliding_indexes_are_retried_and_a_crowded_list_gives_way_to_a_new_one(
    monkeypatch, zoe, university
):
    # Draws from only 40 places, in a fixed order: collisions are certain.
    draws = itertools.cycle(range(40))
    monkeypatch.setattr(services, "secrets", types.SimpleNamespace(randbelow=lambda n: next(draws)))
    documents = bare_documents(zoe, university, 50)

    entries = [services.status_entry_allocate(document) for document in documents]

    assert len({(entry.status_list_id, entry.index) for entry in entries}) == 50
    lists = StatusList.objects.filter(issuer=university).order_by("number")
    assert [status_list.number for status_list in lists] == [1, 2]
    assert lists[0].is_full
    assert StatusEntry.objects.filter(status_list=lists[0]).count() == 40
