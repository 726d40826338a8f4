import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from credshare.network.models import Organization


class Document(models.Model):
    """An official document that an issuer put into a learner's account."""

    class Type(models.TextChoices):
        TRANSCRIPT = "transcript", _("Transcript")
        DIPLOMA = "diploma", _("Diploma")
        CERTIFICATE = "certificate", _("Certificate")
        LETTER = "letter", _("Letter")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        WITHDRAWN = "withdrawn", _("Withdrawn by the issuer")
        REVOKED = "revoked", _("Revoked by the issuer")

    # Printed on the document and in its QR code: the public handle for verification.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    issuer = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="issued_documents"
    )
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="documents"
    )
    document_type = models.CharField(_("type"), max_length=20, choices=Type.choices)
    title = models.CharField(_("title"), max_length=300)
    issue_date = models.DateField(_("issue date"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    status_reason = models.CharField(_("reason"), max_length=500, blank=True)
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        indexes = [models.Index(fields=["learner", "-issue_date", "-id"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


def version_upload_to(version: "DocumentVersion", filename: str) -> str:
    # Generated names: nothing the uploader chose ends up in a path.
    return f"documents/{uuid.uuid4().hex}.pdf"


class DocumentVersion(models.Model):
    """One version of a document's PDF. The newest version is the one everybody is served."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    file = models.FileField(_("PDF file"), upload_to=version_upload_to)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("size in bytes"))
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("document version")
        verbose_name_plural = _("document versions")
        ordering = ["document", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="version_number_per_doc")
        ]

    def __str__(self) -> str:
        return f"{self.document} v{self.number}"


class IssuerKey(models.Model):
    """An issuer's signing certificate, issued by the network's CA. The private key stays in
    the server's key store (a file under the key directory in the embedded default), named by
    `key_name`; it never enters the database."""

    issuer = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="signing_keys")
    certificate_pem = models.TextField()
    key_name = models.CharField(max_length=200)
    created = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("issuer signing key")
        verbose_name_plural = _("issuer signing keys")
        constraints = [
            models.UniqueConstraint(
                fields=["issuer"],
                condition=models.Q(is_active=True),
                name="one_active_key_per_issuer",
            )
        ]

    def __str__(self) -> str:
        return f"{self.issuer} ({self.created:%Y-%m-%d})"
