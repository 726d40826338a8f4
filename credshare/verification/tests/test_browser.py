"""The public verification page in a real browser: someone without an account uploads the
signed PDF they received, or pastes its credential, and reads the verdict.

Needs Debian's Chromium (/usr/bin/chromium); without it the tests skip, and fail under CI."""

import json

import pytest

from credshare.credentials.models import IssuedCredential

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_uploaded_signed_pdf_reads_valid_and_current(
    new_page, live_server, zoe_transcript, tmp_path
):
    version = zoe_transcript.versions.get()
    path = tmp_path / "transcript.pdf"
    with version.file.open("rb") as handle:
        path.write_bytes(handle.read())
    page = new_page()

    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Verify a document").click()
    page.get_by_role("heading", name="Verify a document").wait_for()
    page.get_by_label("PDF document").set_input_files(str(path))
    page.get_by_role("button", name="Verify the PDF").click()

    page.get_by_role("heading", name="Verification result").wait_for()
    status = page.get_by_role("status")
    assert "Valid and current" in status.inner_text()
    assert "Zoé Citoyenne" in page.content()
    assert "Member of the credshare network" in page.content()


def test_a_pasted_credential_reads_valid_and_a_tampered_one_altered(
    new_page, live_server, zoe_transcript
):
    credential = IssuedCredential.objects.get(version__document=zoe_transcript).credential
    page = new_page()

    page.goto(f"{live_server.url}/verify/")
    page.get_by_label("Or paste the credential").fill(json.dumps(credential))
    page.get_by_role("button", name="Verify the credential").click()

    page.get_by_role("heading", name="Verification result").wait_for()
    assert "Valid and current" in page.get_by_role("status").inner_text()

    credential["credentialSubject"]["name"] = "Mallory"
    page.get_by_role("link", name="Verify another document").click()
    page.get_by_label("Or paste the credential").fill(json.dumps(credential))
    page.get_by_role("button", name="Verify the credential").click()

    page.get_by_role("heading", name="Verification result").wait_for()
    assert "Altered, or not issued through credshare" in page.get_by_role("status").inner_text()


def test_a_file_that_is_not_a_pdf_gets_the_message_next_to_the_field(
    new_page, live_server, tmp_path
):
    path = tmp_path / "notes.pdf"
    path.write_bytes(b"just some notes")
    page = new_page()

    page.goto(f"{live_server.url}/verify/")
    page.get_by_label("PDF document").set_input_files(str(path))
    page.get_by_role("button", name="Verify the PDF").click()

    page.get_by_text("This file is not a PDF.").wait_for()
    assert page.get_by_role("heading", name="Verification result").count() == 0
