"""Two starts of the same collection fee's payment at the same moment, on PostgreSQL where
they really run at once: the second waits for the first and goes to the same open payment;
two duplicate payments completing at once are seen one after the other (one refunded)."""

import threading

import pytest
from django.db import connection, transaction

from credshare.billing.models import Purchase
from credshare.billing.providers import SandboxProvider
from credshare.billing.services import payment_event_apply, purchase_start
from credshare.core import testing

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL for real concurrency"
    ),
    pytest.mark.django_db(transaction=True),
]


def in_thread(work, errors: list, results: list | None = None) -> threading.Thread:
    def run():
        try:
            result = work()
            if results is not None:
                results.append(result)
        except Exception as error:  # reported by the test, never swallowed
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.fixture
def locked(zoe, university):
    testing.set_fee_policy(university, collection_fee_cents=1500)
    return testing.make_document(zoe, university, "Diploma of arts")


def test_a_start_racing_another_waits_and_returns_its_open_payment(zoe, locked):
    started, commit = threading.Event(), threading.Event()
    errors: list = []
    results: list = []

    def start_and_hold():
        with transaction.atomic():
            results.append(purchase_start(learner=zoe, provider="sandbox", document=locked))
            started.set()
            commit.wait(timeout=20)

    first = in_thread(start_and_hold, errors)
    assert started.wait(timeout=20)
    # The second start sees no open payment yet (the first is not committed): only the
    # database's constraint can stop it from opening a second one.
    second = in_thread(
        lambda: purchase_start(learner=zoe, provider="sandbox", document=locked), errors, results
    )
    blocked = testing.another_connection_waits_for_a_lock()
    commit.set()
    first.join(timeout=30)
    second.join(timeout=30)

    assert errors == []
    assert blocked
    assert len({purchase.pk for purchase in results}) == 1
    assert Purchase.objects.filter(document=locked).count() == 1


def test_two_duplicate_payments_completing_at_once_leave_one_paid(zoe, locked):
    # Two payments of the same fee, both open at the provider (the first was cancelled here
    # before the second started), both reported paid at the same moment.
    old = purchase_start(learner=zoe, provider="sandbox", document=locked)
    payment_event_apply(
        provider="sandbox", event=SandboxProvider.button_event(purchase=old, kind="cancelled")
    )
    new = purchase_start(learner=zoe, provider="sandbox", document=locked)
    errors: list = []
    barrier = threading.Barrier(2)

    def complete(purchase):
        def work():
            event = SandboxProvider.button_event(purchase=purchase, kind="completed")
            barrier.wait(timeout=10)
            payment_event_apply(provider="sandbox", event=event)

        return work

    threads = [in_thread(complete(old), errors), in_thread(complete(new), errors)]
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    statuses = sorted(Purchase.objects.filter(document=locked).values_list("status", flat=True))
    assert statuses == [Purchase.Status.PAID, Purchase.Status.REFUNDED]
    assert Purchase.objects.get(status=Purchase.Status.REFUNDED).duplicate_of.status == "paid"
