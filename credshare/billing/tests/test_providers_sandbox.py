"""The sandbox provider: our own checkout page, whose buttons go through payment_event_apply
like Stripe's webhook does."""

import pytest
from django.urls import reverse

from credshare.billing.models import CreditEntry, FeePolicy, Purchase
from credshare.billing.providers import SandboxProvider, payment_provider
from credshare.billing.selectors import credit_balances, locked_document_ids
from credshare.billing.services import payment_event_apply, purchase_start
from credshare.core import testing


@pytest.fixture
def purchase(zoe, university):
    FeePolicy.objects.filter(issuer=university).update(tax_rate_basis_points=1300)
    bundle = testing.make_bundle(university, quantity=3, price_cents=2500)
    purchase = purchase_start(learner=zoe, provider="sandbox", bundle=bundle)
    payment_provider().checkout(purchase=purchase, success_url="/ok/", cancel_url="/no/")
    return purchase


def checkout_url(purchase):
    return reverse("payments:sandbox", args=[purchase.public_id])


def return_url(purchase):
    return reverse("billing:purchase", args=[purchase.public_id])


def press(client, purchase, action):
    return client.post(checkout_url(purchase), {"action": action})


def balance(learner, issuer):
    return credit_balances(learner=learner, issuer_ids=[issuer.pk])[issuer.pk]


def test_the_sandbox_is_the_default_provider_and_its_checkout_is_our_page(purchase):
    provider = payment_provider()
    assert provider.name == "sandbox"
    purchase.refresh_from_db()
    assert purchase.provider_session_id.startswith("sandbox_")
    url = provider.checkout(purchase=purchase, success_url="/ok/", cancel_url="/no/")
    assert url == f"/payments/sandbox/{purchase.public_id}/"


def test_the_checkout_page_shows_issuer_purchase_and_amounts(client, zoe, purchase):
    client.force_login(zoe)
    response = client.get(checkout_url(purchase))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Example University" in page
    assert "3 shares of documents from Example University" in page
    assert "$25.00" in page  # subtotal
    assert "$3.25" in page  # 13 % tax
    assert "$28.25" in page  # total
    assert "CAD" in page
    for button in ("Pay", "Decline", "Cancel"):
        assert f">{button}</button>" in page


def test_pay_marks_the_purchase_paid_and_credits_the_bundle(client, zoe, university, purchase):
    client.force_login(zoe)
    response = press(client, purchase, "pay")
    assert response.status_code == 302
    assert response["Location"] == return_url(purchase)
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID
    assert purchase.paid_at is not None
    assert balance(zoe, university) == 1 + 3
    assert purchase.events.get().provider == "sandbox"


@pytest.mark.parametrize(
    ("action", "status"),
    [("decline", Purchase.Status.FAILED), ("cancel", Purchase.Status.CANCELLED)],
)
def test_decline_or_cancel_credits_nothing(client, zoe, university, purchase, action, status):
    client.force_login(zoe)
    response = press(client, purchase, action)
    assert response.status_code == 302
    assert response["Location"] == return_url(purchase)
    purchase.refresh_from_db()
    assert purchase.status == status
    assert balance(zoe, university) == 1
    assert not CreditEntry.objects.filter(purchase=purchase).exists()


def test_another_learner_gets_404_and_changes_nothing(client, bob, purchase):
    client.force_login(bob)
    assert client.get(checkout_url(purchase)).status_code == 404
    assert press(client, purchase, "pay").status_code == 404
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PENDING


def test_a_visitor_is_sent_to_sign_in(client, purchase):
    response = client.get(checkout_url(purchase))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_unknown_action_is_refused(client, zoe, purchase):
    client.force_login(zoe)
    assert press(client, purchase, "steal").status_code == 400
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PENDING


def test_posting_pay_twice_is_applied_once(client, zoe, university, purchase):
    client.force_login(zoe)
    assert press(client, purchase, "pay").status_code == 302
    second = press(client, purchase, "pay")
    assert second.status_code == 302
    assert second["Location"] == return_url(purchase)
    assert (
        CreditEntry.objects.filter(purchase=purchase, kind=CreditEntry.Kind.PURCHASE).count() == 1
    )
    assert balance(zoe, university) == 4


def test_cancel_after_pay_changes_nothing(client, zoe, university, purchase):
    client.force_login(zoe)
    press(client, purchase, "pay")
    press(client, purchase, "cancel")
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID
    assert balance(zoe, university) == 4


def test_the_page_of_a_finished_purchase_has_no_buttons(client, zoe, purchase):
    client.force_login(zoe)
    press(client, purchase, "decline")
    page = client.get(checkout_url(purchase)).content.decode()
    assert ">Pay</button>" not in page
    assert "Declined" in page


def test_a_sandbox_refund_reverses_the_unused_credits(client, zoe, university, purchase):
    client.force_login(zoe)
    press(client, purchase, "pay")
    purchase.refresh_from_db()
    event = SandboxProvider().refund(purchase=purchase)
    payment_event_apply(provider="sandbox", event=event)
    payment_event_apply(provider="sandbox", event=SandboxProvider().refund(purchase=purchase))
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.REFUNDED
    assert balance(zoe, university) == 1
    assert (
        CreditEntry.objects.filter(purchase=purchase, kind=CreditEntry.Kind.REVERSAL).count() == 1
    )


def test_paying_a_collection_fee_unlocks_the_document(client, zoe, university, zoe_transcript):
    FeePolicy.objects.filter(issuer=university).update(collection_fee_cents=1000)
    assert locked_document_ids(documents=[zoe_transcript]) == {zoe_transcript.pk}
    purchase = purchase_start(learner=zoe, provider="sandbox", document=zoe_transcript)
    url = payment_provider().checkout(purchase=purchase, success_url="/", cancel_url="/")
    client.force_login(zoe)
    page = client.get(url).content.decode()
    assert "Collection fee: Official transcript" in page
    client.post(url, {"action": "pay"})
    assert locked_document_ids(documents=[zoe_transcript]) == set()
