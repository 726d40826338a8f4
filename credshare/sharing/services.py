import datetime
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from credshare.accounts.models import User
from credshare.audit.models import Event as AuditEvent
from credshare.audit.services import share_audit_record
from credshare.billing.models import CreditEntry
from credshare.billing.selectors import credit_needs_for_documents, locked_document_ids
from credshare.core.errors import ApplicationError
from credshare.core.ranges import DateOutOfRange, check_share_expiry
from credshare.documents.models import Document, DocumentVersion
from credshare.network.models import Organization
from credshare.notifications.services import email_queue
from credshare.sharing.models import AccessCode, Share, ShareAccess
from credshare.webhooks.models import Event
from credshare.webhooks.services import share_event_publish

ACCESS_CODE_LIFETIME = datetime.timedelta(minutes=10)
ACCESS_CODE_MAX_ATTEMPTS = 5
# A recipient may ask for a new code once a minute: enough for a lost email, too slow to
# flood an inbox.
ACCESS_CODE_RESEND_INTERVAL = datetime.timedelta(minutes=1)


class ShareError(ApplicationError):
    """A share rule refused the action. `status` is the HTTP status a page should answer."""

    status = 400

    def __init__(self, message: str, *, code: str, field: str | None = None, status: int = 400):
        super().__init__(message, code=code, field=field)
        self.status = status


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def share_url(token: str) -> str:
    """The absolute URL a recipient opens. The token is in it; never log or store it."""
    return settings.CREDSHARE_BASE_URL.rstrip("/") + reverse("recipient:open", args=[token])


def _lock_learner(learner: User) -> None:
    """Serialize a learner's credit spending: SELECT ... FOR NO KEY UPDATE on PostgreSQL. SQLite
    needs no row lock: its transactions start IMMEDIATE (see settings), one writer at a time.

    Every lock taken only to serialize (here, and on organizations and issuers) is NO KEY:
    it still excludes its twin, but not the KEY SHARE that inserting a row referring to the
    locked one takes (an audit entry naming the learner), so it cannot deadlock against the
    audit chain's lock."""
    User.objects.select_for_update(no_key=True).only("pk").get(pk=learner.pk)


def _check_expiry(expires_on: datetime.date | None) -> None:
    """The expiry date's range (credshare.core.ranges), as a ShareError the pages show."""
    try:
        check_share_expiry(expires_on)
    except DateOutOfRange as error:
        raise ShareError(error.message, code=error.code, field=error.field) from None


def _over_limits(rows, limits: Sequence[tuple[datetime.timedelta, int]]) -> int | None:
    """The first of LIMITS ((period, most rows in it)) that ROWS (a query with a `created`
    column) already reached: its most; None when under every one."""
    now = timezone.now()
    for period, most in limits:
        if rows.filter(created__gt=now - period).count() >= most:
            return most
    return None


def _email_shares_check(owner: User) -> None:
    """Refuse a new email share when the learner sent the most allowed in the last hour or
    day: an email share sends the learner's own text to any address, so unlimited it would
    relay spam. Called under the learner's lock, so shares made at once are counted."""
    limits = [
        (datetime.timedelta(hours=1), settings.CREDSHARE_EMAIL_SHARES_PER_HOUR),
        (datetime.timedelta(days=1), settings.CREDSHARE_EMAIL_SHARES_PER_DAY),
    ]
    sent = Share.objects.filter(owner=owner, channel=Share.Channel.EMAIL)
    most = _over_limits(sent, limits[:1])
    if most is not None:
        raise ShareError(
            ngettext(
                "You can send %(count)d share by email an hour, and you reached it. Try again "
                "later, or share by link.",
                "You can send %(count)d shares by email an hour, and you reached them. Try "
                "again later, or share by link.",
                most,
            )
            % {"count": most},
            code="email_shares_limit",
            status=429,
        )
    most = _over_limits(sent, limits[1:])
    if most is not None:
        raise ShareError(
            ngettext(
                "You can send %(count)d share by email a day, and you reached it. Try again "
                "tomorrow, or share by link.",
                "You can send %(count)d shares by email a day, and you reached them. Try again "
                "tomorrow, or share by link.",
                most,
            )
            % {"count": most},
            code="email_shares_limit",
            status=429,
        )


def _code_emails_check(share: Share) -> None:
    """Refuse a new access code when the codes sent for all of the learner's shares reached
    the most an hour or a day: each goes to an address the learner chose."""
    limits = [
        (datetime.timedelta(hours=1), settings.CREDSHARE_CODE_EMAILS_PER_HOUR),
        (datetime.timedelta(days=1), settings.CREDSHARE_CODE_EMAILS_PER_DAY),
    ]
    if _over_limits(AccessCode.objects.filter(share__owner_id=share.owner_id), limits):
        raise ShareError(
            _(
                "Too many access codes were sent for this person's shares lately. Try again "
                "in an hour."
            ),
            code="code_emails_limit",
            status=429,
        )


def _share_create(
    *,
    owner: User,
    channel: str,
    document_ids: Sequence[int],
    submission_token: uuid.UUID,
    expires_on: datetime.date | None,
    confirmed_credit_use: bool,
    **fields,
) -> tuple[Share, bool]:
    """The part every channel shares: check the documents, the expiry and the credits, create
    the share and spend one credit from each issuer that charges, all under the learner's lock.
    Returns the share and whether it is new: the same submission token again (a double click,
    a retry) returns the share already made and spends nothing. Call inside a transaction."""
    _lock_learner(owner)
    existing = Share.objects.filter(owner=owner, submission_token=submission_token).first()
    if existing is not None:
        return existing, False
    if channel == Share.Channel.EMAIL:
        _email_shares_check(owner)

    documents = list(
        Document.objects.filter(pk__in=set(document_ids), learner=owner).select_related("issuer")
    )
    if not documents or len(documents) != len(set(document_ids)):
        raise ShareError(_("Choose at least one of your documents."), code="no_documents")
    if any(not document.is_active for document in documents):
        raise ShareError(
            _("A withdrawn or revoked document cannot be shared."), code="document_inactive"
        )
    if locked_document_ids(documents=documents):
        raise ShareError(
            _("Pay the collection fee of a document before you share it."),
            code="document_locked",
        )
    _check_expiry(expires_on)

    needs = credit_needs_for_documents(learner=owner, documents=documents)
    short = [need.issuer.name for need in needs if not need.is_covered]
    if short:
        raise ShareError(
            _("You have no shares left for documents from %(issuers)s.")
            % {"issuers": ", ".join(short)},
            code="no_credit",
        )
    if needs and not confirmed_credit_use:
        raise ShareError(
            _("Please confirm the use of a share."),
            code="credit_use_not_confirmed",
            field="confirm_credit_use",
        )

    share = Share.objects.create(
        owner=owner,
        channel=channel,
        expires_on=expires_on,
        submission_token=submission_token,
        **fields,
    )
    share.documents.set(documents)
    CreditEntry.objects.bulk_create(
        CreditEntry(
            learner=owner, issuer=need.issuer, kind=CreditEntry.Kind.SPEND, amount=-1, share=share
        )
        for need in needs
    )
    share_audit_record(
        event=AuditEvent.SHARE_CREATED, share=share, actor=owner, documents=documents
    )
    return share, True


def _share_create_with_token(**fields) -> tuple[Share, str | None]:
    """An email or link share, opened with a new secret token of 256 random bits of which
    only the hash is kept. Returns the share and the token, or None for the token when the
    submission repeats one already made (its token is not known any more)."""
    token = secrets.token_urlsafe(32)
    share, created = _share_create(token_hash=token_hash(token), **fields)
    return share, (token if created else None)


def share_create_with_organization(
    *,
    owner: User,
    document_ids: Sequence[int],
    recipient: Organization,
    submission_token: uuid.UUID,
    name: str = "",
    purpose: str = "",
    reference: str = "",
    field_values: dict | None = None,
    expires_on: datetime.date | None = None,
    confirmed_credit_use: bool = False,
    notify_owner_on_first_open: bool = False,
) -> Share:
    """Share the owner's documents with a participating organization; its staff find the
    share in their inbox."""
    if not recipient.is_participating:
        raise ShareError(
            _("Choose a participating organization from the list."),
            code="recipient_not_participating",
            field="recipient",
        )
    with transaction.atomic():
        share, created = _share_create(
            owner=owner,
            channel=Share.Channel.ORGANIZATION,
            document_ids=document_ids,
            submission_token=submission_token,
            expires_on=expires_on,
            confirmed_credit_use=confirmed_credit_use,
            recipient_organization=recipient,
            name=name,
            purpose=purpose,
            reference=reference,
            field_values=field_values or {},
            notify_owner_on_first_open=notify_owner_on_first_open,
        )
        if created:
            # In this transaction: no share, no webhook; sent after the commit, in the
            # background.
            share_event_publish(share=share, event_type=Event.SHARE_RECEIVED)
        return share


def share_create_by_email(
    *,
    owner: User,
    document_ids: Sequence[int],
    recipient_email: str,
    submission_token: uuid.UUID,
    email_language: str = "",
    message: str = "",
    name: str = "",
    purpose: str = "",
    reference: str = "",
    expires_on: datetime.date | None = None,
    confirmed_credit_use: bool = False,
    notify_owner_on_first_open: bool = False,
) -> Share:
    """Share the owner's documents with anyone by email: the recipient gets a link, and
    opening it asks for a code sent in a second email. The email is queued in the same
    transaction as the share: an SMTP outage delays it, never loses it."""
    language = email_language or owner.language
    if language not in dict(settings.LANGUAGES):
        raise ShareError(_("Choose the language of the email."), code="bad_language")
    with transaction.atomic():
        share, token = _share_create_with_token(
            owner=owner,
            channel=Share.Channel.EMAIL,
            document_ids=document_ids,
            submission_token=submission_token,
            expires_on=expires_on,
            confirmed_credit_use=confirmed_credit_use,
            recipient_email=recipient_email.strip().lower(),
            email_language=language,
            message=message,
            name=name,
            purpose=purpose,
            reference=reference,
            notify_owner_on_first_open=notify_owner_on_first_open,
        )
        if token is not None:
            email_queue(
                to=share.recipient_email,
                template="sharing/email/share_received",
                context={"share": share, "learner": owner, "url": share_url(token)},
                language=language,
            )
        return share


def share_create_link(
    *,
    owner: User,
    document_ids: Sequence[int],
    submission_token: uuid.UUID,
    name: str = "",
    purpose: str = "",
    reference: str = "",
    expires_on: datetime.date | None = None,
    confirmed_credit_use: bool = False,
    notify_owner_on_first_open: bool = False,
) -> tuple[Share, str | None]:
    """Share the owner's documents with whoever holds a secret link. Returns the share and
    the link's token, which exists only here (only its hash is stored): None when the
    submission was a repeat of one already made."""
    with transaction.atomic():
        return _share_create_with_token(
            owner=owner,
            channel=Share.Channel.LINK,
            document_ids=document_ids,
            submission_token=submission_token,
            expires_on=expires_on,
            confirmed_credit_use=confirmed_credit_use,
            name=name,
            purpose=purpose,
            reference=reference,
            notify_owner_on_first_open=notify_owner_on_first_open,
        )


def share_revoke(*, share: Share) -> Share:
    """Stop a share from giving access, from the recipient's next request on."""
    if share.revoked_at is None:
        now = timezone.now()
        with transaction.atomic():
            # Conditional, so that two revocations at once keep the first time and announce
            # it once; a recipient already told the share expired is not told again.
            if Share.objects.filter(pk=share.pk, revoked_at__isnull=True).update(revoked_at=now):
                share.revoked_at = now
                if share.expiry_announced_at is None:
                    share_event_publish(share=share, event_type=Event.SHARE_REVOKED)
                share_audit_record(event=AuditEvent.SHARE_REVOKED, share=share)
            else:
                share.refresh_from_db(fields=["revoked_at"])
    return share


def share_expiry_change(*, share: Share, expires_on: datetime.date | None) -> Share:
    """Move or remove a live share's expiry date; the recipient's next request obeys it."""
    if share.state != Share.State.ACTIVE:
        raise ShareError(
            _("Only an active share can be changed."), code="share_not_active", status=410
        )
    _check_expiry(expires_on)
    share.expires_on = expires_on
    share.save(update_fields=["expires_on"])
    return share


def share_for_token(*, token: str) -> Share:
    """The share a secret link opens. An unknown token is a 404; a share that is no longer
    live is a 410 saying whether it expired or was revoked."""
    share = Share.objects.filter(token_hash=token_hash(token)).first()
    if share is None:
        raise ShareError(_("This link does not lead to any share."), code="not_found", status=404)
    share_check_live(share=share)
    return share


def share_check_live(*, share: Share) -> None:
    """Refuse access to a share that expired or was revoked, on every request."""
    state = share.state
    if state == Share.State.REVOKED:
        raise ShareError(_("The learner revoked this share."), code="revoked", status=410)
    if state == Share.State.EXPIRED:
        raise ShareError(_("This share has expired."), code="expired", status=410)


def _code_hmac(share: Share, code: str) -> str:
    message = f"{share.pk}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def code_entry_locked_error() -> ShareError:
    """What the recipient is told while a share's code entry is locked."""
    return ShareError(
        _(
            "Too many wrong codes were entered for this share, so entering codes is locked. "
            "The person who shared it with you has been told and can unlock it."
        ),
        code="code_entry_locked",
        status=429,
    )


def _code_too_soon() -> ShareError:
    return ShareError(
        _("A code was sent less than a minute ago. Check your inbox, or wait a minute."),
        code="code_too_soon",
        status=429,
    )


def _locked_share(share: Share) -> Share:
    """SHARE's row, locked: every code sent and every try of a share is counted one at a time,
    however many arrive at once."""
    return (
        Share.objects.select_for_update()
        .only("pk", "code_failures", "code_entry_locked_at")
        .get(pk=share.pk)
    )


def access_code_send(*, share: Share, by_owner: bool = False) -> AccessCode:
    """Email a new 6-digit code to the recipient of an email share; earlier codes stop
    working. The recipient may ask once a minute and CREDSHARE_ACCESS_CODES_PER_DAY times in
    24 hours, and not at all while the share's code entry is locked; the learner who made the
    share (BY_OWNER, unlocking it) is not held by those."""
    if share.channel != Share.Channel.EMAIL:
        raise ShareError(_("This share needs no code."), code="no_code_needed")
    share_check_live(share=share)
    now = timezone.now()
    with transaction.atomic():
        # The learner first, then the share (the order every other lock of both takes): the
        # codes of all the learner's shares are counted together.
        User.objects.select_for_update(no_key=True).only("pk").get(pk=share.owner_id)
        current = _locked_share(share)
        if not by_owner:
            if current.code_entry_locked_at is not None:
                raise code_entry_locked_error()
            latest = share.access_codes.order_by("-created").first()
            if latest is not None and now - latest.created < ACCESS_CODE_RESEND_INTERVAL:
                raise _code_too_soon()
            today = share.access_codes.filter(created__gt=now - datetime.timedelta(days=1))
            if today.count() >= settings.CREDSHARE_ACCESS_CODES_PER_DAY:
                raise ShareError(
                    _(
                        "We already sent the most codes a day for this share. Use the last "
                        "code we sent, or ask for a new one tomorrow."
                    ),
                    code="code_daily_limit",
                    status=429,
                )
        _code_emails_check(share)
        share.access_codes.filter(used_at__isnull=True).update(expires_at=now)
        code = f"{secrets.randbelow(10**6):06d}"
        access_code = AccessCode.objects.create(
            share=share,
            code_hmac=_code_hmac(share, code),
            created=now,
            expires_at=now + ACCESS_CODE_LIFETIME,
        )
        email_queue(
            to=share.recipient_email,
            template="sharing/email/access_code",
            context={
                "share": share,
                "code": code,
                "minutes": int(ACCESS_CODE_LIFETIME.total_seconds() // 60),
            },
            language=share.email_language or settings.LANGUAGE_CODE,
        )
        return access_code


def _code_entry_lock(share: Share, current: Share, now: datetime.datetime) -> None:
    """Lock the share's code entry (CURRENT is its locked row) and tell its learner."""
    current.code_entry_locked_at = now
    current.save(update_fields=["code_failures", "code_entry_locked_at"])
    share.access_codes.filter(used_at__isnull=True).update(expires_at=now)
    owner = User.objects.only("email", "language").get(pk=share.owner_id)
    email_queue(
        to=owner.email,
        template="sharing/email/code_entry_locked",
        context={
            "share": share,
            "failures": current.code_failures,
            "url": settings.CREDSHARE_BASE_URL.rstrip("/")
            + reverse("sharing:detail", args=[share.pk]),
        },
        language=owner.language,
    )


def access_code_verify(*, share: Share, code: str) -> None:
    """Check the code the recipient typed. Each try is counted under the share's row lock, so
    however many arrive at once, at most ACCESS_CODE_MAX_ATTEMPTS are evaluated before the
    code locks, and at most CREDSHARE_ACCESS_CODE_MAX_FAILURES wrong ones over all the
    share's codes before its code entry locks (the learner is told and can unlock it)."""
    share_check_live(share=share)
    now = timezone.now()
    with transaction.atomic():
        current = _locked_share(share)
        if current.code_entry_locked_at is not None:
            raise code_entry_locked_error()
        access_code = (
            AccessCode.objects.select_for_update()
            .filter(share=share, used_at__isnull=True)
            .order_by("-created")
            .first()
        )
        if access_code is None or access_code.expires_at <= now:
            error = ShareError(
                _("This code has expired. Ask for a new one."), code="code_expired", status=400
            )
        elif access_code.attempts >= ACCESS_CODE_MAX_ATTEMPTS:
            error = ShareError(
                _("Too many wrong tries: this code is locked. Ask for a new one."),
                code="code_locked",
                status=429,
            )
        else:
            access_code.attempts += 1
            entered = "".join(code.split())
            if hmac.compare_digest(access_code.code_hmac, _code_hmac(share, entered)):
                access_code.used_at = now
                access_code.save(update_fields=["attempts", "used_at"])
                return
            access_code.save(update_fields=["attempts"])
            current.code_failures += 1
            if current.code_failures >= settings.CREDSHARE_ACCESS_CODE_MAX_FAILURES:
                _code_entry_lock(share, current, now)
                error = code_entry_locked_error()
            else:
                current.save(update_fields=["code_failures"])
                left = ACCESS_CODE_MAX_ATTEMPTS - access_code.attempts
                error = ShareError(
                    ngettext(
                        "Wrong code. You have %(count)d try left.",
                        "Wrong code. You have %(count)d tries left.",
                        left,
                    )
                    % {"count": left}
                    if left
                    else _("Too many wrong tries: this code is locked. Ask for a new one."),
                    code="wrong_code" if left else "code_locked",
                    status=400 if left else 429,
                    field="code",
                )
    # Raised after the transaction, so the counted try is kept.
    raise error


def share_code_entry_unlock(*, share: Share) -> AccessCode:
    """The learner unlocks their email share's code entry (locked after too many wrong
    codes): the count starts again and a new code goes to the recipient. Refused for a share
    that is not locked (nothing to do) or no longer live."""
    with transaction.atomic():
        current = _locked_share(share)
        if current.code_entry_locked_at is None:
            raise ShareError(
                _("Entering codes is not locked for this share."), code="code_entry_not_locked"
            )
        current.code_failures = 0
        current.code_entry_locked_at = None
        current.save(update_fields=["code_failures", "code_entry_locked_at"])
        share.code_failures, share.code_entry_locked_at = 0, None
        return access_code_send(share=share, by_owner=True)


def share_access_record(
    *,
    share: Share,
    action: str,
    user: User | None = None,
    organization: Organization | None = None,
    document: Document | None = None,
    version: DocumentVersion | None = None,
) -> ShareAccess:
    """Record an access; on a share's first opening, tell its owner if they asked to know."""
    access = ShareAccess(
        share=share,
        action=action,
        user=user,
        organization=organization,
        document=document,
        version=version,
    )
    if action != ShareAccess.Action.OPENED:
        # A view or a download writes this one row and nothing else: a single INSERT is
        # atomic on its own, without a transaction block's BEGIN and COMMIT round trips
        # (every file a recipient opens comes here).
        access.save(force_insert=True)
        return access
    with transaction.atomic():
        access.save(force_insert=True)
        if share.notify_owner_on_first_open:
            _notify_owner_of_first_opening(share=share, access=access)
        share_audit_record(event=AuditEvent.SHARE_OPENED, share=share, actor=user)
        return access


def _notify_owner_of_first_opening(*, share: Share, access: ShareAccess) -> None:
    # The conditional update makes the email go once, however many openings race.
    claimed = Share.objects.filter(pk=share.pk, owner_notified_at__isnull=True).update(
        owner_notified_at=access.at
    )
    if not claimed:
        return
    email_queue(
        to=share.owner.email,
        template="sharing/email/first_opened",
        context={
            "share": share,
            "who": access.visitor_label(),
            "url": settings.CREDSHARE_BASE_URL.rstrip("/")
            + reverse("sharing:detail", args=[share.pk]),
        },
        language=share.owner.language,
    )
