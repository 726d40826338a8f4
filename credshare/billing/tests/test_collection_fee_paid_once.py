"""A collection fee is paid once: a second checkout start (another tab, a double click) goes
back to the open payment instead of opening another; a duplicate payment that still succeeds
at the provider (a checkout left open from before) is refunded automatically, recorded,
audited and shown to the learner."""

from unittest import mock

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from credshare.audit.models import AuditEntry
from credshare.billing.models import Purchase
from credshare.billing.providers import ProviderUnavailable, SandboxProvider
from credshare.billing.services import payment_event_apply, purchase_start
from credshare.core import testing

pytestmark = pytest.mark.django_db


@pytest.fixture
def locked(zoe, university):
    testing.set_fee_policy(university, collection_fee_cents=1500)
    return testing.make_document(zoe, university, "Diploma of arts")


@pytest.fixture
def zoe_client(client, zoe):
    client.force_login(zoe)
    return client


def complete(purchase):
    event = SandboxProvider.button_event(purchase=purchase, kind="completed")
    return payment_event_apply(provider="sandbox", event=event)


def test_a_second_start_returns_the_open_payment(zoe, locked):
    first = purchase_start(learner=zoe, provider="sandbox", document=locked)
    second = purchase_start(learner=zoe, provider="sandbox", document=locked)

    assert second.pk == first.pk
    assert Purchase.objects.count() == 1


def test_two_tabs_posting_pay_reach_the_same_checkout_and_pay_once(zoe_client, locked):
    url = reverse("billing:pay_collection", args=[locked.pk])

    first = zoe_client.post(url)
    second = zoe_client.post(url)

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    [purchase] = Purchase.objects.all()
    zoe_client.post(first["Location"], {"action": "pay"})
    zoe_client.post(second["Location"], {"action": "pay"})
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID
    assert Purchase.objects.filter(status=Purchase.Status.PAID).count() == 1
    assert zoe_client.post(url).status_code == 400  # nothing left to pay


def test_the_database_refuses_a_second_open_payment_of_the_same_fee(zoe, locked):
    first = purchase_start(learner=zoe, provider="sandbox", document=locked)

    with pytest.raises(IntegrityError), transaction.atomic():
        Purchase.objects.create(
            learner=zoe,
            issuer=first.issuer,
            kind=Purchase.Kind.COLLECTION,
            document=locked,
            subtotal_cents=1500,
            tax_cents=0,
            total_cents=1500,
            currency="CAD",
            provider="sandbox",
        )


def test_a_new_payment_can_start_once_the_open_one_failed(zoe, locked):
    first = purchase_start(learner=zoe, provider="sandbox", document=locked)
    payment_event_apply(
        provider="sandbox", event=SandboxProvider.button_event(purchase=first, kind="failed")
    )

    second = purchase_start(learner=zoe, provider="sandbox", document=locked)

    assert second.pk != first.pk and second.status == Purchase.Status.PENDING


def old_checkout_and_new_one_both_paid(zoe, locked):
    """An old checkout cancelled (the learner gave up), a new one paid, then the old one's
    payment goes through at the provider after all."""
    old = purchase_start(learner=zoe, provider="sandbox", document=locked)
    payment_event_apply(
        provider="sandbox", event=SandboxProvider.button_event(purchase=old, kind="cancelled")
    )
    new = purchase_start(learner=zoe, provider="sandbox", document=locked)
    complete(new)
    complete(old)
    old.refresh_from_db()
    new.refresh_from_db()
    return old, new


def test_a_duplicate_payment_that_succeeds_is_refunded_automatically(zoe, locked):
    old, new = old_checkout_and_new_one_both_paid(zoe, locked)

    assert new.status == Purchase.Status.PAID and new.duplicate_of is None
    assert old.status == Purchase.Status.REFUNDED
    assert old.duplicate_of == new
    assert old.paid_at is not None and old.refunded_at is not None
    events = list(
        AuditEntry.objects.filter(object_id=str(old.public_id))
        .order_by("sequence")
        .values_list("event", "details")
    )
    assert [event for event, _ in events] == ["payment.completed", "payment.refunded"]
    assert all(details["duplicate_of"] == str(new.public_id) for _, details in events)


def test_the_learner_sees_the_duplicate_payment_refunded(zoe_client, zoe, locked):
    old, new = old_checkout_and_new_one_both_paid(zoe, locked)

    page = zoe_client.get(reverse("billing:purchase", args=[old.public_id])).content.decode()
    assert f"already paid (receipt {new.receipt_number})" in page
    assert "refunded automatically" in page
    assert zoe_client.get(reverse("billing:receipt", args=[old.public_id])).status_code == 200
    payments = zoe_client.get(reverse("billing:payments")).content.decode()
    assert "(paid twice)" in payments


def test_the_document_stays_unlocked_after_the_duplicate_is_refunded(zoe_client, zoe, locked):
    old_checkout_and_new_one_both_paid(zoe, locked)

    assert zoe_client.get(reverse("documents:download", args=[locked.pk])).status_code == 200


def test_a_duplicate_the_provider_cannot_refund_now_stays_paid_and_marked(zoe, locked):
    unavailable = ProviderUnavailable("down", code="provider_unavailable")
    with mock.patch.object(SandboxProvider, "refund", side_effect=unavailable):
        old, new = old_checkout_and_new_one_both_paid(zoe, locked)

    assert old.status == Purchase.Status.PAID
    assert old.duplicate_of == new
