from collections.abc import Iterable

from django.db.models import Sum

from credshare.accounts.models import User
from credshare.billing.models import CreditEntry, FeePolicy, Purchase
from credshare.network.models import Organization


def _charges_for_sharing(policy: FeePolicy | None) -> bool:
    # An issuer without a fee policy charges: sharing is free only when the issuer says so.
    return policy is None or not policy.sharing_is_free


def _sharing_policies(issuer_ids: set[int]) -> dict[int, FeePolicy]:
    policies = FeePolicy.objects.filter(issuer_id__in=issuer_ids).only(
        "issuer_id", "sharing_is_free", "free_shares"
    )
    return {policy.issuer_id: policy for policy in policies}


def issuers_charging_for_sharing(*, issuer_ids: Iterable[int]) -> set[int]:
    """The issuers among ISSUER_IDS whose documents use a share credit when shared."""
    issuer_ids = set(issuer_ids)
    policies = _sharing_policies(issuer_ids)
    return {i for i in issuer_ids if _charges_for_sharing(policies.get(i))}


def _balances(
    *, learner: User, issuer_ids: set[int], policies: dict[int, FeePolicy]
) -> dict[int, int]:
    """The issuers' free shares (from POLICIES) plus the sum of the learner's ledger."""
    balances = {i: policies[i].free_shares if i in policies else 0 for i in issuer_ids}
    rows = (
        CreditEntry.objects.filter(learner=learner, issuer_id__in=issuer_ids)
        .values("issuer_id")
        .annotate(balance=Sum("amount"))
    )
    for row in rows:
        balances[row["issuer_id"]] += row["balance"]
    return balances


def credit_balances(*, learner: User, issuer_ids: Iterable[int]) -> dict[int, int]:
    """The learner's share-credit balance with each issuer: the issuer's free shares plus the
    sum of the ledger (purchases and grants add, shares spend)."""
    issuer_ids = set(issuer_ids)
    return _balances(learner=learner, issuer_ids=issuer_ids, policies=_sharing_policies(issuer_ids))


def ledger_balance(*, learner: User, issuer_id: int) -> int:
    """The sum of the ledger alone, without free shares: what a refund can take back."""
    total = CreditEntry.objects.filter(learner=learner, issuer_id=issuer_id).aggregate(
        total=Sum("amount")
    )["total"]
    return total or 0


def locked_document_ids(*, documents: Iterable) -> set[int]:
    """The documents among DOCUMENTS whose issuer asks a collection fee not yet paid: their
    title shows, their contents and sharing stay locked. Documents need their issuer loaded."""
    documents = list(documents)
    issuer_ids = {document.issuer_id for document in documents}
    charging = set(
        FeePolicy.objects.filter(issuer_id__in=issuer_ids, collection_fee_cents__gt=0).values_list(
            "issuer_id", flat=True
        )
    )
    candidates = {d.pk for d in documents if d.issuer_id in charging}
    if not candidates:
        return set()
    paid = Purchase.objects.filter(
        kind=Purchase.Kind.COLLECTION, document_id__in=candidates, status=Purchase.Status.PAID
    ).values_list("document_id", flat=True)
    return candidates - set(paid)


class CreditNeed:
    """For one issuer whose documents are about to be shared: credits held and needed."""

    def __init__(self, issuer: Organization, balance: int):
        self.issuer = issuer
        self.balance = balance

    @property
    def is_covered(self) -> bool:
        return self.balance >= 1


def credit_needs_for_documents(*, learner: User, documents: Iterable) -> list[CreditNeed]:
    """One entry per issuer of DOCUMENTS that charges for sharing, with the learner's balance.
    Documents must have their issuer loaded (select_related) to avoid a query per document."""
    issuers = {document.issuer_id: document.issuer for document in documents}
    # One read of the policies says both who charges and how many free shares they give.
    policies = _sharing_policies(set(issuers))
    charging = {i for i in issuers if _charges_for_sharing(policies.get(i))}
    if not charging:
        return []
    balances = _balances(learner=learner, issuer_ids=charging, policies=policies)
    needs = [CreditNeed(issuers[issuer_id], balances[issuer_id]) for issuer_id in charging]
    return sorted(needs, key=lambda need: need.issuer.name)
