"""The learner's payments page, receipts (HTML, PDF, email)."""

import shutil
import subprocess

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from credshare.billing.models import Purchase
from credshare.billing.providers import SandboxProvider
from credshare.billing.services import payment_event_apply, purchase_start
from credshare.core import testing
from credshare.notifications.models import OutgoingEmail

# The session, the user, the header's "Inbox" link, the count, the purchases with their
# issuers and documents: none per row.
PAYMENTS_PAGE_QUERIES = 5


@pytest.fixture
def zoe_client(client, zoe):
    client.force_login(zoe)
    return client


@pytest.fixture
def bundle(university):
    testing.set_fee_policy(university, tax_rate_basis_points=1300)
    return testing.make_bundle(university, 3, 2500)


def apply(purchase, kind):
    event = SandboxProvider.button_event(purchase=purchase, kind=kind)
    payment_event_apply(provider="sandbox", event=event)
    purchase.refresh_from_db()
    return purchase


def test_the_payments_page_lists_every_purchase_newest_first(zoe, zoe_client, bundle, university):
    paid = testing.make_paid_purchase(zoe, bundle)
    declined = apply(purchase_start(learner=zoe, provider="sandbox", bundle=bundle), "failed")

    page = zoe_client.get(reverse("billing:payments")).content.decode()

    assert page.index(str(declined.public_id)) < page.index(str(paid.public_id))
    assert "Example University" in page
    assert "$28.25" in page
    assert "Paid" in page and "Declined" in page
    assert reverse("billing:receipt", args=[paid.public_id]) in page
    assert reverse("billing:receipt_pdf", args=[paid.public_id]) in page
    assert reverse("billing:receipt", args=[declined.public_id]) not in page


def test_the_payments_page_shows_only_the_learners_own(zoe, bob, client, bundle):
    testing.make_paid_purchase(zoe, bundle)
    client.force_login(bob)

    page = client.get(reverse("billing:payments")).content.decode()

    assert "You have made no payments." in page


def test_the_payments_page_makes_no_query_per_row(zoe, zoe_client, bundle, zoe_transcript):
    testing.set_fee_policy(bundle.issuer, collection_fee_cents=1000)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = zoe_client.get(reverse("billing:payments"))
        assert response.status_code == 200
        return len(queries), response.content.decode().count('class="payment-row"')

    testing.make_paid_purchase(zoe, bundle)
    purchase_start(learner=zoe, provider="sandbox", document=zoe_transcript)
    for_two = count()
    for _ in range(8):
        testing.make_paid_purchase(zoe, bundle)
    for_ten = count()

    assert for_two == (PAYMENTS_PAGE_QUERIES, 2)
    assert for_ten == (PAYMENTS_PAGE_QUERIES, 10)


def test_the_receipt_shows_everything(zoe, zoe_client, bundle):
    purchase = testing.make_paid_purchase(zoe, bundle)

    response = zoe_client.get(reverse("billing:receipt", args=[purchase.public_id]))

    page = response.content.decode()
    assert response.status_code == 200
    for expected in (
        purchase.receipt_number,
        "Example University",
        "Zoé Citoyenne",
        "3 shares of documents from Example University",
        "$25.00",
        "$3.25",
        "$28.25",
        "CAD",
        "Paid",
    ):
        assert expected in page, expected


def test_the_receipt_pdf_is_a_pdf_with_the_receipt_number(zoe, zoe_client, bundle, tmp_path):
    purchase = testing.make_paid_purchase(zoe, bundle)

    response = zoe_client.get(reverse("billing:receipt_pdf", args=[purchase.public_id]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    pdftotext = shutil.which("pdftotext")
    if pdftotext:
        path = tmp_path / "receipt.pdf"
        path.write_bytes(response.content)
        text = subprocess.run(  # noqa: S603 -- our own file, a fixed program
            [pdftotext, str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert purchase.receipt_number in text
        assert "$28.25" in text


def test_a_pending_or_declined_purchase_has_no_receipt(zoe, zoe_client, bundle):
    pending = purchase_start(learner=zoe, provider="sandbox", bundle=bundle)
    declined = apply(purchase_start(learner=zoe, provider="sandbox", bundle=bundle), "failed")

    for purchase in (pending, declined):
        for name in ("billing:receipt", "billing:receipt_pdf"):
            assert zoe_client.get(reverse(name, args=[purchase.public_id])).status_code == 404


def test_somebody_elses_receipt_is_404(zoe, bob, client, bundle):
    purchase = testing.make_paid_purchase(zoe, bundle)
    client.force_login(bob)

    for name in ("billing:receipt", "billing:receipt_pdf", "billing:purchase"):
        assert client.get(reverse(name, args=[purchase.public_id])).status_code == 404


def test_a_paid_purchase_emails_its_receipt_once(zoe, bundle):
    purchase = purchase_start(learner=zoe, provider="sandbox", bundle=bundle)
    apply(purchase, "completed")
    apply(purchase, "completed")  # a second "completed" changes nothing

    [email] = OutgoingEmail.objects.filter(to=zoe.email)
    assert purchase.receipt_number in email.subject
    assert "$28.25" in email.text_body
    assert reverse("billing:receipt_pdf", args=[purchase.public_id]) in email.text_body
    assert purchase.receipt_number in email.html_body


def test_the_receipt_email_is_in_the_learners_language(university, bundle):
    learner = testing.make_user("lea@example.org", "Léa", language="fr")
    testing.make_paid_purchase(learner, bundle)

    [email] = OutgoingEmail.objects.filter(to=learner.email)
    assert "28,25\u00a0$" in email.text_body


def test_a_declined_purchase_emails_nothing(zoe, bundle):
    apply(purchase_start(learner=zoe, provider="sandbox", bundle=bundle), "failed")

    assert not OutgoingEmail.objects.filter(to=zoe.email).exists()
    assert Purchase.objects.get().status == Purchase.Status.FAILED
