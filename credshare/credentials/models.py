import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from credshare.documents.models import Document, DocumentVersion
from credshare.network.models import Organization


class CredentialKey(models.Model):
    """An issuer's Ed25519 key for Data Integrity proofs, published in its did:web document.
    The private key stays in the server's key store, named by `key_name`; retired keys stay
    published so that credentials they signed still verify."""

    issuer = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="credential_keys"
    )
    # The fragment of the verification method: did:web:…#<fragment>.
    fragment = models.CharField(max_length=40)
    public_key_multibase = models.CharField(max_length=100)
    key_name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("credential signing key")
        verbose_name_plural = _("credential signing keys")
        constraints = [
            models.UniqueConstraint(
                fields=["issuer"],
                condition=models.Q(is_active=True),
                name="one_active_credential_key_per_issuer",
            ),
            models.UniqueConstraint(fields=["issuer", "fragment"], name="one_key_per_fragment"),
        ]

    def __str__(self) -> str:
        return f"{self.issuer} #{self.fragment}"


class StatusList(models.Model):
    """One Bitstring Status List of an issuer (revocation purpose), published as a signed
    BitstringStatusListCredential. The signed credential is kept and re-signed whenever a bit
    changes, so serving it costs nothing."""

    SIZE = 131072  # the specification's minimum, for group privacy

    issuer = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="status_lists")
    number = models.PositiveIntegerField()
    credential = models.JSONField(default=dict)
    updated = models.DateTimeField(auto_now=True)
    # Set when the list is too full for random allocation to find free entries quickly.
    is_full = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("status list")
        verbose_name_plural = _("status lists")
        constraints = [
            models.UniqueConstraint(fields=["issuer", "number"], name="one_status_list_number")
        ]

    def __str__(self) -> str:
        return f"{self.issuer} status list {self.number}"


class StatusEntry(models.Model):
    """A document's entry in its issuer's status list. Entries are placed at random, as the
    specification advises, so that an entry's position says nothing about when it was made."""

    document = models.OneToOneField(Document, on_delete=models.CASCADE, related_name="status_entry")
    status_list = models.ForeignKey(StatusList, on_delete=models.PROTECT, related_name="entries")
    index = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["status_list", "index"], name="one_entry_per_index")
        ]

    def __str__(self) -> str:
        return f"{self.status_list} #{self.index}"


class IssuedCredential(models.Model):
    """The Verifiable Credential of one version of a document, signed when the version was
    issued. It carries the version's PDF SHA-256."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    version = models.OneToOneField(
        DocumentVersion, on_delete=models.CASCADE, related_name="credential"
    )
    credential = models.JSONField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("verifiable credential")
        verbose_name_plural = _("verifiable credentials")

    def __str__(self) -> str:
        return f"urn:uuid:{self.public_id}"
