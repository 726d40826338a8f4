import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from credshare.network.models import Organization


class FeePolicy(models.Model):
    """What an issuer charges learners for sharing its documents."""

    issuer = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="fee_policy")
    sharing_is_free = models.BooleanField(
        _("sharing is free and unlimited"),
        default=False,
        help_text=_("When off, each share of this issuer's documents uses one share credit."),
    )
    free_shares = models.PositiveIntegerField(
        _("free shares per learner"),
        default=0,
        help_text=_("Each learner's first shares of your documents use no credit."),
    )
    collection_fee_cents = models.PositiveIntegerField(
        _("collection fee (cents)"),
        default=0,
        help_text=_("When set, a document's contents and sharing stay locked until it is paid."),
    )
    currency = models.CharField(_("currency"), max_length=3, default="CAD")
    tax_rate_basis_points = models.PositiveIntegerField(
        _("tax rate (hundredths of a percent)"),
        default=0,
        help_text=_("For example 1300 for 13 %."),
    )

    class Meta:
        verbose_name = _("fee policy")
        verbose_name_plural = _("fee policies")

    def __str__(self) -> str:
        return f"{self.issuer}"

    def tax_on(self, subtotal_cents: int) -> int:
        # Rounded half up to the cent, as receipts show it.
        return (subtotal_cents * self.tax_rate_basis_points + 5000) // 10000


class ShareBundle(models.Model):
    """A number of share credits an issuer sells at a price, e.g. 3 shares for $25."""

    issuer = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="bundles")
    quantity = models.PositiveIntegerField(_("shares"))
    price_cents = models.PositiveIntegerField(_("price (cents)"))
    is_active = models.BooleanField(_("offered"), default=True)

    class Meta:
        verbose_name = _("share bundle")
        verbose_name_plural = _("share bundles")
        ordering = ["issuer", "quantity"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "quantity"], name="one_bundle_per_size"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="bundle_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.issuer}: {self.quantity}"


class Purchase(models.Model):
    """A learner's payment to an issuer: a bundle of share credits, or a document's collection
    fee. Its status moves only through payment events (payment_event_apply)."""

    class Kind(models.TextChoices):
        BUNDLE = "bundle", _("Shares")
        COLLECTION = "collection", _("Collection fee")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Declined")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="purchases"
    )
    issuer = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="sales")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    bundle = models.ForeignKey(ShareBundle, on_delete=models.PROTECT, null=True, blank=True)
    document = models.ForeignKey(
        "documents.Document", on_delete=models.PROTECT, null=True, blank=True
    )
    credits = models.PositiveIntegerField(_("shares"), default=0)
    subtotal_cents = models.PositiveIntegerField(_("subtotal (cents)"))
    tax_cents = models.PositiveIntegerField(_("tax (cents)"))
    total_cents = models.PositiveIntegerField(_("total (cents)"))
    currency = models.CharField(_("currency"), max_length=3)
    provider = models.CharField(_("payment provider"), max_length=16)
    provider_session_id = models.CharField(max_length=255, blank=True, db_index=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("refunded"), null=True, blank=True)
    # Set when this payment of a collection fee succeeded at the provider although another
    # payment of the same fee already had: it is refunded automatically (services).
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")
        indexes = [
            models.Index(fields=["learner", "-created"]),
            models.Index(fields=["issuer", "-created"]),
        ]
        constraints = [
            # At most one open payment per collection fee: two tabs, or two starts at the same
            # moment, cannot send the learner to two checkouts of the same fee.
            models.UniqueConstraint(
                fields=["document"],
                condition=models.Q(kind="collection", status="pending"),
                name="one_open_payment_per_collection_fee",
            ),
        ]

    def __str__(self) -> str:
        return self.receipt_number

    @property
    def receipt_number(self) -> str:
        return f"R{self.created:%Y}-{self.pk:06d}" if self.pk and self.created else ""


class PaymentEvent(models.Model):
    """An event from a payment provider, kept so that each one is applied exactly once."""

    provider = models.CharField(max_length=16)
    event_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=32)
    purchase = models.ForeignKey(
        Purchase, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    received = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="event_applied_once")
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id}"


class CreditEntry(models.Model):
    """One line of a learner's share-credit ledger with one issuer. Never updated or deleted:
    the balance is the sum of the amounts."""

    class Kind(models.TextChoices):
        PURCHASE = "purchase", _("Purchase")
        SPEND = "spend", pgettext_lazy("ledger entry", "Share")
        REFUND = "refund", _("Refund")
        GRANT = "grant", _("Granted by staff")
        REVERSAL = "reversal", _("Reversal")

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="credit_entries"
    )
    issuer = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="credit_entries"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    amount = models.IntegerField(_("credits"))
    share = models.ForeignKey(
        "sharing.Share",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_entries",
    )
    purchase = models.ForeignKey(
        Purchase, on_delete=models.PROTECT, null=True, blank=True, related_name="credit_entries"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("credit entry")
        verbose_name_plural = _("credit entries")
        indexes = [models.Index(fields=["learner", "issuer"])]

    def __str__(self) -> str:
        return f"{self.learner} {self.issuer} {self.amount:+d} ({self.kind})"
