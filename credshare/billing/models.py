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
    currency = models.CharField(_("currency"), max_length=3, default="CAD")

    class Meta:
        verbose_name = _("fee policy")
        verbose_name_plural = _("fee policies")

    def __str__(self) -> str:
        return f"{self.issuer}"


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
    note = models.CharField(_("note"), max_length=300, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("credit entry")
        verbose_name_plural = _("credit entries")
        indexes = [models.Index(fields=["learner", "issuer"])]

    def __str__(self) -> str:
        return f"{self.learner} {self.issuer} {self.amount:+d} ({self.kind})"
