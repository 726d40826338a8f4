from collections.abc import Iterable

from django.db.models import Sum

from credshare.accounts.models import User
from credshare.billing.models import CreditEntry, FeePolicy
from credshare.network.models import Organization


def issuers_charging_for_sharing(*, issuer_ids: Iterable[int]) -> set[int]:
    """The issuers among ISSUER_IDS whose documents use a share credit when shared.
    An issuer without a fee policy charges: sharing is free only when the issuer says so."""
    issuer_ids = set(issuer_ids)
    free = FeePolicy.objects.filter(issuer_id__in=issuer_ids, sharing_is_free=True).values_list(
        "issuer_id", flat=True
    )
    return issuer_ids - set(free)


def credit_balances(*, learner: User, issuer_ids: Iterable[int]) -> dict[int, int]:
    """The learner's share-credit balance with each issuer, summed from the ledger."""
    issuer_ids = set(issuer_ids)
    rows = (
        CreditEntry.objects.filter(learner=learner, issuer_id__in=issuer_ids)
        .values("issuer_id")
        .annotate(balance=Sum("amount"))
    )
    balances = dict.fromkeys(issuer_ids, 0)
    balances.update({row["issuer_id"]: row["balance"] for row in rows})
    return balances


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
    charging = issuers_charging_for_sharing(issuer_ids=issuers)
    if not charging:
        return []
    balances = credit_balances(learner=learner, issuer_ids=charging)
    needs = [CreditNeed(issuers[issuer_id], balances[issuer_id]) for issuer_id in charging]
    return sorted(needs, key=lambda need: need.issuer.name)
