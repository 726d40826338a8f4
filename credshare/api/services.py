"""API keys: made, revoked, and checked on every request."""

import datetime
import hashlib
import hmac
import secrets

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from credshare.accounts.selectors import user_with_email
from credshare.api.errors import ApiError
from credshare.api.models import ApiKey, IdempotencyRecord
from credshare.api.selectors import issued_document_by_external_id
from credshare.audit.models import Event as AuditEvent
from credshare.audit.services import api_key_audit_record
from credshare.core.errors import ApplicationError
from credshare.documents import bulk
from credshare.documents.models import Document, DocumentVersion, IssuanceJob
from credshare.documents.pdf import transcript_from_record
from credshare.documents.pdf_checks import check_uploaded_pdf
from credshare.documents.services import document_correct, document_issue, document_withdraw
from credshare.network.models import Organization
from credshare.sharing.models import Share

KEY_PREFIX = "csk"
# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_key_create(*, organization, name: str, scopes: list[str], by) -> tuple[ApiKey, str]:
    """A new key and its full text, which is shown once and never again."""
    from django.utils.translation import gettext as _

    allowed = set(ApiKey.RECEIVING_SCOPES if organization.is_receiver else ()) | set(
        ApiKey.ISSUING_SCOPES if organization.is_issuer else ()
    )
    scopes = sorted(set(scopes))
    if not name.strip():
        raise ApplicationError(_("Give the key a name."), code="no_name", field="name")
    if not scopes:
        raise ApplicationError(_("Choose at least one permission."), code="no_scope")
    if not set(scopes) <= allowed:
        raise ApplicationError(
            _("This organization cannot grant that permission."), code="scope_not_allowed"
        )
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        organization=organization,
        name=name.strip()[:100],
        prefix=prefix,
        secret_hash=_secret_hash(secret),
        scopes=scopes,
        created_by=by,
    )
    api_key_audit_record(event=AuditEvent.API_KEY_CREATED, key=key, actor=by)
    return key, f"{KEY_PREFIX}_{prefix}_{secret}"


@transaction.atomic
def api_key_revoke(*, key: ApiKey, by) -> ApiKey:
    """Revoke a key: its next request fails."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        api_key_audit_record(event=AuditEvent.API_KEY_REVOKED, key=key, actor=by)
    return key


def api_key_authenticate(text: str) -> ApiKey | None:
    """The active key that TEXT is, or None. Compares hashes in constant time."""
    parts = text.split("_", 2) if isinstance(text, str) else []
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    key = (
        ApiKey.objects.select_related("organization")
        .filter(prefix=parts[1], revoked_at__isnull=True)
        .first()
    )
    if key is None or not hmac.compare_digest(key.secret_hash, _secret_hash(parts[2])):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


# --- idempotency ------------------------------------------------------------------------------

# How long a POST's response is kept for a retry with the same Idempotency-Key.
IDEMPOTENCY_KEY_LIFETIME = datetime.timedelta(hours=24)


def idempotency_records_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete the responses kept longer than IDEMPOTENCY_KEY_LIFETIME; how many went. Run by
    `manage.py purge_idempotency_keys` (a daily cron job, say); a key older than that is
    treated as new even before it is purged."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_KEY_LIFETIME
    deleted, _by_model = IdempotencyRecord.objects.filter(created__lt=cutoff).delete()
    return deleted


# --- receiving organizations ------------------------------------------------------------------


def share_mark_processed(*, share: Share) -> Share:
    """Mark a share received by an organization processed. Marking it again keeps the first
    time (a retry changes nothing)."""
    now = timezone.now()
    if not Share.objects.filter(pk=share.pk, processed_at__isnull=True).update(processed_at=now):
        share.refresh_from_db(fields=["processed_at"])
    else:
        share.processed_at = now
    return share


def share_unmark_processed(*, share: Share) -> Share:
    """Undo `share_mark_processed`, say to process the share again."""
    Share.objects.filter(pk=share.pk).update(processed_at=None)
    share.processed_at = None
    return share


# --- issuers ----------------------------------------------------------------------------------


def _require_issuer(organization: Organization) -> None:
    from django.utils.translation import gettext as _

    if not organization.is_issuer:
        raise ApiError(
            403, "not_an_issuer", _("Your organization does not issue documents on credshare.")
        )


def _document_not_active(document: Document) -> ApiError:
    from django.utils.translation import gettext as _

    return ApiError(
        409,
        "document_not_active",
        _("This document is withdrawn or revoked: it cannot change any more."),
    )


def api_document_issue(
    *,
    issuer: Organization,
    learner_email: str,
    document_type: str,
    title: str,
    issue_date: datetime.date,
    pdf: bytes | None = None,
    record: dict | None = None,
    external_id: str = "",
    student_number: str = "",
    valid_until: datetime.date | None = None,
    learner_name: str = "",
    language: str | None = None,
) -> tuple[Document, bool]:
    """Issue a document from an uploaded PDF or from a transcript's RECORD, as the issuer
    portal does, to the account holding LEARNER_EMAIL, or, with none, kept for the address
    and the address invited (in LANGUAGE) to claim it. Returns (document, True), or (the
    document already issued under EXTERNAL_ID, False): the same external id never issues
    twice, even from two requests at once."""
    from django.utils.translation import gettext as _

    _require_issuer(issuer)
    external_id = external_id.strip()
    existing = issued_document_by_external_id(issuer=issuer, external_id=external_id)
    if existing is not None:
        return existing, False
    try:
        validate_email(learner_email.strip())
    except ValidationError:
        raise ApiError(
            400,
            "invalid_email",
            _("Enter a valid email address."),
            details=[{"field": "learner_email", "code": "invalid_email"}],
        ) from None
    learner = user_with_email(learner_email)
    name = learner_name.strip() or (learner.full_name if learner else "")
    if learner is None and not name:
        raise ApiError(
            400,
            "learner_name_required",
            _(
                "No one has an account with this email address yet: give the learner's name "
                "(learner_name), for the document and the invitation to claim it."
            ),
            details=[{"field": "learner_name", "code": "learner_name_required"}],
        )
    if pdf is not None:
        check_uploaded_pdf(pdf)
        record = {}
    else:
        pdf = transcript_from_record(
            issuer=issuer,
            learner_name=name or learner_email.strip(),
            title=title,
            issue_date=issue_date,
            record=record,
        )
    try:
        # A savepoint: a request issuing the same external id at the same moment loses the
        # race on the unique constraint, and answers with the winner's document.
        with transaction.atomic():
            document = document_issue(
                issuer=issuer,
                learner_email=learner_email,
                learner_name=learner_name,
                language=language,
                document_type=document_type,
                title=title.strip(),
                issue_date=issue_date,
                pdf=pdf,
                external_id=external_id,
                student_number=student_number.strip(),
                record=record,
                valid_until=valid_until,
            )
    except IntegrityError:
        existing = issued_document_by_external_id(issuer=issuer, external_id=external_id)
        if existing is None:
            raise
        return existing, False
    return document, True


@transaction.atomic
def api_document_add_version(
    *, document: Document, pdf: bytes | None = None, record: dict | None = None
) -> DocumentVersion:
    """A corrected version of DOCUMENT from an uploaded PDF, or rendered from a transcript's
    RECORD, which then becomes the document's data (its credential carries the new data)."""
    if not document.is_active:
        raise _document_not_active(document)
    if pdf is not None:
        check_uploaded_pdf(pdf)
    else:
        pdf = transcript_from_record(
            issuer=document.issuer,
            learner_name=document.learner_full_name or document.learner_address,
            title=document.title,
            issue_date=document.issue_date,
            record=record,
        )
        document.record = record
        document.save(update_fields=["record"])
    try:
        return document_correct(document=document, pdf=pdf, by=None)
    except ValueError:
        # Withdrawn meanwhile.
        raise _document_not_active(document) from None


def api_document_withdraw(*, document: Document, reason: str, revoke: bool) -> Document:
    """Withdraw (or revoke) an active document; one already withdrawn or revoked is a 409."""
    if not document.is_active:
        raise _document_not_active(document)
    try:
        return document_withdraw(document=document, reason=reason, by=None, revoke=revoke)
    except ValueError:
        raise _document_not_active(document) from None


def api_issuance_job_submit(*, issuer: Organization, rows_file, pdf_archive=None) -> IssuanceJob:
    """Queue a bulk issuance job (the portal's bulk upload); it starts once this transaction
    commits, where a worker sees it. Raises BulkRejected for a file refused as a whole."""
    _require_issuer(issuer)
    with transaction.atomic():
        job = bulk.issuance_job_create(
            issuer=issuer, created_by=None, rows_file=rows_file, pdf_archive=pdf_archive
        )
        transaction.on_commit(lambda: bulk.issuance_job_start(job=job))
    return job
