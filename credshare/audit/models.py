"""The audit log: an append-only, hash-chained record of security events.

Rows are never updated or deleted: database triggers refuse it (migration 0002). Nothing here
points at another table with a database constraint, and no foreign key cascades: deleting a
user, a key or an organization must leave their history as it was (and could not touch it
anyway)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Event(models.TextChoices):
    SIGNED_IN = "auth.signed_in", _("Signed in")
    SIGN_IN_FAILED = "auth.sign_in_failed", _("Sign-in failed")
    MFA_ADDED = "mfa.added", _("Two-factor method added")
    MFA_REMOVED = "mfa.removed", _("Two-factor method removed")
    MFA_RESET = "mfa.reset", _("Recovery codes regenerated")
    SHARE_CREATED = "share.created", _("Share created")
    SHARE_OPENED = "share.opened", _("Share opened")
    SHARE_REVOKED = "share.revoked", _("Share revoked")
    DOCUMENT_ISSUED = "document.issued", _("Document issued")
    DOCUMENT_VERSIONED = "document.versioned", _("New version of a document")
    DOCUMENT_WITHDRAWN = "document.withdrawn", _("Document withdrawn")
    DOCUMENT_REVOKED = "document.revoked", _("Document revoked")
    DOCUMENT_CLAIMED = "document.claimed", _("Document claimed by the learner's account")
    ACCOUNT_CLOSED = "account.closed", _("Account closed")
    PAYMENT_COMPLETED = "payment.completed", _("Payment completed")
    PAYMENT_REFUNDED = "payment.refunded", _("Payment refunded")
    API_KEY_CREATED = "api_key.created", _("API key created")
    API_KEY_REVOKED = "api_key.revoked", _("API key revoked")
    MEMBER_INVITED = "member.invited", _("Staff member invited")
    MEMBER_INVITATION_REVOKED = "member.invitation_revoked", _("Staff invitation withdrawn")
    MEMBER_JOINED = "member.joined", _("Staff invitation accepted")
    MEMBER_INVITATION_DECLINED = "member.invitation_declined", _("Staff invitation declined")
    MEMBER_ROLE_CHANGED = "member.role_changed", _("Staff member's role changed")
    MEMBER_REMOVED = "member.removed", _("Staff member removed")


# What an entry's object_type (the target model's name) is called on a page.
OBJECT_TYPES = {
    "share": pgettext_lazy("audit object", "Share"),
    "document": pgettext_lazy("audit object", "Document"),
    "purchase": pgettext_lazy("audit object", "Purchase"),
    "apikey": pgettext_lazy("audit object", "API key"),
    "user": pgettext_lazy("audit object", "Account"),
    "invitation": pgettext_lazy("audit object", "Invitation"),
    "membership": pgettext_lazy("audit object", "Membership"),
}


class AuditEntry(models.Model):
    """One event. `hash` is the SHA-256 of the entry's fields and the previous entry's hash
    (credshare.audit.chain), so that changing, removing or inserting an entry anywhere but
    at the end breaks every hash after it."""

    class ActorKind(models.TextChoices):
        USER = "user", pgettext_lazy("audit actor", "Account")
        API_KEY = "api_key", pgettext_lazy("audit actor", "API key")
        # A request without a signed-in user or a key; no request at all (a worker, a command).
        VISITOR = "visitor", pgettext_lazy("audit actor", "Visitor")
        SYSTEM = "system", pgettext_lazy("audit actor", "System")

    sequence = models.PositiveBigIntegerField(_("sequence"), unique=True)
    at = models.DateTimeField(_("when"))
    event = models.CharField(_("event"), max_length=40, choices=Event.choices)
    actor_kind = models.CharField(_("actor"), max_length=16, choices=ActorKind.choices)
    # The account as it was: the link for the admin, the label for when the account is gone.
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    actor_api_key = models.UUIDField(_("API key"), null=True, blank=True)
    actor_label = models.CharField(_("who"), max_length=254, blank=True)
    object_type = models.CharField(_("object type"), max_length=40, blank=True)
    object_id = models.CharField(_("object"), max_length=64, blank=True)
    # Sorted ids of the organizations concerned; AuditEntryOrganization indexes them.
    organization_ids = models.JSONField(_("organizations"), default=list)
    # Text, not an inet: PostgreSQL would rewrite some IPv6 spellings and break the hash.
    ip = models.CharField(_("IP address"), max_length=45, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    details = models.JSONField(_("details"), default=dict)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-sequence"]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.event}"

    @property
    def object_type_label(self) -> str:
        return str(OBJECT_TYPES.get(self.object_type, self.object_type))

    @property
    def detail_items(self) -> list[tuple[str, str]]:
        """The details as (name, text) pairs for a page, lists joined."""
        return [
            (name, ", ".join(map(str, value)) if isinstance(value, list) else str(value))
            for name, value in sorted(self.details.items())
        ]


class AuditEntryOrganization(models.Model):
    """That ENTRY concerns ORGANIZATION: what its audit page lists. Append-only too, and
    checked against the entry's hashed `organization_ids` by `audit_verify`."""

    entry = models.ForeignKey(AuditEntry, on_delete=models.PROTECT, related_name="organizations")
    organization = models.ForeignKey(
        "network.Organization",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )

    class Meta:
        verbose_name = _("organization of an audit entry")
        verbose_name_plural = _("organizations of audit entries")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "entry"], name="audit_one_link_per_organization"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.entry_id} → {self.organization_id}"
