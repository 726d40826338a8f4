from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username: str) -> "User":
        # Emails are stored lowercased (create_user): sign-in finds them however typed.
        return self.get(**{self.model.USERNAME_FIELD: username.lower()})


class User(AbstractBaseUser, PermissionsMixin):
    """A person: a learner, an organization's staff member, or both. Signs in by email."""

    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200)
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("platform staff"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.email

    def save(self, *args, **kwargs):
        # One spelling per address, so lookups use the unique index (user_with_email).
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class SignInThrottle(models.Model):
    """Failed attempts in one bucket of the sign-in throttling (credshare/accounts/
    throttle.py): an account (or an address no account has) and a source (a client address, a
    browser it signed in from before, every browser it does not know), or an account's
    second-factor codes.

    Each attempt reserves its slot here, in locked rows, before its password or code is
    checked, so however many arrive at once no more are checked than the rule allows; past a
    few failures each next attempt waits a growing delay (next_attempt_at)."""

    key = models.CharField(max_length=400, unique=True)
    failures = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.key


class Invitation(models.Model):
    """An invitation emailed to an address. Only that address can take it up: an account
    opened from its link (with that address, which the sign-up page does not let anyone
    change) gets the address verified, and a signed-in person can accept it only when the
    address is their account's. An invitation to join an organization makes a member of
    its addressee only when they accept it.

    Only the token's SHA-256 is stored; the token itself is in the email alone."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for an answer")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        REVOKED = "revoked", _("Withdrawn")
        EXPIRED = "expired", _("Expired")

    class Purpose(models.TextChoices):
        CLAIM_DOCUMENTS = "claim_documents", _("Documents were issued to this address")
        JOIN_ORGANIZATION = "join_organization", _("Join an organization's staff")
        SIGN_UP = "sign_up", _("Open an account")

    email = models.EmailField(_("email address"))
    purpose = models.CharField(_("purpose"), max_length=30, choices=Purpose.choices)
    invited_by_org = models.ForeignKey(
        "network.Organization",
        verbose_name=_("invited by"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The role an invitation to join an organization offers (network.Membership.Role).
    role = models.CharField(_("role"), max_length=16, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    declined_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["email", "-created"])]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()}: {self.email}"

    @property
    def status(self) -> str:
        """What became of the invitation: one answer (accepted or declined), its withdrawal,
        or its expiry end it; until then it is open."""
        if self.accepted_at is not None:
            return self.Status.ACCEPTED
        if self.declined_at is not None:
            return self.Status.DECLINED
        if self.revoked_at is not None:
            return self.Status.REVOKED
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.Status.OPEN
