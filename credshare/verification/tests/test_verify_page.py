"""The public page a document's QR code leads to: who issued it, to whom, its status, and
whether a copy someone holds is the one we issued, with the same verdict as /verify/."""

import html
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from credshare.core import testing
from credshare.documents.models import Document
from credshare.documents.services import document_version_add


def stored_bytes(version) -> bytes:
    with version.file.open("rb") as handle:
        return handle.read()


def check_copy(client, document, data: bytes):
    url = reverse("verification:document", args=[document.public_id])
    return client.post(url, {"file": SimpleUploadedFile("copy.pdf", data, "application/pdf")})


def test_anyone_sees_who_issued_the_document_to_whom_and_that_it_is_valid(client, zoe_transcript):
    response = client.get(reverse("verification:document", args=[zoe_transcript.public_id]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "is valid" in page
    assert "Zoé Citoyenne" in page
    assert zoe_transcript.issuer.name in page
    assert zoe_transcript.versions.get().sha256 in page
    assert response["Cache-Control"] == "no-store"


def test_an_unknown_document_is_a_404(client, db):
    response = client.get(reverse("verification:document", args=[uuid.uuid4()]))

    assert response.status_code == 404


def test_the_exact_copy_we_issued_is_reported_current(client, zoe_transcript):
    response = check_copy(client, zoe_transcript, stored_bytes(zoe_transcript.versions.get()))

    assert "the current version of this document, exactly as issued" in response.content.decode()


def test_a_copy_of_an_earlier_version_is_reported_superseded(client, zoe_transcript):
    first = stored_bytes(zoe_transcript.versions.get())
    document_version_add(document=zoe_transcript, pdf=testing.sample_pdf("corrected"))

    response = check_copy(client, zoe_transcript, first)

    page = response.content.decode()
    assert "Your copy is version 1, as issued, but the issuer has since corrected" in page
    assert "Valid, but superseded by a newer version" in page


def test_a_copy_with_one_byte_changed_is_reported_altered(client, zoe_transcript):
    data = bytearray(stored_bytes(zoe_transcript.versions.get()))
    data[len(data) // 2] ^= 0x01

    response = check_copy(client, zoe_transcript, bytes(data))

    page = response.content.decode()
    assert "does not match any version of this document that we issued" in page
    assert "Altered, or not issued through credshare" in page


def test_the_exact_copy_gets_the_full_verdict_with_its_certificate(client, zoe_transcript):
    response = check_copy(client, zoe_transcript, stored_bytes(zoe_transcript.versions.get()))

    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "Valid and current" in page
    assert "Signing certificate" in page
    assert "The signature is valid: the signed content is unchanged." in page
    # No link from the page to itself.
    assert page.count(f'href="/verify/{zoe_transcript.public_id}/"') == 0


def test_a_copy_with_content_added_after_signing_is_a_changed_copy_of_this_document(
    client, zoe_transcript
):
    data = stored_bytes(zoe_transcript.versions.get()) + b"\n% added after signing\n"

    page = check_copy(client, zoe_transcript, data).content.decode()

    assert "Your copy was made from this document, then changed" in page
    assert "Altered, or not issued through credshare" in page


def test_a_copy_of_another_document_says_so_and_which_it_is(client, zoe_transcript, bob_transcript):
    response = check_copy(client, zoe_transcript, stored_bytes(bob_transcript.versions.get()))

    page = html.unescape(response.content.decode())
    assert "Your copy is not this document: it is another document issued through credshare" in (
        page
    )
    assert "Bob Other" in page
    assert "Bob's transcript" in page
    assert f'href="/verify/{bob_transcript.public_id}/"' in page


def test_a_file_that_is_not_a_pdf_is_refused(client, zoe_transcript):
    response = check_copy(client, zoe_transcript, b"GIF89a not a pdf")

    assert response.status_code == 400
    assert "This file is not a PDF." in response.content.decode()


def test_a_withdrawn_document_says_so_without_the_reason(client, zoe_transcript):
    Document.objects.filter(pk=zoe_transcript.pk).update(
        status=Document.Status.WITHDRAWN, status_reason="Issued in error"
    )

    page = client.get(
        reverse("verification:document", args=[zoe_transcript.public_id])
    ).content.decode()

    assert "The issuer withdrew this document." in page
    assert "Issued in error" not in page
    assert "is valid" not in page


def test_a_copy_of_a_withdrawn_document_is_reported_withdrawn(client, zoe_transcript):
    Document.objects.filter(pk=zoe_transcript.pk).update(
        status=Document.Status.WITHDRAWN, status_reason="Issued in error"
    )

    response = check_copy(client, zoe_transcript, stored_bytes(zoe_transcript.versions.get()))

    page = response.content.decode()
    assert "Withdrawn by the issuer" in page
    assert "Issued in error" not in page


@pytest.mark.parametrize("size", [0, 1])
def test_an_empty_or_missing_file_gets_a_clear_error(client, zoe_transcript, size):
    url = reverse("verification:document", args=[zoe_transcript.public_id])
    data = {"file": SimpleUploadedFile("empty.pdf", b"", "application/pdf")} if size else {}

    response = client.post(url, data)

    assert response.status_code == 400
    assert 'class="errors"' in response.content.decode()


def test_a_file_too_large_to_be_ours_is_refused(client, zoe_transcript, settings):
    settings.CREDSHARE_MAX_VERIFY_BYTES = 1000

    response = check_copy(client, zoe_transcript, b"%PDF-" + b"x" * 2000)

    assert response.status_code == 400
    assert "too large" in response.content.decode()
