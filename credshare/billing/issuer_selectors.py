"""Reads for the issuer staff's billing pages: who may see them, purchases and revenue."""

import datetime
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from credshare.accounts.models import User
from credshare.billing.models import FeePolicy, Purchase, ShareBundle
from credshare.network.models import Membership, Organization

RECENT_DAYS = 30


def organizations_issuing_for(*, user: User) -> QuerySet[Organization]:
    """The issuing organizations USER is a member of (staff or admin)."""
    return Organization.objects.filter(memberships__user=user, is_issuer=True)


@dataclass(frozen=True)
class IssuerAccess:
    organization: Organization
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == Membership.Role.ADMIN


def issuer_access_or_404(*, user: User, slug: str) -> IssuerAccess:
    """USER's access to the issuing organization SLUG, in one query; 404 for anyone who is
    not one of its members, and for an organization that does not issue documents."""
    membership = (
        Membership.objects.select_related("organization")
        .filter(user=user, organization__slug=slug, organization__is_issuer=True)
        .first()
    )
    if membership is None:
        raise Http404
    return IssuerAccess(organization=membership.organization, role=membership.role)


def fee_policy_of(*, issuer: Organization) -> FeePolicy:
    """The issuer's fee policy, or an unsaved one with the defaults when it has none."""
    return FeePolicy.objects.filter(issuer=issuer).first() or FeePolicy(issuer=issuer)


def bundles_of(*, issuer: Organization) -> QuerySet[ShareBundle]:
    return ShareBundle.objects.filter(issuer=issuer).order_by("quantity")


def bundle_of_issuer_or_404(*, issuer: Organization, pk: int) -> ShareBundle:
    return get_object_or_404(ShareBundle, issuer=issuer, pk=pk)


def purchases_of_issuer(*, issuer: Organization) -> QuerySet[Purchase]:
    """The issuer's purchases, newest first, with what each row shows loaded."""
    return (
        Purchase.objects.filter(issuer=issuer)
        .select_related("learner", "document")
        .order_by("-created", "-pk")
    )


def purchase_of_issuer_or_404(*, issuer: Organization, pk: int) -> Purchase:
    return get_object_or_404(Purchase, issuer=issuer, pk=pk)


@dataclass(frozen=True)
class Revenue:
    """One currency's revenue: paid, refunded and their difference, in cents."""

    currency: str
    paid_cents: int
    refunded_cents: int
    net_cents: int


def revenue_of_issuer(
    *, issuer: Organization, since: datetime.datetime | None = None
) -> list[Revenue]:
    """The issuer's revenue per currency, summed by the database: what was paid (by payment
    date) minus what was refunded (by refund date), since SINCE or for all time. A purchase
    refunded without ever being paid counts in neither."""
    was_paid = Q(paid_at__isnull=False, status__in=[Purchase.Status.PAID, Purchase.Status.REFUNDED])
    refunded = Q(paid_at__isnull=False, status=Purchase.Status.REFUNDED)
    if since is not None:
        was_paid &= Q(paid_at__gte=since)
        refunded &= Q(refunded_at__gte=since)
    rows = (
        Purchase.objects.filter(issuer=issuer, paid_at__isnull=False)
        .values("currency")
        .annotate(
            paid=Coalesce(Sum("total_cents", filter=was_paid), Value(0)),
            refunded=Coalesce(Sum("total_cents", filter=refunded), Value(0)),
        )
        .annotate(net=F("paid") - F("refunded"))
        .order_by("currency")
    )
    return [
        Revenue(row["currency"], row["paid"], row["refunded"], row["net"])
        for row in rows
        if row["paid"] or row["refunded"]
    ]


def recent_since(now: datetime.datetime | None = None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(days=RECENT_DAYS)
