import datetime
import hashlib

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max

from credshare.accounts.models import User
from credshare.audit.models import Event as AuditEvent
from credshare.audit.services import document_audit_record
from credshare.documents.models import Document, DocumentVersion
from credshare.network.models import Organization


def _version_create(*, document: Document, pdf: bytes) -> DocumentVersion:
    from credshare.documents.signing import sign_pdf

    # The stored file, its hash and its size are the signed file's.
    pdf = sign_pdf(pdf=pdf, document=document, issuer=document.issuer)
    latest = document.versions.aggregate(latest=Max("number"))["latest"] or 0
    version = DocumentVersion(
        document=document,
        number=latest + 1,
        sha256=hashlib.sha256(pdf).hexdigest(),
        size=len(pdf),
    )
    # Written before its row: a rolled-back transaction can leave an orphan file, never a
    # row without its file.
    version.file.save("document.pdf", ContentFile(pdf), save=False)
    version.save()
    # Its Verifiable Credential, in the same transaction: no version without one.
    from credshare.credentials.services import credential_issue

    credential_issue(version)
    return version


@transaction.atomic
def document_issue(
    *,
    issuer: Organization,
    learner: User,
    document_type: str,
    title: str,
    issue_date: datetime.date,
    pdf: bytes,
    external_id: str = "",
    student_number: str = "",
    record: dict | None = None,
    valid_until: datetime.date | None = None,
) -> Document:
    """Put a document, as its first version, into a learner's account."""
    if not issuer.is_issuer:
        raise ValueError(f"{issuer} does not issue documents")
    document = Document.objects.create(
        issuer=issuer,
        learner=learner,
        document_type=document_type,
        title=title,
        issue_date=issue_date,
        external_id=external_id,
        student_number=student_number,
        record=record or {},
        valid_until=valid_until,
    )
    _version_create(document=document, pdf=pdf)
    document_audit_record(event=AuditEvent.DOCUMENT_ISSUED, document=document)
    return document


@transaction.atomic
def document_version_add(*, document: Document, pdf: bytes) -> DocumentVersion:
    """A correction: every share of the document serves the new version from now on."""
    Document.objects.select_for_update().only("pk").get(pk=document.pk)
    version = _version_create(document=document, pdf=pdf)
    document_audit_record(
        event=AuditEvent.DOCUMENT_VERSIONED, document=document, details={"version": version.number}
    )
    return version


def _document_url(document: Document) -> str:
    from django.conf import settings
    from django.urls import reverse

    return settings.CREDSHARE_BASE_URL.rstrip("/") + reverse("documents:detail", args=[document.pk])


@transaction.atomic
def document_correct(*, document: Document, pdf: bytes, by: User) -> DocumentVersion:
    """An issuer's correction: a new version that every live share serves at once, and an
    email telling the learner, queued in the same transaction (no version, no email)."""
    from django.utils import translation

    from credshare.notifications.services import email_queue

    if not document.is_active:
        raise ValueError("A withdrawn or revoked document gets no new version")
    version = document_version_add(document=document, pdf=pdf)
    learner = document.learner
    language = translation.get_supported_language_variant(learner.language)
    email_queue(
        to=learner.email,
        template="documents/email/new_version",
        context={
            "document": document,
            "issuer_name": document.issuer.name_fr
            if language.startswith("fr")
            else document.issuer.name_en,
            "version": version,
            "url": _document_url(document),
        },
        language=language,
    )
    from credshare.webhooks.services import document_event_publish

    # To the organizations holding a live share of it, once this transaction commits.
    document_event_publish(document=document, event_type="document.updated")
    return version


@transaction.atomic
def document_withdraw(
    *, document: Document, reason: str, by: User, revoke: bool = False
) -> Document:
    """Withdraw (or revoke) an active document with a reason: its shares stop serving it and
    say it was withdrawn by the issuer; the learner sees the status and the reason."""
    from django.utils import timezone

    reason = reason.strip()
    if not reason:
        raise ValueError("A reason is required")
    locked = Document.objects.select_for_update().get(pk=document.pk)
    if locked.status != Document.Status.ACTIVE:
        raise ValueError("Only an active document can be withdrawn or revoked")
    locked.status = Document.Status.REVOKED if revoke else Document.Status.WITHDRAWN
    locked.status_reason = reason[: Document._meta.get_field("status_reason").max_length]
    locked.status_changed_at = timezone.now()
    locked.save(update_fields=["status", "status_reason", "status_changed_at"])
    for field in ("status", "status_reason", "status_changed_at"):
        setattr(document, field, getattr(locked, field))
    from credshare.credentials.services import status_list_publish_for

    # Its credentials' status bit flips with it.
    status_list_publish_for(locked)
    from credshare.webhooks.services import document_event_publish

    document_event_publish(document=locked, event_type="document.withdrawn")
    document_audit_record(
        event=AuditEvent.DOCUMENT_REVOKED if revoke else AuditEvent.DOCUMENT_WITHDRAWN,
        document=locked,
        actor=by,
        details={"reason": locked.status_reason},
    )
    return document
