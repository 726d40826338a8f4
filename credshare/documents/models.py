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
    # Empty until the address the document was issued to is verified on an account
    # (documents.services.documents_claim): meanwhile only the issuer sees the document.
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="documents",
        null=True,
        blank=True,
    )
    # The address the issuer sent the document to (stripped, lowercased), and the name it
    # gave: the document's learner before there is an account, its record after.
    learner_email = models.EmailField(_("learner's email address"), default="", db_default="")
    learner_name = models.CharField(
        _("learner's name"), max_length=200, blank=True, default="", db_default=""
    )
    document_type = models.CharField(_("type"), max_length=20, choices=Type.choices)
    # The issuer's own identifier for the document (from its student-information system):
    # issuing the same one twice finds the document already issued.
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    student_number = models.CharField(_("student number"), max_length=50, blank=True)
    title = models.CharField(_("title"), max_length=300)
    issue_date = models.DateField(_("issue date"))
    # The last day the document is valid, for those that expire (a certificate, a licence).
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    # A transcript's structured data when the issuer gave it (program, courses as
    # [code, title, credits, grade], gpa, credential): its credential carries it.
    record = models.JSONField(_("structured data"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    status_reason = models.CharField(_("reason"), max_length=500, blank=True)
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        indexes = [
            models.Index(fields=["learner", "-issue_date", "-id"]),
            # The documents waiting for an address, found when it is verified.
            models.Index(
                fields=["learner_email"],
                condition=models.Q(learner__isnull=True),
                name="document_unclaimed_email",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(learner__isnull=False) | ~models.Q(learner_email=""),
                name="document_learner_identified",
            ),
            models.UniqueConstraint(
                fields=["issuer", "external_id"],
                condition=~models.Q(external_id=""),
                name="one_document_per_external_id",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_claimed(self) -> bool:
        return self.learner_id is not None

    @property
    def learner_full_name(self) -> str:
        """The learner's name: their account's once claimed, else the one the issuer gave."""
        return self.learner.full_name if self.learner_id is not None else self.learner_name

    @property
    def learner_address(self) -> str:
        """Where the learner is reached: their account's address, else the one issued to."""
        return self.learner.email if self.learner_id is not None else self.learner_email


def version_upload_to(version: "DocumentVersion", filename: str) -> str:
    # Generated names: nothing the uploader chose ends up in a path.
    return f"documents/{uuid.uuid4().hex}.pdf"


class DocumentVersion(models.Model):
    """One version of a document's PDF. The newest version is the one everybody is served."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    file = models.FileField(_("PDF file"), upload_to=version_upload_to)
    # Indexed: verifying an uploaded file looks its hash up among every version issued.
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
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


def job_input_upload_to(job: "IssuanceJob", filename: str) -> str:
    return f"issuance/{uuid.uuid4().hex}-{filename[-60:]}"


class IssuanceJob(models.Model):
    """A bulk issuance: a CSV with a ZIP of PDFs, or JSON Lines of structured transcripts.
    Each row is issued or rejected on its own (IssuanceRow); rows are idempotent on
    (issuer, external id), so running the same file again issues nothing twice."""

    class Source(models.TextChoices):
        CSV_ZIP = "csv_zip", _("CSV with a ZIP of PDFs")
        JSONL = "jsonl", _("JSON Lines of transcripts")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    issuer = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="issuance_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    rows_file = models.FileField(_("rows"), upload_to=job_input_upload_to)
    pdf_archive = models.FileField(_("PDF archive"), upload_to=job_input_upload_to, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    error = models.CharField(_("error"), max_length=500, blank=True)
    total = models.PositiveIntegerField(_("rows"), default=0)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("issuance job")
        verbose_name_plural = _("issuance jobs")
        indexes = [models.Index(fields=["issuer", "-created"])]

    def __str__(self) -> str:
        return f"{self.issuer} {self.created:%Y-%m-%d %H:%M}"


class IssuanceRow(models.Model):
    """One row of a bulk issuance, with what became of it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ISSUED = "issued", _("Issued")
        REJECTED = "rejected", _("Rejected")

    job = models.ForeignKey(IssuanceJob, on_delete=models.CASCADE, related_name="rows")
    number = models.PositiveIntegerField(_("row"))
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    data = models.JSONField(_("data"), default=dict)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    document = models.ForeignKey(
        Document, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("issuance row")
        verbose_name_plural = _("issuance rows")
        ordering = ["job", "number"]
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="one_row_per_number")]
        indexes = [models.Index(fields=["job", "status"])]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.number}"
