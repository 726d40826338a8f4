import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from credshare.network.models import Organization


class ApiKey(models.Model):
    """An organization's key to the REST API. The key is shown once, when it is made; only
    the SHA-256 of its secret part is kept (the secret is 256 random bits, so a fast hash is
    enough). `prefix` finds the row and is shown in lists so that people can tell keys apart."""

    class Scope(models.TextChoices):
        # Receiving organizations
        SHARES_READ = "shares:read", _("Read received shares")
        DOCUMENTS_DOWNLOAD = "documents:download", _("Download shared documents")
        SHARES_PROCESS = "shares:process", _("Mark shares processed")
        # Issuers
        DOCUMENTS_ISSUE = "documents:issue", _("Issue documents and add versions")
        JOBS_RUN = "jobs:run", _("Run bulk issuance jobs")
        DOCUMENTS_WITHDRAW = "documents:withdraw", _("Withdraw and revoke documents")

    RECEIVING_SCOPES = (Scope.SHARES_READ, Scope.DOCUMENTS_DOWNLOAD, Scope.SHARES_PROCESS)
    ISSUING_SCOPES = (Scope.DOCUMENTS_ISSUE, Scope.JOBS_RUN, Scope.DOCUMENTS_WITHDRAW)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("key prefix"), max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(_("scopes"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        indexes = [models.Index(fields=["organization", "-created"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


class IdempotencyRecord(models.Model):
    """The response to a POST made with an `Idempotency-Key` header, kept so that a retry
    with the same key and body gets the same response and causes no second effect. A retry
    with the same key and another body is refused (422)."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of method, path and body.
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="one_record_per_key")
        ]
        indexes = [models.Index(fields=["created"])]

    def __str__(self) -> str:
        return self.key
