import datetime
import hashlib

from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from credshare.accounts.models import User
from credshare.audit.models import Event as AuditEvent
from credshare.audit.services import document_audit_record
from credshare.core.ranges import check_issue_date, check_valid_until
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


# A re-issue to an address invited less than this long ago sends no new invitation: a bulk
# job of many rows for one address, or several documents in a week, make one email.
CLAIM_INVITATION_INTERVAL = datetime.timedelta(days=7)
# The first key of the per-address advisory locks. Two-int keys are a key space of their own
# in PostgreSQL, apart from the single-bigint keys (the audit chain's).
_ADDRESS_LOCK_CLASS = 0x43534144


def address_normalize(email: str) -> str:
    """One spelling an address: how documents and accounts store it."""
    return email.strip().lower()


def _address_lock(email: str) -> None:
    """Serialize, for one address, issuing a document to it with claiming the documents
    issued to it: an issue that found no account commits its unclaimed document before a
    claim looks for it, or waits and then finds the account. PostgreSQL: a transaction-level
    advisory lock. SQLite needs none: its transactions begin IMMEDIATE (settings), one
    writer at a time."""
    if connection.vendor != "postgresql":
        return
    digest = hashlib.sha256(email.encode()).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)",
            [_ADDRESS_LOCK_CLASS, int.from_bytes(digest[:4], "big", signed=True)],
        )


@transaction.atomic
def document_issue(
    *,
    issuer: Organization,
    document_type: str,
    title: str,
    issue_date: datetime.date,
    pdf: bytes,
    learner: User | None = None,
    learner_email: str = "",
    learner_name: str = "",
    language: str | None = None,
    external_id: str = "",
    student_number: str = "",
    record: dict | None = None,
    valid_until: datetime.date | None = None,
) -> Document:
    """Put a document, as its first version, into LEARNER's account, or into the account
    holding LEARNER_EMAIL (user_with_email). When no account holds it, the document is kept
    against the address, unseen by anyone but the issuer, and the address is invited (in
    LANGUAGE, by default the current one) to open an account or add the address to one:
    once the address is verified on an account, its documents move there
    (documents_claim). LEARNER_NAME is the name the issuer knows the learner by."""
    from credshare.accounts.selectors import user_with_email

    if not issuer.is_issuer:
        raise ValueError(f"{issuer} does not issue documents")
    # Every issuing path (portal, bulk, API) checked these already, with its own message;
    # the rule holds here too, for any caller.
    check_issue_date(issue_date)
    check_valid_until(valid_until, issue_date=issue_date)
    email = address_normalize(learner_email or (learner.email if learner else ""))
    if not email:
        raise ValueError("A document is issued to a learner or to an email address")
    if learner is None:
        # Before looking the account up: a claim of this address in progress ends first.
        _address_lock(email)
        learner = user_with_email(email)
    document = Document.objects.create(
        issuer=issuer,
        learner=learner,
        learner_email=email,
        learner_name=(learner_name.strip() or (learner.full_name if learner else ""))[:200],
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
    if learner is None:
        _claim_invitation_send(email=email, issuer=issuer, language=language)
    return document


def _claim_invitation_send(*, email: str, issuer: Organization, language: str | None) -> None:
    """Invite EMAIL to claim its documents, unless an invitation went to it lately (under
    the address's lock: two documents issued at once make one invitation)."""
    from credshare.accounts.models import Invitation
    from credshare.accounts.services import invitation_send

    now = timezone.now()
    invited_lately = Invitation.objects.filter(
        email=email,
        purpose=Invitation.Purpose.CLAIM_DOCUMENTS,
        accepted_at=None,
        created__gt=now - CLAIM_INVITATION_INTERVAL,
        expires_at__gt=now,
    ).exists()
    if not invited_lately:
        invitation_send(
            email=email,
            purpose=Invitation.Purpose.CLAIM_DOCUMENTS,
            invited_by_org=issuer,
            language=language,
        )


def documents_claim(*, user: User, email: str) -> int:
    """Attach to USER every document, from every issuer, issued to EMAIL while no account
    held it; returns how many. Only when EMAIL is a verified address of USER and of no other
    account: this does not rely on allauth alone to keep an address on one account. Called
    when an address becomes verified (accounts.services.email_address_verified); calling it
    again claims nothing more."""
    from allauth.account.models import EmailAddress

    email = address_normalize(email)
    with transaction.atomic():
        _address_lock(email)
        verified = EmailAddress.objects.filter(email=email, verified=True)
        if not verified.filter(user=user).exists():
            return 0
        held_elsewhere = (
            verified.exclude(user=user).exists()
            or User.objects.filter(email=email).exclude(pk=user.pk).exists()
        )
        if held_elsewhere:
            return 0
        documents = list(Document.objects.filter(learner=None, learner_email=email))
        Document.objects.filter(pk__in=[document.pk for document in documents]).update(learner=user)
        for document in documents:
            document_audit_record(event=AuditEvent.DOCUMENT_CLAIMED, document=document, actor=user)
        return len(documents)


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
    if learner is None:
        # No account yet: the learner will find the newest version when they claim it.
        _after_correction(document)
        return version
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
    _after_correction(document)
    return version


def _after_correction(document: Document) -> None:
    from credshare.webhooks.services import document_event_publish

    # To the organizations holding a live share of it, once this transaction commits.
    document_event_publish(document=document, event_type="document.updated")


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
