import logging
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credshare.accounts.models import User
from credshare.audit.services import purchase_audit_record
from credshare.billing.models import CreditEntry, FeePolicy, PaymentEvent, Purchase, ShareBundle
from credshare.billing.selectors import credit_balances, locked_document_ids
from credshare.core.errors import ApplicationError
from credshare.documents.models import Document
from credshare.network.models import Organization


class BillingError(ApplicationError):
    pass


@dataclass(frozen=True)
class ProviderEvent:
    """A payment provider's news about a purchase, in our terms. KIND is one of "completed",
    "failed", "cancelled", "refunded". The sandbox's buttons and Stripe's webhooks both end up
    as one of these, applied by payment_event_apply."""

    event_id: str
    kind: str
    purchase_public_id: uuid.UUID | None = None
    session_id: str = ""


@transaction.atomic
def credit_grant(
    *, learner: User, issuer: Organization, amount: int, note: str = ""
) -> CreditEntry:
    """Staff give a learner free share credits for one issuer's documents."""
    if amount < 1:
        raise BillingError(_("A grant adds at least one share."), code="bad_amount")
    return CreditEntry.objects.create(
        learner=learner, issuer=issuer, kind=CreditEntry.Kind.GRANT, amount=amount, note=note
    )


def _policy(issuer: Organization) -> FeePolicy:
    return FeePolicy.objects.filter(issuer=issuer).first() or FeePolicy(issuer=issuer)


def purchase_start(
    *,
    learner: User,
    provider: str,
    bundle: ShareBundle | None = None,
    document: Document | None = None,
) -> Purchase:
    """A pending purchase of a bundle of share credits, or of a document's collection fee,
    with its amounts fixed from the issuer's current prices and tax rate.

    A collection fee has at most one open (pending) payment: starting again (a second tab, a
    double click, two requests at the same moment) returns the open one, so the learner goes
    back to the same checkout instead of a second one. The database holds the rule
    (`one_open_payment_per_collection_fee`); of two starts at the same moment, the second
    waits for the first and then returns its purchase."""
    if (bundle is None) == (document is None):
        raise ValueError("A purchase is either a bundle or a collection fee")
    if bundle is not None:
        if not bundle.is_active:
            raise BillingError(_("This bundle is no longer offered."), code="bundle_inactive")
        # Two bundles bought in two tabs are two purchases on purpose: each pays for its own
        # credits, so nothing is paid twice for one thing.
        return _purchase_create(
            learner=learner,
            provider=provider,
            issuer=bundle.issuer,
            kind=Purchase.Kind.BUNDLE,
            bundle=bundle,
            credits=bundle.quantity,
            subtotal=bundle.price_cents,
        )
    if document.learner_id != learner.pk:
        raise BillingError(_("This is not your document."), code="not_yours")
    if document.pk not in locked_document_ids(documents=[document]):
        raise BillingError(_("This document has no collection fee to pay."), code="nothing_to_pay")
    open_payment = _open_collection_payment(document)
    if open_payment is not None:
        return open_payment
    try:
        with transaction.atomic():
            return _purchase_create(
                learner=learner,
                provider=provider,
                issuer=document.issuer,
                kind=Purchase.Kind.COLLECTION,
                document=document,
                credits=0,
                subtotal=_policy(document.issuer).collection_fee_cents,
            )
    except IntegrityError:
        # Another start for the same fee committed first: its payment is the open one.
        open_payment = _open_collection_payment(document)
        if open_payment is None:
            raise
        return open_payment


def _open_collection_payment(document: Document) -> Purchase | None:
    return Purchase.objects.filter(
        kind=Purchase.Kind.COLLECTION, document=document, status=Purchase.Status.PENDING
    ).first()


def _purchase_create(
    *,
    learner: User,
    provider: str,
    issuer: Organization,
    kind: str,
    credits: int,
    subtotal: int,
    bundle: ShareBundle | None = None,
    document: Document | None = None,
) -> Purchase:
    policy = _policy(issuer)
    tax = policy.tax_on(subtotal)
    return Purchase.objects.create(
        learner=learner,
        issuer=issuer,
        kind=kind,
        bundle=bundle,
        document=document,
        credits=credits,
        subtotal_cents=subtotal,
        tax_cents=tax,
        total_cents=subtotal + tax,
        currency=policy.currency,
        provider=provider,
    )


def _purchase_for(event: ProviderEvent, provider: str) -> Purchase | None:
    purchases = Purchase.objects.select_for_update().filter(provider=provider)
    if event.purchase_public_id is not None:
        return purchases.filter(public_id=event.purchase_public_id).first()
    if event.session_id:
        return purchases.filter(provider_session_id=event.session_id).first()
    return None


def payment_event_apply(*, provider: str, event: ProviderEvent) -> Purchase | None:
    """Apply a provider's event to its purchase, once: the event id is recorded in the same
    transaction as the ledger entries, so the same event delivered again (or at the same
    time) changes nothing. Events may come out of order; the final state is still right:
    a refund wins over a later "completed", and a failure never undoes a payment."""
    try:
        with transaction.atomic():
            PaymentEvent.objects.create(provider=provider, event_id=event.event_id, kind=event.kind)
            purchase = _purchase_for(event, provider)
            if purchase is None:
                return None
            PaymentEvent.objects.filter(provider=provider, event_id=event.event_id).update(
                purchase=purchase
            )
            _transition(purchase, event.kind)
            return purchase
    except IntegrityError:
        # Already applied (a retry, or the same event racing in): nothing more to do.
        return Purchase.objects.filter(events__event_id=event.event_id).first()


def _transition(purchase: Purchase, kind: str) -> None:
    now = timezone.now()
    status = purchase.status
    paid_now = False  # Set when this event is what made the purchase paid: email the receipt.
    if kind == "completed" and status in {
        Purchase.Status.PENDING,
        Purchase.Status.FAILED,
        Purchase.Status.CANCELLED,
    }:
        purchase.status, purchase.paid_at = Purchase.Status.PAID, now
        paid_now = True
        if purchase.kind == Purchase.Kind.COLLECTION:
            purchase.duplicate_of = _paid_collection_payment(purchase)
        if purchase.kind == Purchase.Kind.BUNDLE:
            CreditEntry.objects.create(
                learner=purchase.learner,
                issuer=purchase.issuer,
                kind=CreditEntry.Kind.PURCHASE,
                amount=purchase.credits,
                purchase=purchase,
            )
    elif kind in {"failed", "cancelled"} and status == Purchase.Status.PENDING:
        purchase.status = Purchase.Status.FAILED if kind == "failed" else Purchase.Status.CANCELLED
    elif kind == "refunded" and status != Purchase.Status.REFUNDED:
        if status == Purchase.Status.PAID and purchase.kind == Purchase.Kind.BUNDLE:
            _reverse_unused_credits(purchase)
        purchase.status, purchase.refunded_at = Purchase.Status.REFUNDED, now
    else:
        return
    purchase.save(update_fields=["status", "paid_at", "refunded_at", "duplicate_of"])
    purchase_audit_record(purchase=purchase)
    if paid_now and purchase.duplicate_of_id is not None:
        _duplicate_refund(purchase)
        return
    if paid_now:
        # The learner's receipt by email, queued in this transaction: applied once with the
        # event, and never sent if the payment rolls back. (Imported here: receipts imports
        # the templatetags, which import sharing, which imports this module.)
        from credshare.billing.receipts import receipt_email_queue

        receipt_email_queue(purchase)


def _paid_collection_payment(purchase: Purchase) -> Purchase | None:
    """Another payment of PURCHASE's collection fee already paid, if any: the fee's first
    payment, which PURCHASE would pay a second time. The document's row is locked first, so
    that two payments of the same fee completing at the same moment are seen one after the
    other: the second finds the first."""
    Document.objects.select_for_update(no_key=True).only("pk").get(pk=purchase.document_id)
    return (
        Purchase.objects.filter(
            kind=Purchase.Kind.COLLECTION,
            document_id=purchase.document_id,
            status=Purchase.Status.PAID,
            duplicate_of__isnull=True,
        )
        .exclude(pk=purchase.pk)
        .order_by("paid_at", "pk")
        .first()
    )


def _duplicate_refund(purchase: Purchase) -> None:
    """Refund a payment of a collection fee that was already paid (two checkouts of the same
    fee, both paid), through its provider. The payment stays recorded (paid, then refunded,
    both in the audit log, the receipt shows both). When the provider cannot refund now, the
    payment stays paid, marked as a duplicate, and the issuer's staff see it to refund."""
    from credshare.billing.providers import ProviderUnavailable, payment_provider

    try:
        with transaction.atomic():
            event = payment_provider(purchase.provider).refund(purchase=purchase)
            if event is not None:
                payment_event_apply(provider=purchase.provider, event=event)
    except (ProviderUnavailable, BillingError):
        logging.getLogger(__name__).exception(
            "automatic refund of duplicate payment %s failed; it stays paid", purchase.pk
        )
        return
    purchase.refresh_from_db()


def _reverse_unused_credits(purchase: Purchase) -> None:
    """Take back what is left of a refunded bundle: its credits, or fewer if some were spent
    already (shares made stay made)."""
    User.objects.select_for_update(no_key=True).only("pk").get(pk=purchase.learner_id)
    # The whole balance, free shares included: a free share spent earlier leaves the ledger
    # below what the learner holds, and must not shield the refunded credits.
    held = credit_balances(learner=purchase.learner, issuer_ids=[purchase.issuer_id])[
        purchase.issuer_id
    ]
    unused = min(purchase.credits, held)
    if unused > 0:
        CreditEntry.objects.create(
            learner=purchase.learner,
            issuer=purchase.issuer,
            kind=CreditEntry.Kind.REVERSAL,
            amount=-unused,
            purchase=purchase,
        )


# Issuer staff: fee policy, bundles and refunds. The views check who may do what.

CURRENCIES = ("CAD", "USD", "EUR")
MAX_FREE_SHARES = 1000
MAX_COLLECTION_FEE_CENTS = 1_000_000  # $10,000.00
MAX_TAX_RATE_BASIS_POINTS = 5000  # 50 %
MAX_BUNDLE_QUANTITY = 1000
MAX_BUNDLE_PRICE_CENTS = 1_000_000


@transaction.atomic
def fee_policy_update(
    *,
    issuer: Organization,
    sharing_is_free: bool,
    free_shares: int,
    collection_fee_cents: int,
    currency: str,
    tax_rate_basis_points: int,
) -> FeePolicy:
    """Set the issuer's fee policy, creating it if the issuer had none. New prices apply to
    purchases started from now on; purchases already started keep theirs."""
    if not issuer.is_issuer:
        raise BillingError(_("Only an issuing organization has a fee policy."), code="not_issuer")
    if currency not in CURRENCIES:
        raise BillingError(
            _("Choose a currency from the list."), code="bad_currency", field="currency"
        )
    limits = [
        ("free_shares", free_shares, MAX_FREE_SHARES),
        ("collection_fee", collection_fee_cents, MAX_COLLECTION_FEE_CENTS),
        ("tax_rate", tax_rate_basis_points, MAX_TAX_RATE_BASIS_POINTS),
    ]
    for field, value, maximum in limits:
        if not 0 <= value <= maximum:
            raise BillingError(_("This amount is out of range."), code="out_of_range", field=field)
    policy, _created = FeePolicy.objects.select_for_update().update_or_create(
        issuer=issuer,
        defaults={
            "sharing_is_free": sharing_is_free,
            "free_shares": 0 if sharing_is_free else free_shares,
            "collection_fee_cents": collection_fee_cents,
            "currency": currency,
            "tax_rate_basis_points": tax_rate_basis_points,
        },
    )
    return policy


@transaction.atomic
def bundle_add(*, issuer: Organization, quantity: int, price_cents: int) -> ShareBundle:
    """Offer a new bundle of QUANTITY shares at PRICE_CENTS. One bundle per quantity: to
    change a price, deactivate the bundle (purchases keep pointing at it)."""
    if not issuer.is_issuer:
        raise BillingError(_("Only an issuing organization sells shares."), code="not_issuer")
    if not 1 <= quantity <= MAX_BUNDLE_QUANTITY:
        raise BillingError(_("This number is out of range."), code="out_of_range", field="quantity")
    if not 1 <= price_cents <= MAX_BUNDLE_PRICE_CENTS:
        raise BillingError(_("This amount is out of range."), code="out_of_range", field="price")
    duplicate = BillingError(
        _("You already have a bundle of this many shares."), code="duplicate", field="quantity"
    )
    if ShareBundle.objects.filter(issuer=issuer, quantity=quantity).exists():
        raise duplicate
    try:
        with transaction.atomic():
            return ShareBundle.objects.create(
                issuer=issuer, quantity=quantity, price_cents=price_cents
            )
    except IntegrityError:
        # The same bundle added at the same moment by someone else.
        raise duplicate from None


@transaction.atomic
def bundle_set_active(*, bundle: ShareBundle, is_active: bool) -> ShareBundle:
    """Offer a bundle again, or stop offering it (purchases already started still complete)."""
    ShareBundle.objects.filter(pk=bundle.pk).update(is_active=is_active)
    bundle.is_active = is_active
    return bundle


@transaction.atomic
def purchase_refund(*, purchase: Purchase, by: User) -> Purchase:
    """Refund a paid purchase through its payment provider. When the provider answers at once
    (the sandbox) its event is applied here: the purchase is refunded and the learner's unused
    credits from it are reversed. Otherwise (Stripe) the provider's webhook reports it later,
    and the purchase stays paid until then. The row stays locked meanwhile, so that two
    refunds of the same purchase cannot both go to the provider."""
    import logging

    from credshare.billing.providers import payment_provider

    purchase = Purchase.objects.select_for_update().get(pk=purchase.pk)
    if purchase.status != Purchase.Status.PAID:
        raise BillingError(_("Only a paid purchase can be refunded."), code="not_paid")
    event = payment_provider(purchase.provider).refund(purchase=purchase)
    logging.getLogger(__name__).info("refund of purchase %s asked by user %s", purchase.pk, by.pk)
    if event is not None:
        payment_event_apply(provider=purchase.provider, event=event)
        purchase.refresh_from_db()
    return purchase
