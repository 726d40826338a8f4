from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q, Sum

from credshare.accounts.models import User
from credshare.billing.models import CreditEntry, FeePolicy, Purchase
from credshare.documents.models import Document
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


def fee_unpaid(document: str = "") -> Q:
    """The condition "this document's collection fee is asked and not paid", on a query of
    documents (DOCUMENT empty) or of rows that reach a document through the path DOCUMENT
    (e.g. "document__" for its versions): one SQL condition, so that the hottest path can
    read it in the query it already makes. `locked_document_ids` is built on it."""
    asked = FeePolicy.objects.filter(
        issuer_id=OuterRef(f"{document}issuer_id"), collection_fee_cents__gt=0
    )
    paid = Purchase.objects.filter(
        kind=Purchase.Kind.COLLECTION,
        document_id=OuterRef(f"{document}pk"),
        status=Purchase.Status.PAID,
    )
    return Q(Exists(asked)) & ~Q(Exists(paid))


def locked_document_ids(*, documents: Iterable) -> set[int]:
    """The documents among DOCUMENTS whose issuer asks a collection fee not yet paid: their
    title shows, their contents and sharing stay locked. One query, however many documents.

    The one rule for every path to a document's contents or data (its PDFs, its credential,
    its transcript record): the learner's pages and downloads, the privacy export, the
    recipients' pages and downloads (inbox, email and link shares, the API). A document
    shared before its fee applied, or whose payment was refunded, is locked for its
    recipients too. Each path maps the answer to its own output (a page, an API error, a
    line in the export); none decides for itself."""
    ids = {document.pk for document in documents}
    if not ids:
        return set()
    return set(Document.objects.filter(fee_unpaid(), pk__in=ids).values_list("pk", flat=True))


def document_is_locked(document) -> bool:
    """Whether DOCUMENT's contents are locked until its collection fee is paid
    (`locked_document_ids` for one document)."""
    return bool(locked_document_ids(documents=[document]))


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
