"""What a verification found, the same for a PDF and for a credential, for the page and the
API alike."""

import datetime
from dataclasses import dataclass, field
from enum import StrEnum

from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Status(StrEnum):
    """One status per verification, from the worst down: the first that applies wins."""

    ALTERED = "altered"  # altered, or not issued by a member of the network
    UNCHECKED = "unchecked"  # the signature holds but the status could not be checked
    REVOKED = "revoked"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"  # its validity period has not begun
    SUPERSEDED = "superseded"
    VALID = "valid"  # valid and current


HEADLINES = {
    Status.VALID: _("Valid and current"),
    Status.SUPERSEDED: _("Valid, but superseded by a newer version"),
    Status.WITHDRAWN: _("Withdrawn by the issuer"),
    Status.REVOKED: _("Revoked by the issuer"),
    Status.EXPIRED: _("Expired"),
    Status.NOT_YET_VALID: _("Not valid yet"),
    Status.ALTERED: _("Altered, or not issued through credshare"),
    Status.UNCHECKED: _("The status could not be checked"),
}


class VerificationInputError(ValueError):
    """The input is not something we can verify at all (HTTP 400): `code` for machines,
    the message for people."""

    def __init__(self, code: str, message):
        super().__init__(str(message))
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Check:
    code: str  # machine-readable, stable: "signature", "certificate_chain", "status", …
    passed: bool
    message: str  # translated, for people


@dataclass(frozen=True)
class CertificateInfo:
    subject: str
    issuer: str
    serial_number: str
    not_before: datetime.datetime
    not_after: datetime.datetime
    sha256_fingerprint: str
    chains_to_network: bool


@dataclass
class Verdict:
    kind: str  # "pdf" or "credential"
    status: Status
    checks: list[Check] = field(default_factory=list)
    # What the document says of itself (from our records when we issued it).
    issuer_name: str = ""
    issuer_is_member: bool = False
    issuer_slug: str = ""
    learner_name: str = ""
    document_type: str = ""
    title: str = ""
    issue_date: datetime.date | None = None
    public_id: str = ""
    version_number: int | None = None
    newest_version_number: int | None = None
    certificate: CertificateInfo | None = None

    @property
    def headline(self) -> str:
        return str(HEADLINES[self.status])

    @property
    def is_authentic(self) -> bool:
        return self.status not in (Status.ALTERED, Status.UNCHECKED)

    def as_json(self) -> dict:
        data = {
            "kind": self.kind,
            "status": str(self.status),
            "headline": self.headline,
            "verified": self.status == Status.VALID,
            "checks": [
                {"check": check.code, "passed": check.passed, "message": str(check.message)}
                for check in self.checks
            ],
            "issuer": {
                "name": self.issuer_name,
                "member": self.issuer_is_member,
                "slug": self.issuer_slug or None,
            },
            "document": None,
        }
        if self.public_id:
            data["document"] = {
                "id": self.public_id,
                "type": self.document_type,
                "title": self.title,
                "learner_name": self.learner_name,
                "issue_date": self.issue_date.isoformat() if self.issue_date else None,
                "version": self.version_number,
                "newest_version": self.newest_version_number,
            }
        if self.certificate is not None:
            certificate = self.certificate
            data["certificate"] = {
                "subject": certificate.subject,
                "issuer": certificate.issuer,
                "serial_number": certificate.serial_number,
                "not_before": certificate.not_before.isoformat(),
                "not_after": certificate.not_after.isoformat(),
                "sha256_fingerprint": certificate.sha256_fingerprint,
                "chains_to_network": certificate.chains_to_network,
            }
        return data


def describe_document(verdict: Verdict, version, newest: int | None = None) -> None:
    """Fill in what our records say of the version's document, and the status it implies
    (withdrawn or revoked, not valid yet, expired, superseded, valid). Leaves an ALTERED or
    UNCHECKED verdict's status alone. NEWEST, the number of the document's newest version, when
    the caller read it with the version (one query less)."""
    from credshare.documents.models import Document

    document = version.document
    if newest is None:
        newest = document.versions.order_by("-number").values_list("number", flat=True).first()
    verdict.issuer_name = document.issuer.name
    verdict.issuer_is_member = True
    verdict.issuer_slug = document.issuer.slug
    verdict.learner_name = document.learner_full_name or ""
    verdict.document_type = document.document_type
    verdict.title = document.title
    verdict.issue_date = document.issue_date
    verdict.public_id = str(document.public_id)
    verdict.version_number = version.number
    verdict.newest_version_number = newest
    if verdict.status in (Status.ALTERED, Status.UNCHECKED):
        return
    if document.status == Document.Status.REVOKED:
        # Never the reason: it is the learner's and the issuer's to know (the issuer's form
        # says so); anyone verifying learns that the document no longer stands, not why.
        verdict.status = Status.REVOKED
    elif document.status == Document.Status.WITHDRAWN:
        verdict.status = Status.WITHDRAWN
    elif document.issue_date > timezone.localdate():
        # Issued with a date still to come (before issuing in the future was refused): not
        # valid before that day, whatever else holds.
        verdict.status = Status.NOT_YET_VALID
    elif document.valid_until and document.valid_until < timezone.localdate():
        verdict.status = Status.EXPIRED
    elif newest is not None and version.number < newest:
        verdict.status = Status.SUPERSEDED
    else:
        verdict.status = Status.VALID
