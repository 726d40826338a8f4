"""Stripe's webhook: signed payloads built offline with Stripe's library, posted to our
endpoint. Verified events are applied once each; forged, stale or malformed ones change
nothing."""

import json
import time

import pytest
from django.urls import reverse

from credshare.billing.models import CreditEntry, PaymentEvent, Purchase
from credshare.billing.selectors import credit_balances
from credshare.billing.services import purchase_start
from credshare.billing.tests.stripe_events import (
    WEBHOOK_SECRET,
    deliver,
    post_webhook,
    refund_event,
    session_event,
    signed,
)
from credshare.core import testing


@pytest.fixture(autouse=True)
def _stripe_settings(settings):
    settings.CREDSHARE_PAYMENT_PROVIDER = "stripe"
    settings.CREDSHARE_STRIPE_SECRET_KEY = "sk_test_credshare"
    settings.CREDSHARE_STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET


@pytest.fixture
def purchase(zoe, university):
    bundle = testing.make_bundle(university, quantity=3, price_cents=2500)
    purchase = purchase_start(learner=zoe, provider="stripe", bundle=bundle)
    purchase.provider_session_id = "cs_test_abc"
    purchase.save()
    return purchase


def balance(learner, issuer):
    return credit_balances(learner=learner, issuer_ids=[issuer.pk])[issuer.pk]


def purchase_entries(purchase):
    return CreditEntry.objects.filter(purchase=purchase, kind=CreditEntry.Kind.PURCHASE).count()


def assert_nothing_changed(purchase, zoe, university):
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PENDING
    assert balance(zoe, university) == 1
    assert PaymentEvent.objects.count() == 0


def test_a_completed_session_credits_the_bundle_once(client, zoe, university, purchase):
    response = deliver(client, session_event("checkout.session.completed", purchase))
    assert response.status_code == 200
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID
    assert purchase_entries(purchase) == 1
    assert balance(zoe, university) == 1 + 3


def test_a_payment_completed_after_the_learner_closed_the_tab_is_credited(
    client, zoe, university, purchase
):
    # Nobody signed in, no return page visited: Stripe's webhook alone.
    client.logout()
    deliver(client, session_event("checkout.session.completed", purchase))
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID
    assert balance(zoe, university) == 4


def test_the_same_event_delivered_ten_times_is_applied_once(client, zoe, university, purchase):
    payload, header = signed(session_event("checkout.session.completed", purchase))
    for _ in range(10):
        assert post_webhook(client, payload, header).status_code == 200
    assert purchase_entries(purchase) == 1
    assert PaymentEvent.objects.count() == 1
    assert balance(zoe, university) == 4


def test_a_refund_before_its_completion_ends_refunded_without_credits(
    client, zoe, university, purchase
):
    assert deliver(client, refund_event(purchase)).status_code == 200
    assert deliver(client, session_event("checkout.session.completed", purchase)).status_code == 200
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.REFUNDED
    assert not CreditEntry.objects.filter(purchase=purchase).exists()
    assert balance(zoe, university) == 1


def test_a_refund_reverses_only_the_unused_credits(client, zoe, university, purchase, ecole):
    deliver(client, session_event("checkout.session.completed", purchase))
    documents = [testing.make_document(zoe, university, f"Transcript {n}") for n in range(2)]
    for document in documents:  # two of the four credits spent
        testing.share_by_link(zoe, [document])
    assert balance(zoe, university) == 2

    assert deliver(client, refund_event(purchase)).status_code == 200

    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.REFUNDED
    reversal = CreditEntry.objects.get(purchase=purchase, kind=CreditEntry.Kind.REVERSAL)
    assert reversal.amount == -2
    assert balance(zoe, university) == 0


def test_a_failed_delayed_payment_credits_nothing(client, zoe, university, purchase):
    # A delayed payment method: completed but unpaid, then failed.
    deliver(client, session_event("checkout.session.completed", purchase, payment_status="unpaid"))
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PENDING
    deliver(client, session_event("checkout.session.async_payment_failed", purchase))
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.FAILED
    assert balance(zoe, university) == 1


def test_a_succeeded_delayed_payment_credits(client, zoe, university, purchase):
    deliver(client, session_event("checkout.session.completed", purchase, payment_status="unpaid"))
    deliver(client, session_event("checkout.session.async_payment_succeeded", purchase))
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID
    assert balance(zoe, university) == 4


def test_an_expired_session_is_cancelled(client, zoe, university, purchase):
    deliver(client, session_event("checkout.session.expired", purchase))
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.CANCELLED
    assert balance(zoe, university) == 1


def test_a_late_failure_never_undoes_a_payment(client, zoe, university, purchase):
    deliver(client, session_event("checkout.session.completed", purchase))
    deliver(client, session_event("checkout.session.async_payment_failed", purchase))
    deliver(client, session_event("checkout.session.expired", purchase))
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID
    assert balance(zoe, university) == 4


def test_a_partial_refund_is_acknowledged_and_ignored(client, zoe, university, purchase):
    deliver(client, session_event("checkout.session.completed", purchase))
    assert deliver(client, refund_event(purchase, refunded=False)).status_code == 200
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID


def test_other_event_types_are_acknowledged_and_ignored(client, purchase, zoe, university):
    event = session_event("payment_intent.created", purchase)
    assert deliver(client, event).status_code == 200
    assert_nothing_changed(purchase, zoe, university)


def test_an_event_for_a_purchase_we_do_not_know_changes_nothing(client, purchase, zoe, university):
    event = session_event("checkout.session.completed", purchase)
    event["data"]["object"].update(
        id="cs_other", client_reference_id="not-ours", metadata={"purchase": "not-ours"}
    )
    assert deliver(client, event).status_code == 200
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PENDING
    assert balance(zoe, university) == 1


def rejection(response):
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    return response.json()["error"]["code"]


def test_a_forged_signature_is_refused(client, zoe, university, purchase):
    event = session_event("checkout.session.completed", purchase)
    response = deliver(client, event, secret="whsec_not_the_right_one")
    assert rejection(response) == "bad_signature"
    assert response.json()["error"]["message"]
    assert_nothing_changed(purchase, zoe, university)


def test_a_tampered_body_is_refused(client, zoe, university, purchase):
    payload, header = signed(session_event("checkout.session.completed", purchase))
    tampered = payload.replace('"paid"', '"paid" ')
    assert rejection(post_webhook(client, tampered, header)) == "bad_signature"
    assert_nothing_changed(purchase, zoe, university)


@pytest.mark.parametrize("header", [None, "", "garbage", "t=notanumber,v1=abc", "t=123"])
def test_a_missing_or_unreadable_signature_is_refused(client, zoe, university, purchase, header):
    payload, _ = signed(session_event("checkout.session.completed", purchase))
    assert rejection(post_webhook(client, payload, header)) == "bad_signature"
    assert_nothing_changed(purchase, zoe, university)


def test_a_stale_event_is_refused_even_with_a_good_signature(client, zoe, university, purchase):
    event = session_event("checkout.session.completed", purchase)
    response = deliver(client, event, timestamp=int(time.time()) - 301)
    assert rejection(response) == "stale"
    assert_nothing_changed(purchase, zoe, university)


def test_an_event_within_the_tolerance_is_accepted(client, purchase):
    event = session_event("checkout.session.completed", purchase)
    assert deliver(client, event, timestamp=int(time.time()) - 240).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        "not json at all",
        "[]",
        json.dumps({"id": "evt_1", "object": "event", "type": "checkout.session.completed"}),
        json.dumps({"object": "event", "type": "x", "data": {"object": {}}}),
    ],
)
def test_a_malformed_body_is_refused(client, zoe, university, purchase, body):
    assert rejection(deliver(client, body)) == "malformed"
    assert_nothing_changed(purchase, zoe, university)


def test_a_body_that_is_not_utf8_is_refused(client, zoe, university, purchase):
    response = client.post(
        reverse("payments:stripe_webhook"),
        b"\xff\xfe{}",
        content_type="application/json",
        headers={"Stripe-Signature": "t=1,v1=00"},
    )
    assert response.status_code == 400
    assert_nothing_changed(purchase, zoe, university)


def test_a_huge_body_is_refused(client, zoe, university, purchase):
    event = session_event("checkout.session.completed", purchase)
    event["padding"] = "x" * 70_000
    response = deliver(client, event)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert_nothing_changed(purchase, zoe, university)


def test_the_webhook_takes_post_only(client):
    assert client.get(reverse("payments:stripe_webhook")).status_code == 405


def test_without_a_webhook_secret_nothing_is_trusted(client, settings, zoe, university, purchase):
    settings.CREDSHARE_STRIPE_WEBHOOK_SECRET = ""
    response = deliver(client, session_event("checkout.session.completed", purchase))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "not_configured"
    assert_nothing_changed(purchase, zoe, university)
