"""The verification API: POST /credentials/verify (VC-API) and POST /pdfs/verify, JSON in and
out, no session and no CSRF token; input that cannot be verified is a JSON error, never a 500."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from credshare.core import testing
from credshare.credentials.models import IssuedCredential
from credshare.documents.services import document_version_add, document_withdraw

CREDENTIALS = "/credentials/verify"
PDFS = "/pdfs/verify"


@pytest.fixture
def api():
    # As a client of the API is: no session, and CSRF enforced as for any browser post.
    return Client(enforce_csrf_checks=True)


def stored_pdf(document) -> bytes:
    version = document.versions.order_by("-number").first()
    with version.file.open("rb") as handle:
        return handle.read()


def credential_of(document, number: int = 1) -> dict:
    return IssuedCredential.objects.get(
        version__document=document, version__number=number
    ).credential


def verify_credential(api, credential, **extra):
    body = json.dumps({"verifiableCredential": credential, "options": {}})
    return api.post(CREDENTIALS, body, content_type="application/json", **extra)


def verify_pdf(api, data: bytes, **extra):
    return api.post(PDFS, data, content_type="application/pdf", **extra)


def withdraw(document, reason: str):
    registrar = testing.make_user("registrar@example-university.example", "Dominique Registraire")
    testing.make_member(registrar, document.issuer)
    document_withdraw(document=document, reason=reason, by=registrar)


def assert_error(response, status: int, code: str, message: str | None = None):
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    if message is not None:
        assert error["message"] == message


def test_the_routes_are_at_the_site_root():
    assert reverse("verification:api_credential") == CREDENTIALS
    assert reverse("verification:api_pdf") == PDFS
    assert reverse("verification:start") == "/verify/"


# --- /credentials/verify -----------------------------------------------------------------------


def test_a_credential_we_issued_is_verified(api, zoe_transcript):
    response = verify_credential(api, credential_of(zoe_transcript))

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    body = response.json()
    assert body["verified"] is True
    assert body["checks"] == ["proof", "status"]
    assert body["warnings"] == []
    assert body["errors"] == []
    verdict = body["verdict"]
    assert verdict["status"] == "valid"
    assert verdict["headline"] == "Valid and current"
    assert verdict["issuer"] == {
        "name": "Example University",
        "member": True,
        "slug": "example-university",
    }
    assert verdict["document"]["id"] == str(zoe_transcript.public_id)
    assert verdict["document"]["learner_name"] == "Zoé Citoyenne"


def test_a_withdrawn_credential_is_not_verified_and_keeps_the_reason_private(api, zoe_transcript):
    withdraw(zoe_transcript, "Issued in error")

    body = verify_credential(api, credential_of(zoe_transcript)).json()

    assert body["verified"] is False
    assert body["verdict"]["status"] == "withdrawn"
    assert body["verdict"]["headline"] == "Withdrawn by the issuer"
    assert "status_reason" not in body["verdict"]["document"]
    assert "Issued in error" not in json.dumps(body)
    assert "proof" in body["checks"]
    assert [error["check"] for error in body["errors"]] == ["status"]


def test_a_superseded_credential_is_not_verified_and_an_error_says_why(api, zoe_transcript):
    document_version_add(document=zoe_transcript, pdf=testing.sample_pdf("corrected"))

    body = verify_credential(api, credential_of(zoe_transcript, 1)).json()

    assert body["verified"] is False
    assert body["verdict"]["status"] == "superseded"
    # Every check passed: the error names the document's status.
    assert body["errors"] == [
        {"check": "document_status", "message": "Valid, but superseded by a newer version"}
    ]


def test_a_tampered_credential_is_not_verified(api, zoe_transcript):
    credential = credential_of(zoe_transcript)
    credential["credentialSubject"]["name"] = "Mallory"

    body = verify_credential(api, credential).json()

    assert body["verified"] is False
    assert body["verdict"]["status"] == "altered"
    assert body["checks"] == []
    assert body["errors"] == [
        {
            "check": "proof",
            "message": "The signature does not match the content: the credential was altered.",
        }
    ]


def test_messages_follow_the_requests_language(api, zoe_transcript):
    body = verify_credential(
        api, credential_of(zoe_transcript), HTTP_ACCEPT_LANGUAGE="fr-CA,fr;q=0.9"
    ).json()

    assert body["verdict"]["headline"] == "Valide et à jour"

    response = api.post(
        CREDENTIALS, "{nope", content_type="application/json", HTTP_ACCEPT_LANGUAGE="fr"
    )

    assert_error(response, 400, "malformed_json", "Ce n'est pas du JSON valide.")


def test_a_bare_credential_without_the_envelope_is_refused(api, zoe_transcript):
    response = api.post(
        CREDENTIALS, json.dumps(credential_of(zoe_transcript)), content_type="application/json"
    )

    assert_error(response, 400, "missing_credential")


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ("{nope", "application/json", 400, "malformed_json"),
        (b"\xff\xfe\x00", "application/json", 400, "malformed_json"),
        ("", "application/json", 400, "malformed_json"),
        ("[]", "application/json", 400, "missing_credential"),
        ('{"options": {}}', "application/json", 400, "missing_credential"),
        ('{"verifiableCredential": "eyJhbGciOi..."}', "application/json", 400, "not_a_credential"),
        ('{"verifiableCredential": {"name": "x"}}', "application/json", 400, "not_a_credential"),
        ('{"verifiableCredential": {}, "options": []}', "application/json", 400, "invalid_options"),
        (
            "verifiableCredential=x",
            "application/x-www-form-urlencoded",
            400,
            "unsupported_content_type",
        ),
        ("{}", "text/plain", 400, "unsupported_content_type"),
    ],
    ids=[
        "malformed",
        "not utf-8",
        "empty",
        "a list",
        "no credential",
        "a string",
        "not a credential",
        "bad options",
        "a form",
        "text",
    ],
)
def test_a_request_that_cannot_be_verified_is_a_json_error(
    api, db, body, content_type, status, code
):
    # CONTENT_TYPE again: the test client leaves it out when the body is empty.
    response = api.post(CREDENTIALS, body, content_type=content_type, CONTENT_TYPE=content_type)

    assert_error(response, status, code)


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except RecursionError:
        return False
    return True


@pytest.mark.parametrize(
    ("depth", "parses"),
    [(600, True), (100_000, False)],
    ids=["past the verifier", "past the parser"],
)
def test_json_nested_too_deeply_is_a_400_not_a_500(api, zoe_transcript, depth, parses):
    credential = json.dumps({**credential_of(zoe_transcript), "credentialSubject": "__NAME__"})
    nested = credential.replace('"__NAME__"', "[" * depth + "]" * depth)
    body = '{"verifiableCredential": ' + nested + "}"
    # Python parses the first; it is the verifier (deep copies, canonicalization) that gives up.
    assert parses == _parses(body)

    response = api.post(CREDENTIALS, body, content_type="application/json")

    assert_error(
        response, 400, "not_a_credential", "This JSON is nested too deeply to be a credential."
    )


def test_a_credential_too_large_to_be_ours_is_a_413(api, db, settings):
    settings.CREDSHARE_MAX_CREDENTIAL_BYTES = 100
    body = json.dumps({"verifiableCredential": {"padding": "x" * 200}})

    response = api.post(CREDENTIALS, body, content_type="application/json")

    assert_error(response, 413, "too_large", "The credential is too large to be one of ours.")


@pytest.mark.parametrize("url", [CREDENTIALS, PDFS])
@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_only_post_is_allowed(api, db, url, method):
    response = getattr(api, method)(url)

    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "POST"


# --- /pdfs/verify ------------------------------------------------------------------------------


def test_a_pdf_we_issued_is_verified_from_the_raw_body(api, zoe_transcript):
    response = verify_pdf(api, stored_pdf(zoe_transcript))

    assert response.status_code == 200
    body = response.json()
    assert body["verified"] is True
    assert body["checks"] == ["signature", "certificate_chain", "coverage", "record"]
    assert body["errors"] == []
    assert body["verdict"]["kind"] == "pdf"
    assert body["verdict"]["status"] == "valid"
    assert body["verdict"]["certificate"]["chains_to_network"] is True
    assert body["verdict"]["document"]["id"] == str(zoe_transcript.public_id)


def test_a_pdf_is_verified_from_a_multipart_upload(api, zoe_transcript, tmp_path):
    path = tmp_path / "transcript.pdf"
    path.write_bytes(stored_pdf(zoe_transcript))

    with path.open("rb") as handle:
        response = api.post(PDFS, {"file": handle})

    assert response.status_code == 200
    assert response.json()["verified"] is True


def test_a_pdf_larger_than_djangos_body_limit_is_still_verified(api, zoe_transcript, settings):
    """Django keeps request bodies under DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB); a PDF up to
    CREDSHARE_MAX_VERIFY_BYTES is read all the same."""
    data = stored_pdf(zoe_transcript)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = len(data) // 2

    response = verify_pdf(api, data)

    assert response.status_code == 200
    assert response.json()["verified"] is True


def test_a_withdrawn_pdf_is_not_verified_and_says_so_without_the_reason(api, zoe_transcript):
    withdraw(zoe_transcript, "Issued in error")

    body = verify_pdf(api, stored_pdf(zoe_transcript)).json()

    assert body["verified"] is False
    assert body["verdict"]["status"] == "withdrawn"
    assert body["errors"] == [
        {
            "check": "document_status",
            "message": "Withdrawn by the issuer",
        }
    ]


def test_a_tampered_pdf_is_not_verified(api, zoe_transcript):
    data = bytearray(stored_pdf(zoe_transcript))
    data[len(data) // 2] ^= 0x01

    body = verify_pdf(api, bytes(data)).json()

    assert body["verified"] is False
    assert body["verdict"]["status"] == "altered"
    assert body["errors"]
    assert all(error["message"] for error in body["errors"])


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        (b"", "application/pdf", "missing_file"),
        (b"hello, not a PDF", "application/pdf", "not_pdf"),
        (b"hello, not a PDF", "application/octet-stream", "not_pdf"),
        (b"%PDF-1.7", "text/plain", "unsupported_content_type"),
        (b'{"file": "x"}', "application/json", "unsupported_content_type"),
        (b"garbage", "multipart/form-data", "malformed_request"),
    ],
    ids=["empty", "not a pdf", "octet stream", "text", "json", "no boundary"],
)
def test_a_pdf_request_that_cannot_be_verified_is_a_json_error(api, db, body, content_type, code):
    # CONTENT_TYPE again: the test client leaves it out when the body is empty.
    response = api.post(PDFS, body, content_type=content_type, CONTENT_TYPE=content_type)

    assert_error(response, 400, code)


def test_a_multipart_request_without_a_file_field_is_refused(api, db):
    response = api.post(PDFS, {"document": "no file here"})

    assert_error(response, 400, "missing_file")


def test_a_pdf_too_large_to_be_ours_is_a_413_raw_or_multipart(api, db, settings, tmp_path):
    settings.CREDSHARE_MAX_VERIFY_BYTES = 1000
    data = b"%PDF-" + b"x" * 2000
    path = tmp_path / "large.pdf"
    path.write_bytes(data)

    raw = verify_pdf(api, data)
    with path.open("rb") as handle:
        multipart = api.post(PDFS, {"file": handle})

    message = "The file is too large to be one of our documents."
    assert_error(raw, 413, "too_large", message)
    assert_error(multipart, 413, "too_large", message)


def test_form_fields_over_djangos_memory_limit_are_a_413_not_a_500(api, db, settings, tmp_path):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    path = tmp_path / "small.pdf"
    path.write_bytes(b"%PDF-1.7")

    with path.open("rb") as handle:
        response = api.post(PDFS, {"file": handle, "note": "x" * 2000})

    assert_error(response, 413, "too_large")


def test_the_french_error_message_for_a_file_that_is_not_a_pdf(api, db):
    response = verify_pdf(api, b"hello", HTTP_ACCEPT_LANGUAGE="fr")

    assert_error(response, 400, "not_pdf", "Ce fichier n'est pas un PDF.")


def test_the_api_sets_no_session_or_csrf_cookie(api, zoe_transcript):
    response = verify_pdf(api, stored_pdf(zoe_transcript))

    assert response.status_code == 200
    assert not response.cookies
