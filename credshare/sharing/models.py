import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credshare.core.ranges import end_of_day
from credshare.documents.models import Document, DocumentVersion
from credshare.network.models import Organization


class ShareQuerySet(models.QuerySet["Share"]):
    def live(self) -> "ShareQuerySet":
        """Shares that still give access: not revoked and not past their expiry date."""
        today = timezone.localdate()
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_on__isnull=True) | Q(expires_on__gte=today)
        )


class Share(models.Model):
    """A learner's grant of access to one or more of their documents."""

    class Channel(models.TextChoices):
        ORGANIZATION = "organization", _("With a participating organization")
        EMAIL = "email", _("By email")
        LINK = "link", _("By link")

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shares"
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    recipient_organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="received_shares",
        verbose_name=_("recipient"),
    )
    documents = models.ManyToManyField(Document, related_name="shares", verbose_name=_("documents"))
    # Only the learner ever sees the name and purpose.
    name = models.CharField(_("share name"), max_length=200, blank=True)
    purpose = models.CharField(_("share purpose"), max_length=500, blank=True)
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    field_values = models.JSONField(_("additional fields"), default=dict, blank=True)
    expires_on = models.DateField(_("expiry date"), null=True, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    # One per rendered share form: a double click or a retry finds the share already made.
    submission_token = models.UUIDField(_("submission token"))
    # Email and link shares are opened with a secret token; only its SHA-256 is kept.
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    recipient_email = models.EmailField(_("recipient's email address"), blank=True)
    message = models.TextField(_("message"), max_length=2000, blank=True)
    email_language = models.CharField(
        _("language of the email"), max_length=8, choices=settings.LANGUAGES, blank=True
    )
    notify_owner_on_first_open = models.BooleanField(
        _("email me when it is first opened"), default=False
    )
    owner_notified_at = models.DateTimeField(null=True, blank=True)
    # Email shares: wrong access codes entered in total, over every code of the share; at
    # CREDSHARE_ACCESS_CODE_MAX_FAILURES the code entry locks until the learner unlocks it.
    code_failures = models.PositiveIntegerField(default=0)
    code_entry_locked_at = models.DateTimeField(null=True, blank=True)
    # The handle organizations' systems use (API, webhooks): says nothing of how many shares
    # there are.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Set by the receiving organization (inbox or API) once its systems have taken the share in.
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    # When the share.expired event went out, so that it goes out once.
    expiry_announced_at = models.DateTimeField(null=True, blank=True)

    objects = ShareQuerySet.as_manager()

    class Meta:
        verbose_name = _("share")
        verbose_name_plural = _("shares")
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "submission_token"], name="one_share_per_submission"
            ),
            models.CheckConstraint(
                condition=~Q(channel="organization") | Q(recipient_organization__isnull=False),
                name="organization_share_has_recipient",
            ),
            models.CheckConstraint(
                condition=~Q(channel="email") | ~Q(recipient_email=""),
                name="email_share_has_address",
            ),
            models.CheckConstraint(
                condition=Q(channel="organization") | Q(token_hash__isnull=False),
                name="email_and_link_shares_have_a_token",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "-created"]),
            # The inbox: one organization's shares, newest first, counted and paged from
            # the index alone.
            models.Index(
                fields=["recipient_organization", "channel", "-created", "-id"],
                name="share_inbox_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"#{self.pk}"

    @property
    def expires_at(self) -> datetime.datetime | None:
        return end_of_day(self.expires_on) if self.expires_on else None

    def state_at(self, moment: datetime.datetime) -> str:
        if self.revoked_at is not None and self.revoked_at <= moment:
            return self.State.REVOKED
        expires_at = self.expires_at
        if expires_at is not None and moment >= expires_at:
            return self.State.EXPIRED
        return self.State.ACTIVE

    @property
    def state(self) -> str:
        return self.state_at(timezone.now())

    def get_state_display(self) -> str:
        return self.State(self.state).label

    @property
    def recipient_label(self) -> str:
        """Who the share is for, as the learner reads it."""
        if self.channel == self.Channel.ORGANIZATION:
            return self.recipient_organization.name
        if self.channel == self.Channel.EMAIL:
            return self.recipient_email
        return str(_("Anyone with the link"))


class AccessCode(models.Model):
    """A 6-digit code, emailed to the recipient of an email share, that unlocks it in one
    browser. Single use, short-lived, locked after a few wrong tries."""

    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="access_codes")
    # HMAC of the code with the site's secret key: a leaked table does not give codes away.
    code_hmac = models.CharField(max_length=64)
    created = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("access code")
        verbose_name_plural = _("access codes")
        indexes = [models.Index(fields=["share", "-created"])]

    def __str__(self) -> str:
        return f"code for share {self.share_id}"


class ShareAccess(models.Model):
    """One access to a share by its recipient. The learner sees every one of them."""

    class Action(models.TextChoices):
        OPENED = "opened", _("Opened")
        VIEWED = "viewed", _("Viewed")
        DOWNLOADED = "downloaded", _("Downloaded")

    # No index of its own: the (share, action) index serves every lookup by share, and each
    # access written would update one more index.
    share = models.ForeignKey(
        Share, on_delete=models.CASCADE, related_name="accesses", db_index=False
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    at = models.DateTimeField(_("when"), default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    version = models.ForeignKey(
        DocumentVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("share access")
        verbose_name_plural = _("share accesses")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["share", "action"])]

    def __str__(self) -> str:
        return f"{self.share_id} {self.action} {self.at:%Y-%m-%d %H:%M}"

    def visitor_label(self) -> str:
        """Who accessed: the organization (and its member), the email recipient, or a visitor
        of the link."""
        if self.organization is not None:
            member = f" ({self.user.full_name})" if self.user is not None else ""
            return f"{self.organization.name}{member}"
        if self.share.channel == Share.Channel.EMAIL:
            return self.share.recipient_email
        return str(_("Link visitor"))
