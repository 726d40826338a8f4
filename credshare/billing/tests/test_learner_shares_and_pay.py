"""The learner's "More shares" and "Pay" pages, through the sandbox provider, and the page the
provider sends them back to."""

import pytest
from django.urls import reverse

from credshare.billing.models import CreditEntry, Purchase
from credshare.billing.selectors import credit_balances
from credshare.core import testing
from credshare.core.templatetags.credshare import money


@pytest.fixture
def zoe_client(client, zoe):
    client.force_login(zoe)
    return client


@pytest.fixture
def bundles(university):
    testing.set_fee_policy(university, tax_rate_basis_points=1300)
    return [
        testing.make_bundle(university, 1, 1000),
        testing.make_bundle(university, 3, 2500),
    ]


def sandbox(client, response, action: str):
    """Press ACTION ("pay", "decline" or "cancel") on the sandbox checkout RESPONSE sent us
    to, and follow back to our purchase page."""
    assert response.status_code == 302
    checkout_url = response["Location"]
    assert checkout_url.startswith("/payments/sandbox/")
    assert client.get(checkout_url).status_code == 200
    back = client.post(checkout_url, {"action": action})
    assert back.status_code == 302
    return client.get(back["Location"])


def balance(learner, issuer) -> int:
    return credit_balances(learner=learner, issuer_ids=[issuer.pk])[issuer.pk]


# --- money -------------------------------------------------------------------------------


def test_money_reads_as_people_write_it_in_each_language(settings):
    from django.utils import translation

    with translation.override("en"):
        assert money(1250) == "$12.50"
        assert money(123456, "CAD") == "$1,234.56"
        assert money(500, "EUR") == "€5.00"
    with translation.override("fr"):
        assert money(1250) == "12,50\u00a0$"
        assert money(123456, "CAD") == "1\u00a0234,56\u00a0$"


# --- More shares ---------------------------------------------------------------------------


def test_more_shares_lists_the_bundles_with_prices_and_the_balance(zoe_client, university, bundles):
    response = zoe_client.get(reverse("billing:buy_shares", args=[university.slug]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "More shares" in page
    assert "$10.00" in page and "$25.00" in page
    assert "$3.25 tax, $28.25 in all" in page
    assert "You currently have 1 share left" in page
    assert '<label for="bundle-' in page


def test_more_shares_in_french_shows_french_prices(zoe_client, university, bundles):
    zoe_client.cookies["django_language"] = "fr"
    response = zoe_client.get(reverse("billing:buy_shares", args=[university.slug]))

    assert "25,00\u00a0$" in response.content.decode()


def test_buying_a_bundle_through_the_sandbox_adds_the_shares(zoe, zoe_client, university, bundles):
    response = zoe_client.post(
        reverse("billing:buy_shares", args=[university.slug]), {"bundle": bundles[1].pk}
    )
    page = sandbox(zoe_client, response, "pay")

    assert "3 shares were added" in page.content.decode()
    assert balance(zoe, university) == 4
    purchase = Purchase.objects.get(learner=zoe)
    assert purchase.status == Purchase.Status.PAID
    assert (purchase.subtotal_cents, purchase.tax_cents, purchase.total_cents) == (2500, 325, 2825)


def test_a_declined_payment_credits_nothing_and_says_so(zoe, zoe_client, university, bundles):
    response = zoe_client.post(
        reverse("billing:buy_shares", args=[university.slug]), {"bundle": bundles[0].pk}
    )
    page = sandbox(zoe_client, response, "decline")

    assert "Nothing was charged" in page.content.decode()
    assert "declined" in page.content.decode()
    assert balance(zoe, university) == 1
    assert not CreditEntry.objects.filter(kind=CreditEntry.Kind.PURCHASE).exists()


def test_a_cancelled_payment_credits_nothing_and_says_so(zoe, zoe_client, university, bundles):
    response = zoe_client.post(
        reverse("billing:buy_shares", args=[university.slug]), {"bundle": bundles[0].pk}
    )
    page = sandbox(zoe_client, response, "cancel")

    assert "cancelled. Nothing was charged" in page.content.decode()
    assert balance(zoe, university) == 1


def test_choosing_no_bundle_says_so_next_to_the_choices(zoe_client, university, bundles):
    response = zoe_client.post(reverse("billing:buy_shares", args=[university.slug]), {})

    assert response.status_code == 400
    assert 'id="bundle-errors"' in response.content.decode()
    assert "Choose how many shares you want." in response.content.decode()
    assert not Purchase.objects.exists()


def test_a_bundle_no_longer_offered_is_refused(zoe_client, university, bundles):
    bundles[0].is_active = False
    bundles[0].save()

    response = zoe_client.post(
        reverse("billing:buy_shares", args=[university.slug]), {"bundle": bundles[0].pk}
    )

    assert response.status_code == 400
    assert "no longer offered" in response.content.decode()
    assert not Purchase.objects.exists()


def test_an_issuer_that_sells_no_bundles_says_so(zoe_client, university):
    response = zoe_client.get(reverse("billing:buy_shares", args=[university.slug]))

    assert response.status_code == 200
    assert "does not sell shares online" in response.content.decode()


def test_more_shares_of_an_unknown_issuer_is_404(zoe_client, ecole):
    assert zoe_client.get(reverse("billing:buy_shares", args=["nobody"])).status_code == 404
    # A receiving organization that issues nothing sells no shares.
    assert zoe_client.get(reverse("billing:buy_shares", args=[ecole.slug])).status_code == 404


def test_more_shares_needs_sign_in(client, university):
    response = client.get(reverse("billing:buy_shares", args=[university.slug]))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


# --- the return page ---------------------------------------------------------------------


def test_a_pending_purchase_says_it_is_waiting(zoe, zoe_client, university, bundles):
    from credshare.billing.services import purchase_start

    purchase = purchase_start(learner=zoe, provider="sandbox", bundle=bundles[0])

    response = zoe_client.get(reverse("billing:purchase", args=[purchase.public_id]))

    page = response.content.decode()
    assert "waiting for the payment provider" in page
    assert reverse("billing:purchase", args=[purchase.public_id]) in page  # reload link
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_back_from_the_providers_cancel_nothing_was_charged(zoe, zoe_client, bundles):
    from credshare.billing.services import purchase_start

    purchase = purchase_start(learner=zoe, provider="sandbox", bundle=bundles[0])

    url = reverse("billing:purchase", args=[purchase.public_id]) + "?cancelled=1"
    assert "Nothing was charged" in zoe_client.get(url).content.decode()


def test_somebody_elses_purchase_is_404(client, zoe, bob, bundles):
    from credshare.billing.services import purchase_start

    purchase = purchase_start(learner=zoe, provider="sandbox", bundle=bundles[0])
    client.force_login(bob)

    assert client.get(reverse("billing:purchase", args=[purchase.public_id])).status_code == 404


# --- Pay (collection fee) ----------------------------------------------------------------


@pytest.fixture
def locked(zoe, university):
    testing.set_fee_policy(university, collection_fee_cents=1500, tax_rate_basis_points=1300)
    return testing.make_document(zoe, university, "Diploma")


def test_pay_shows_the_fee_tax_and_total(zoe_client, locked):
    response = zoe_client.get(reverse("billing:pay_collection", args=[locked.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "$15.00" in page and "$1.95" in page and "$16.95" in page


def test_paying_the_collection_fee_unlocks_the_document(zoe_client, locked):
    response = zoe_client.post(reverse("billing:pay_collection", args=[locked.pk]))
    page = sandbox(zoe_client, response, "pay")

    assert "is unlocked" in page.content.decode()
    assert reverse("documents:detail", args=[locked.pk]) in page.content.decode()
    pdf = zoe_client.get(reverse("documents:view", args=[locked.pk]))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"


def test_a_declined_collection_payment_leaves_the_document_locked(zoe_client, locked):
    response = zoe_client.post(reverse("billing:pay_collection", args=[locked.pk]))
    page = sandbox(zoe_client, response, "decline")

    assert "Nothing was charged" in page.content.decode()
    assert zoe_client.get(reverse("documents:view", args=[locked.pk])).status_code == 403


def test_pay_for_a_document_with_nothing_to_pay_says_so(zoe_client, zoe_transcript):
    for response in (
        zoe_client.get(reverse("billing:pay_collection", args=[zoe_transcript.pk])),
        zoe_client.post(reverse("billing:pay_collection", args=[zoe_transcript.pk])),
    ):
        assert response.status_code == 400
        assert "no collection fee to pay" in response.content.decode()
    assert not Purchase.objects.exists()


def test_pay_for_somebody_elses_document_is_404(client, bob, locked):
    client.force_login(bob)

    assert client.get(reverse("billing:pay_collection", args=[locked.pk])).status_code == 404
    assert client.post(reverse("billing:pay_collection", args=[locked.pk])).status_code == 404
    assert not Purchase.objects.exists()
