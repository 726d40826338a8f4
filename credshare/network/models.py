import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from credshare.network.branding import DEFAULT_ACCENT_COLOR, DEFAULT_PRIMARY_COLOR
from credshare.network.names import name_key


def pick_language(*, french: str, english: str) -> str:
    """The French or English text, following the active language; the other when one is empty."""
    if (get_language() or "").startswith("fr"):
        return french or english
    return english or french


def in_language(obj: object, field: str) -> str:
    return pick_language(french=getattr(obj, f"{field}_fr"), english=getattr(obj, f"{field}_en"))


def logo_upload_to(organization: "Organization", filename: str) -> str:
    # A generated name, with the extension of the format the logo was checked to be (the
    # service names the file after it): nothing the uploader chose ends up in a path.
    extension = filename.rsplit(".", 1)[-1]
    return f"logos/{uuid.uuid4().hex}.{extension}"


class OrganizationQuerySet(models.QuerySet):
    def participating(self) -> "OrganizationQuerySet":
        """The directory: the receiving organizations learners can share with (listed, and
        approved by the platform). The one rule; Organization.is_participating is its
        per-row twin."""
        return self.filter(is_receiver=True, listed_in_directory=True, approved_at__isnull=False)


class Organization(models.Model):
    """An institution of the network: it issues documents, receives shares, or both.

    Its names are unique as people read them (names.name_key: capitals, accents, spacing
    and punctuation aside), in either language, and it is in the directory only once a
    platform administrator approved it (`approved_at`)."""

    slug = models.SlugField(_("short name"), max_length=80, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_fr = models.CharField(_("name (French)"), max_length=200)
    # name_key(name_en), name_key(name_fr): kept by save(), unique in the database.
    name_key_en = models.CharField(max_length=200, editable=False)
    name_key_fr = models.CharField(max_length=200, editable=False)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_fr = models.TextField(_("description (French)"), blank=True)
    website = models.URLField(_("website"), blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    is_issuer = models.BooleanField(_("issues documents"), default=False)
    is_receiver = models.BooleanField(_("receives shares"), default=False)
    listed_in_directory = models.BooleanField(
        _("listed in the directory"),
        default=True,
        help_text=_("Learners can pick a receiving organization only when it is listed."),
    )
    approved_at = models.DateTimeField(
        _("approved by the platform"),
        null=True,
        blank=True,
        help_text=_(
            "Empty until a platform administrator checks the organization: until then it is "
            "not in the directory and learners cannot share with it. A new name empties it."
        ),
    )
    # An issuer's branding on the transcripts it renders (credshare/network/branding.py).
    logo = models.FileField(_("logo"), upload_to=logo_upload_to, blank=True)
    primary_color = models.CharField(
        _("primary colour"), max_length=7, default=DEFAULT_PRIMARY_COLOR
    )
    accent_color = models.CharField(_("accent colour"), max_length=7, default=DEFAULT_ACCENT_COLOR)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name_en"]
        constraints = [
            models.UniqueConstraint(fields=["name_key_en"], name="organization_name_en_unique"),
            models.UniqueConstraint(fields=["name_key_fr"], name="organization_name_fr_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # Derived from the names on every save, as User.save lowercases its address, so that
        # the unique constraints hold whoever saves (a service, the admin, a command).
        self.name_key_en, self.name_key_fr = name_key(self.name_en), name_key(self.name_fr)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"name_en", "name_fr"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "name_key_en", "name_key_fr"}
        super().save(*args, **kwargs)

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None

    @property
    def is_participating(self) -> bool:
        """Whether learners can share with it (OrganizationQuerySet.participating)."""
        return self.is_receiver and self.listed_in_directory and self.is_approved

    @property
    def name(self) -> str:
        return in_language(self, "name")

    @property
    def description(self) -> str:
        return in_language(self, "description")


class Membership(models.Model):
    """A person's role in an organization."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Administrator")
        STAFF = "staff", _("Staff")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.STAFF)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"


class ShareField(models.Model):
    """An extra field that a receiving organization asks learners to fill when sharing."""

    class FieldType(models.TextChoices):
        TEXT = "text", _("Text")
        DATE = "date", _("Date")
        EMAIL = "email", _("Email address")
        CHOICE = "choice", _("Choice")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="share_fields"
    )
    key = models.SlugField(_("key"), max_length=50)
    label_en = models.CharField(_("label (English)"), max_length=200)
    label_fr = models.CharField(_("label (French)"), max_length=200)
    help_en = models.CharField(_("help text (English)"), max_length=300, blank=True)
    help_fr = models.CharField(_("help text (French)"), max_length=300, blank=True)
    field_type = models.CharField(
        _("type"), max_length=10, choices=FieldType.choices, default=FieldType.TEXT
    )
    choices = models.JSONField(
        _("choices"),
        default=list,
        blank=True,
        help_text=_('For a choice field: a list of {"value", "label_en", "label_fr"} objects.'),
    )
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("share field")
        verbose_name_plural = _("share fields")
        ordering = ["organization", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="share_field_key_per_org")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return in_language(self, "label")

    @property
    def help_text(self) -> str:
        return in_language(self, "help")

    def choice_options(self) -> list[tuple[str, str]]:
        return [
            (
                c["value"],
                pick_language(french=c.get("label_fr", ""), english=c.get("label_en", ""))
                or c["value"],
            )
            for c in self.choices
        ]
