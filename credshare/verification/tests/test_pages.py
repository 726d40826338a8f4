"""The public verification page, /verify/: anyone uploads a PDF, or uploads or pastes a
Verifiable Credential, and reads the verdict; what cannot be verified at all is a 400 with a
clear message on the form."""

import datetime
import html
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from credshare.core import testing
from credshare.credentials.models import IssuedCredential
from credshare.documents.models import Document
from credshare.documents.services import document_version_add, document_withdraw

START = "/verify/"


def stored_pdf(document) -> bytes:
    version = document.versions.order_by("-number").first()
    with version.file.open("rb") as handle:
        return handle.read()


def credential_of(document, number: int = 1) -> dict:
    return IssuedCredential.objects.get(
        version__document=document, version__number=number
    ).credential


def post_pdf(client, data: bytes, name: str = "transcript.pdf", **headers):
    upload = SimpleUploadedFile(name, data, "application/pdf")
    return client.post(START, {"check": "pdf", "pdf-file": upload}, **headers)


def post_credential(client, *, text: str | None = None, file: bytes | None = None, **headers):
    data = {"check": "credential"}
    if text is not None:
        data["credential-text"] = text
    if file is not None:
        data["credential-file"] = SimpleUploadedFile("credential.json", file, "application/json")
    return client.post(START, data, **headers)


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def withdraw(document, reason: str, *, revoke: bool = False):
    registrar = testing.make_user("registrar@example-university.example", "Dominique Registraire")
    testing.make_member(registrar, document.issuer)
    document_withdraw(document=document, reason=reason, by=registrar, revoke=revoke)


def test_the_page_offers_both_ways_in_to_anyone_in_english(client, db):
    response = client.get(START)

    page = page_text(response)
    assert response.status_code == 200
    assert '<html lang="en">' in page
    assert "<h1>Verify a document</h1>" in page
    assert "Check a PDF" in page
    assert "Check a Verifiable Credential" in page
    assert 'name="pdf-file"' in page
    assert 'name="credential-file"' in page
    assert 'name="credential-text"' in page
    assert "Verify the PDF" in page
    assert "Verify the credential" in page


def test_the_page_and_its_verdict_read_in_french(client, zoe_transcript):
    page = page_text(client.get(START, HTTP_ACCEPT_LANGUAGE="fr"))

    assert '<html lang="fr">' in page
    assert "Vérifier un document" in page

    result = post_pdf(client, stored_pdf(zoe_transcript), HTTP_ACCEPT_LANGUAGE="fr")

    assert result.status_code == 200
    assert "Valide et à jour" in page_text(result)


def test_a_french_error_message_for_a_file_that_is_not_a_pdf(client, db):
    response = post_pdf(client, b"hello", HTTP_ACCEPT_LANGUAGE="fr")

    assert response.status_code == 400
    assert "Ce fichier n'est pas un PDF." in page_text(response)


def test_the_footer_of_every_page_links_to_the_verification_page(client, db):
    page = client.get(reverse("home")).content.decode()

    assert f'<a href="{START}">Verify a document</a>' in page


def test_the_pdf_we_issued_is_valid_and_current_with_its_details(client, zoe_transcript):
    response = post_pdf(client, stored_pdf(zoe_transcript))

    page = page_text(response)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "Valid and current" in page
    assert "verdict-valid" in page
    assert "Example University" in page
    assert "Member of the credshare network" in page
    assert "Zoé Citoyenne" in page
    assert "Official transcript" in page
    assert "Transcript" in page
    assert "Version 1 of 1" in page
    # The signing certificate, and the checks one by one.
    assert "Signing certificate" in page
    assert "SHA-256 fingerprint" in page
    assert "Chains to the credshare network's certificate authority" in page
    assert "The signature is valid: the signed content is unchanged." in page
    assert "The file is exactly as credshare issued it." in page
    assert "Failed" not in page
    assert f'href="/verify/{zoe_transcript.public_id}/"' in page


def test_the_pasted_credential_is_valid_and_current(client, zoe_transcript):
    response = post_credential(client, text=json.dumps(credential_of(zoe_transcript)))

    page = page_text(response)
    assert response.status_code == 200
    assert "Valid and current" in page
    assert "A Verifiable Credential" in page
    assert "Zoé Citoyenne" in page
    assert "The issuer's signature (eddsa-rdfc-2022) is valid." in page
    assert "Signing certificate" not in page
    assert f'href="/verify/{zoe_transcript.public_id}/"' in page


def test_an_uploaded_credential_file_is_verified_too(client, zoe_transcript):
    data = json.dumps(credential_of(zoe_transcript)).encode()

    response = post_credential(client, file=data)

    assert response.status_code == 200
    assert "Valid and current" in page_text(response)


def test_a_withdrawn_document_says_so_without_the_issuers_reason(client, zoe_transcript):
    withdraw(zoe_transcript, "Issued in error")

    for response in (
        post_pdf(client, stored_pdf(zoe_transcript)),
        post_credential(client, text=json.dumps(credential_of(zoe_transcript))),
    ):
        page = page_text(response)
        assert response.status_code == 200
        assert "Withdrawn by the issuer" in page
        assert "verdict-withdrawn" in page
        assert "Issued in error" not in page
        assert "Valid and current" not in page


def test_a_revoked_document_is_not_called_expired(client, zoe_transcript):
    withdraw(zoe_transcript, "Obtained by fraud", revoke=True)

    page = page_text(post_credential(client, text=json.dumps(credential_of(zoe_transcript))))

    assert "Revoked by the issuer" in page
    assert "Obtained by fraud" not in page
    assert "expired" not in page.lower()


def test_an_earlier_version_is_superseded_with_a_newer_one_named(client, zoe_transcript):
    first = stored_pdf(zoe_transcript)
    document_version_add(document=zoe_transcript, pdf=testing.sample_pdf("corrected"))

    for response in (
        post_pdf(client, first),
        post_credential(client, text=json.dumps(credential_of(zoe_transcript, 1))),
    ):
        page = page_text(response)
        assert "Valid, but superseded by a newer version" in page
        assert "verdict-superseded" in page
        assert "Version 1 of 2" in page
        assert "a newer version exists" in page


def test_an_expired_document_is_said_to_have_ended_its_validity_not_to_be_revoked(
    client, zoe_transcript
):
    Document.objects.filter(pk=zoe_transcript.pk).update(valid_until=datetime.date(2020, 1, 1))

    page = page_text(post_pdf(client, stored_pdf(zoe_transcript)))

    assert "verdict-expired" in page
    assert "Expired" in page
    assert "the validity period its issuer set for it has ended" in page
    assert "revoked" not in page.lower()
    assert "withdrawn" not in page.lower()


def test_an_unsigned_pdf_is_not_from_a_member_of_the_network(client, db):
    page = page_text(post_pdf(client, testing.sample_pdf("unsigned")))

    assert "Altered, or not issued through credshare" in page
    assert "This PDF carries no signature." in page
    assert "Not confirmed as a member of the credshare network" in page
    assert "Signing certificate" not in page


def test_a_tampered_credential_is_reported_altered(client, zoe_transcript):
    credential = credential_of(zoe_transcript)
    credential["credentialSubject"]["name"] = "Mallory"

    response = post_credential(client, text=json.dumps(credential))

    page = page_text(response)
    assert response.status_code == 200
    assert "Altered, or not issued through credshare" in page
    assert "verdict-altered" in page
    assert "The signature does not match the content: the credential was altered." in page
    # The name in a credential that fails its checks is only its own claim.
    assert "Example University" in page
    assert "the name is the file's own claim" in page
    assert "Failed" in page


def test_a_pdf_with_one_byte_changed_is_reported_altered(client, zoe_transcript):
    data = bytearray(stored_pdf(zoe_transcript))
    data[len(data) // 2] ^= 0x01

    page = page_text(post_pdf(client, bytes(data)))

    assert "Altered, or not issued through credshare" in page
    assert "Valid and current" not in page


@pytest.mark.parametrize(
    ("post", "message"),
    [
        (lambda client: client.post(START, {"check": "pdf"}), "This field is required."),
        (lambda client: post_pdf(client, b""), "The submitted file is empty."),
        (lambda client: post_pdf(client, b"{}", "credential.json"), "This file is not a PDF."),
        (
            lambda client: post_credential(client),
            "Choose a credential file or paste a credential.",
        ),
        (
            lambda client: post_credential(client, text="{", file=b"{}"),
            "Choose a credential file or paste a credential, not both.",
        ),
        (lambda client: post_credential(client, text="{not json"), "This is not valid JSON."),
        (
            lambda client: post_credential(client, file=b"%PDF-1.7 a PDF"),
            "This is not valid JSON.",
        ),
        (
            lambda client: post_credential(client, text='{"name": "a diploma"}'),
            "This JSON is not a Verifiable Credential (VC Data Model 2.0).",
        ),
        (
            lambda client: post_credential(client, text="[1, 2]"),
            "This JSON is not a Verifiable Credential.",
        ),
    ],
    ids=[
        "no file",
        "empty file",
        "not a pdf",
        "no credential",
        "file and text",
        "malformed json",
        "pdf as credential",
        "not a credential",
        "json list",
    ],
)
def test_input_that_cannot_be_verified_is_a_400_with_a_clear_message(client, db, post, message):
    response = post(client)

    page = page_text(response)
    assert response.status_code == 400
    assert message in page
    assert "Verification result" not in page
    # The form is there again, ready for another try.
    assert "Verify the PDF" in page and "Verify the credential" in page


def test_a_pdf_too_large_to_be_ours_is_refused(client, db, settings):
    settings.CREDSHARE_MAX_VERIFY_BYTES = 1000

    response = post_pdf(client, b"%PDF-" + b"x" * 2000)

    assert response.status_code == 400
    assert "The file is too large to be one of our documents." in page_text(response)


@pytest.mark.parametrize("as_file", [False, True], ids=["pasted", "uploaded"])
def test_a_credential_too_large_to_be_ours_is_refused(client, db, settings, as_file):
    settings.CREDSHARE_MAX_CREDENTIAL_BYTES = 100
    data = json.dumps({"padding": "x" * 200})

    if as_file:
        response = post_credential(client, file=data.encode())
    else:
        response = post_credential(client, text=data)

    assert response.status_code == 400
    assert "The credential is too large to be one of ours." in page_text(response)


def test_a_paste_beyond_djangos_memory_limit_is_a_400_not_a_500(db, settings):
    # Django refuses form fields over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) while the CSRF
    # check reads the form, before the view: its plain 400, never an error page.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = Client(enforce_csrf_checks=True)
    client.get(START)  # the CSRF cookie, as a browser has it

    response = client.post(START, {"check": "credential", "credential-text": "x" * 2000})

    assert response.status_code == 400


def deeply_nested(credential: dict, depth: int) -> str:
    """The credential with its subject's name nested DEPTH arrays deep, as JSON text."""
    text = json.dumps({**credential, "credentialSubject": {"name": "__NAME__"}})
    return text.replace('"__NAME__"', "[" * depth + "]" * depth)


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
def test_json_nested_too_deeply_is_a_400_not_a_500(client, zoe_transcript, depth, parses):
    text = deeply_nested(credential_of(zoe_transcript), depth)
    # Python parses the first; it is the verifier (deep copies, canonicalization) that gives up.
    assert parses == _parses(text)

    response = post_credential(client, text=text)

    assert response.status_code == 400
    assert "This JSON is nested too deeply to be a credential." in page_text(response)


def test_an_unknown_form_choice_falls_back_on_the_pdf_form(client, db):
    response = client.post(START, {"check": "something-else"})

    assert response.status_code == 400
    assert "This field is required." in page_text(response)


def test_hostile_text_from_the_issuer_is_shown_escaped(client, zoe, university):
    document = testing.make_document(zoe, university, "<script>alert('title')</script>")
    withdraw(document, "<script>alert('reason')</script>")
    university.name_en = "<img src=x onerror=alert(1)>"
    university.save(update_fields=["name_en"])

    for response in (
        post_pdf(client, stored_pdf(document)),
        post_credential(client, text=json.dumps(credential_of(document))),
    ):
        raw = response.content.decode()
        assert "Withdrawn by the issuer" in raw
        assert "<script>alert" not in raw
        assert "<img src=x" not in raw
        assert "&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt;" in raw
        assert "alert(&#x27;reason&#x27;)" not in raw  # the reason is private
        assert "&lt;img src=x onerror=alert(1)&gt;" in raw


def _queries_for_result(django_assert_max_num_queries, post, limit: int) -> list[str]:
    with django_assert_max_num_queries(limit) as captured:
        response = post()
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


# Measured: 2 for a PDF (the version by its hash, the newest version's number), 3 for a
# credential (the issuer's key, the credential with its document and status list, the
# newest version's number). One to spare for each.
PDF_RESULT_QUERIES = 3
CREDENTIAL_RESULT_QUERIES = 4


def test_the_result_page_costs_a_few_queries_however_many_versions(
    client, zoe_transcript, django_assert_max_num_queries
):
    """The verdict's checks and details are read in a fixed number of queries: a document
    with three versions costs no more than one with a single version."""
    pdf = stored_pdf(zoe_transcript)
    credential = json.dumps(credential_of(zoe_transcript, 1))

    def pdf_once():
        return post_pdf(client, pdf)

    def credential_once():
        return post_credential(client, text=credential)

    pdf_one = _queries_for_result(django_assert_max_num_queries, pdf_once, PDF_RESULT_QUERIES)
    credential_one = _queries_for_result(
        django_assert_max_num_queries, credential_once, CREDENTIAL_RESULT_QUERIES
    )
    for note in ("second", "third"):
        document_version_add(document=zoe_transcript, pdf=testing.sample_pdf(note))

    pdf_three = _queries_for_result(django_assert_max_num_queries, pdf_once, PDF_RESULT_QUERIES)
    credential_three = _queries_for_result(
        django_assert_max_num_queries, credential_once, CREDENTIAL_RESULT_QUERIES
    )
    assert len(pdf_three) <= len(pdf_one)
    assert len(credential_three) <= len(credential_one)
