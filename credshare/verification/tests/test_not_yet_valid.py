"""A document whose validity has not begun (a credential whose signed `validFrom` is still to
come, a document whose issue date is) is never verified: the page says "Not valid yet", the
API answers `verified: false` with the reason. Issuing in the future is refused on every
issuing path (credshare/documents/tests/test_date_ranges.py, api/tests/test_date_ranges.py),
so such a credential is one issued before that rule, or on a clock that ran ahead."""

import datetime
import html
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from time_machine import travel

from credshare.core import testing
from credshare.credentials.models import IssuedCredential
from credshare.documents.models import Document
from credshare.documents.services import document_issue
from credshare.verification.credential import verify_credential

IN_A_MONTH = timezone.localdate() + datetime.timedelta(days=30)


def credential_of(document) -> dict:
    return IssuedCredential.objects.get(version__document=document).credential


def stored_pdf(document) -> bytes:
    with document.versions.get().file.open("rb") as handle:
        return handle.read()


@pytest.fixture
def issued_next_month(zoe, university, zoe_transcript):
    """A certificate issued and signed on a clock a month ahead, dated that day; the clock is
    then back to now. (zoe_transcript first: the issuer's keys are made today.)"""
    with travel(
        datetime.datetime.combine(IN_A_MONTH, datetime.time(12), timezone.get_current_timezone()),
        tick=False,
    ):
        document = document_issue(
            issuer=university,
            learner=zoe,
            document_type=Document.Type.CERTIFICATE,
            title="First aid",
            issue_date=IN_A_MONTH,
            pdf=testing.sample_pdf("future"),
        )
    return document


def test_a_properly_signed_credential_valid_from_next_month_is_not_verified(issued_next_month):
    credential = credential_of(issued_next_month)
    assert credential["validFrom"] == f"{IN_A_MONTH.isoformat()}T00:00:00Z"

    verdict = verify_credential(credential)

    assert verdict.status == "not_yet_valid"
    assert verdict.headline == "Not valid yet"
    checks = {check.code: check.passed for check in verdict.checks}
    assert checks["proof"] is True  # only the date is wrong
    assert checks["valid_from"] is False
    assert verdict.as_json()["verified"] is False


def test_the_page_says_not_valid_yet_for_that_credential(client, issued_next_month):
    response = client.post(
        "/verify/",
        {"check": "credential", "credential-text": json.dumps(credential_of(issued_next_month))},
    )

    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "Not valid yet" in page
    assert "Valid and current" not in page
    assert "has not begun yet" in page


def test_the_api_answers_not_verified_with_the_reason(issued_next_month):
    body = json.dumps({"verifiableCredential": credential_of(issued_next_month), "options": {}})

    response = Client().post("/credentials/verify", body, content_type="application/json")

    assert response.status_code == 200
    result = response.json()
    assert result["verified"] is False
    assert result["verdict"]["status"] == "not_yet_valid"
    assert result["verdict"]["headline"] == "Not valid yet"
    assert {"check": "valid_from", "message": "Not valid yet."} in result["errors"]


def test_the_same_credential_is_valid_once_its_day_has_come(issued_next_month, time_machine):
    time_machine.move_to(
        datetime.datetime.combine(IN_A_MONTH, datetime.time(12), timezone.get_current_timezone())
    )

    verdict = verify_credential(credential_of(issued_next_month))

    assert verdict.status == "valid"
    assert verdict.as_json()["verified"] is True


@pytest.fixture
def dated_next_month(zoe_transcript):
    """A document issued today whose issue date was stored as next month (before issuing in
    the future was refused, or by the admin)."""
    Document.objects.filter(pk=zoe_transcript.pk).update(issue_date=IN_A_MONTH)
    return zoe_transcript


def test_the_pdf_of_a_document_dated_next_month_is_not_verified(client, dated_next_month):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("t.pdf", stored_pdf(dated_next_month), "application/pdf")
    response = client.post("/verify/", {"check": "pdf", "pdf-file": upload})

    page = html.unescape(response.content.decode())

    assert "Not valid yet" in page
    assert "Valid and current" not in page
    answer = Client().post(
        "/pdfs/verify", stored_pdf(dated_next_month), content_type="application/pdf"
    )
    assert answer.json()["verified"] is False
    assert answer.json()["verdict"]["status"] == "not_yet_valid"


def test_the_documents_verification_page_says_it_is_not_valid_yet(client, dated_next_month):
    response = client.get(reverse("verification:document", args=[dated_next_month.public_id]))

    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "it is not valid yet" in page
    assert "was issued through credshare and is valid" not in page
