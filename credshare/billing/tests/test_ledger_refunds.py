"""What a refunded bundle takes back from the ledger: its credits still unused, never the
shares already made, never more than the bundle gave."""

import pytest

from credshare.billing.models import CreditEntry, FeePolicy, Purchase
from credshare.billing.selectors import credit_balances
from credshare.billing.services import ProviderEvent, payment_event_apply, purchase_start
from credshare.core import testing


def balance(learner, issuer):
    return credit_balances(learner=learner, issuer_ids=[issuer.pk])[issuer.pk]


def apply(purchase, kind, event_id=None):
    event = ProviderEvent(
        event_id=event_id or f"{kind}_{purchase.public_id}",
        kind=kind,
        purchase_public_id=purchase.public_id,
    )
    return payment_event_apply(provider="sandbox", event=event)


@pytest.fixture
def learner(db):
    return testing.make_user("ana@example.org", "Ana Learner")


@pytest.fixture
def bought(learner, university):
    bundle = testing.make_bundle(university, quantity=3, price_cents=2500)
    purchase = purchase_start(learner=learner, provider="sandbox", bundle=bundle)
    apply(purchase, "completed")
    return purchase


def share_times(learner, issuer, count):
    for n in range(count):
        testing.share_by_link(learner, [testing.make_document(learner, issuer, f"Doc {n}")])


def reversal(purchase):
    return CreditEntry.objects.get(purchase=purchase, kind=CreditEntry.Kind.REVERSAL).amount


def test_an_unused_bundle_is_taken_back_whole(learner, university, bought):
    apply(bought, "refunded")
    assert reversal(bought) == -3
    assert balance(learner, university) == 0


def test_shares_made_stay_made_and_only_the_rest_is_taken_back(learner, university, bought):
    share_times(learner, university, 2)
    apply(bought, "refunded")
    assert reversal(bought) == -1
    assert balance(learner, university) == 0


def test_a_fully_spent_bundle_takes_nothing_back(learner, university, bought):
    share_times(learner, university, 3)
    apply(bought, "refunded")
    bought.refresh_from_db()
    assert bought.status == Purchase.Status.REFUNDED
    assert not CreditEntry.objects.filter(purchase=bought, kind=CreditEntry.Kind.REVERSAL).exists()
    assert balance(learner, university) == 0


def test_a_grant_is_not_taken_back(learner, university, bought):
    testing.give_credits(learner, university, 2)
    apply(bought, "refunded")
    assert reversal(bought) == -3
    assert balance(learner, university) == 2


def test_free_shares_used_before_the_purchase_do_not_shield_its_credits(learner, university):
    # Two free shares; one used, then a bundle of 3 bought: 1 free + 3 bought are left.
    FeePolicy.objects.filter(issuer=university).update(free_shares=2)
    share_times(learner, university, 1)
    bundle = testing.make_bundle(university, quantity=3, price_cents=2500)
    purchase = purchase_start(learner=learner, provider="sandbox", bundle=bundle)
    apply(purchase, "completed")
    assert balance(learner, university) == 4

    apply(purchase, "refunded")

    assert reversal(purchase) == -3
    assert balance(learner, university) == 1


def test_a_refund_applied_twice_reverses_once(learner, university, bought):
    apply(bought, "refunded", event_id="evt_r1")
    apply(bought, "refunded", event_id="evt_r2")
    assert CreditEntry.objects.filter(purchase=bought, kind=CreditEntry.Kind.REVERSAL).count() == 1
    assert balance(learner, university) == 0


def test_a_refund_of_a_pending_purchase_then_its_completion_credits_nothing(learner, university):
    bundle = testing.make_bundle(university, quantity=3, price_cents=2500)
    purchase = purchase_start(learner=learner, provider="sandbox", bundle=bundle)
    apply(purchase, "refunded")
    apply(purchase, "completed")
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.REFUNDED
    assert not CreditEntry.objects.filter(purchase=purchase).exists()
    assert balance(learner, university) == 0
