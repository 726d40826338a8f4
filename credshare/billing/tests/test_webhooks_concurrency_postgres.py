"""The same Stripe event delivered 10 times, 5 of them at once, on PostgreSQL where the
deliveries really run in parallel: applied once."""

import threading

import pytest
from django.db import connection
from django.test import Client

from credshare.billing.models import CreditEntry, PaymentEvent, Purchase
from credshare.billing.selectors import credit_balances
from credshare.billing.services import purchase_start
from credshare.billing.tests.stripe_events import (
    WEBHOOK_SECRET,
    post_webhook,
    session_event,
    signed,
)
from credshare.core import testing

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL for real concurrency"
    ),
    pytest.mark.django_db(transaction=True),
]


def test_the_same_event_ten_times_five_at_once_is_applied_once(settings, zoe, university):
    settings.CREDSHARE_STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    bundle = testing.make_bundle(university, quantity=3, price_cents=2500)
    purchase = purchase_start(learner=zoe, provider="stripe", bundle=bundle)
    payload, header = signed(session_event("checkout.session.completed", purchase))

    barrier = threading.Barrier(5)
    statuses = []

    def deliver_at_once():
        try:
            barrier.wait(timeout=30)
            statuses.append(post_webhook(Client(), payload, header).status_code)
        except Exception as error:  # reported by the assertion below, never swallowed
            statuses.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver_at_once) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for _ in range(5):  # then five retries, one after another
        statuses.append(post_webhook(Client(), payload, header).status_code)

    assert statuses == [200] * 10
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID
    assert (
        CreditEntry.objects.filter(purchase=purchase, kind=CreditEntry.Kind.PURCHASE).count() == 1
    )
    assert PaymentEvent.objects.count() == 1
    assert credit_balances(learner=zoe, issuer_ids=[university.pk])[university.pk] == 1 + 3
