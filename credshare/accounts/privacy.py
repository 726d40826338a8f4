"""A learner's own data: everything held about them, exported as one zip (selectors), and
closing their account (a service).

Closing keeps what must outlive the account and removes or blanks the rest:

- kept: documents and their versions (the issuers' own records of what they issued, still
  verifiable by whoever holds a PDF), payments and the credit ledger (tax records), the
  shares' skeleton (which documents went to whom and when, referenced by the ledger and by
  the audit log, which is never touched here);
- revoked: every live share, so no recipient can open anything from then on;
- removed or blanked: the name, the address (replaced by one that reaches no one), the
  password, secondary addresses and second factors, the shares' private name, purpose,
  message, reference and extra-field values, access codes, and the outbox's emails to the
  person.
"""

import datetime
import json
import uuid
import zipfile
from collections.abc import Iterable
from typing import IO

from django.apps import apps
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from credshare.accounts.models import User
from credshare.audit.models import Event as AuditEvent
from credshare.audit.services import audit_record
from credshare.billing.models import CreditEntry, Purchase
from credshare.billing.receipts import receipt_pdf
from credshare.billing.selectors import credit_balances, locked_document_ids
from credshare.billing.views import RECEIPT_STATUSES  # the purchases that have a receipt
from credshare.core.errors import ApplicationError
from credshare.documents.models import Document, DocumentVersion
from credshare.network.models import Membership
from credshare.notifications.models import OutgoingEmail
from credshare.sharing.models import AccessCode, Share, ShareAccess
from credshare.sharing.selectors import labelled_field_values
from credshare.sharing.services import share_revoke

EXPORT_FORMAT = "credshare-export/1"
# A closed account's address: unique, and in a domain that can never receive mail (RFC 2606).
CLOSED_EMAIL_DOMAIN = "account-closed.invalid"


class AccountCloseError(ApplicationError):
    """Closing the account was refused; nothing was changed."""


# --- selectors ---------------------------------------------------------------------------------


def _documents_for_export(user: User) -> QuerySet[Document]:
    return (
        Document.objects.filter(learner=user)
        .select_related("issuer")
        .prefetch_related(Prefetch("versions", queryset=DocumentVersion.objects.order_by("number")))
        .order_by("issue_date", "id")
    )


def _shares_for_export(user: User) -> QuerySet[Share]:
    accesses = ShareAccess.objects.select_related(
        "share", "user", "organization", "document", "version"
    ).order_by("at", "id")
    return (
        Share.objects.filter(owner=user)
        .select_related("recipient_organization")
        .prefetch_related(
            "documents",
            "recipient_organization__share_fields",
            Prefetch("accesses", queryset=accesses),
        )
        .order_by("created", "id")
    )


def _addresses_of(user: User) -> list[dict]:
    """The account's email addresses: allauth's list when it is installed (several addresses,
    each verified or not), else the sign-in address alone."""
    if apps.is_installed("allauth.account"):
        from allauth.account.models import EmailAddress

        rows = EmailAddress.objects.filter(user=user).order_by("-primary", "email")
        addresses = [
            {"email": row.email, "primary": row.primary, "verified": row.verified} for row in rows
        ]
        if addresses:
            return addresses
    return [{"email": user.email, "primary": True, "verified": None}]


def _when(value: datetime.datetime | datetime.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def version_path(document: Document, version: DocumentVersion) -> str:
    """The name of a version's PDF inside the export: built from the slugified title and the
    document's public id only, so nothing in it can climb out of the folder or clash."""
    title = slugify(document.title)[:60] or "document"
    return f"documents/{title}-{document.public_id.hex[:8]}-v{version.number}.pdf"


def receipt_path(purchase: Purchase) -> str:
    return f"receipts/{slugify(purchase.receipt_number) or purchase.public_id.hex}.pdf"


def locked_note(document: Document) -> str:
    """The line the export gives a document whose collection fee is unpaid, in place of its
    contents."""
    return _(
        "Locked until its collection fee is paid to %(issuer)s: its PDFs and its record are "
        "not in this export. Pay the fee from the document's page, then export again."
    ) % {"issuer": document.issuer.name}


def _document_data(document: Document, *, is_locked: bool) -> dict:
    if is_locked:
        # The same rule as every other path to a document's contents
        # (billing.selectors.locked_document_ids): what the document is, never what it says.
        return {
            "id": str(document.public_id),
            "issuer": {"slug": document.issuer.slug, "name": document.issuer.name},
            "type": document.document_type,
            "title": document.title,
            "issue_date": _when(document.issue_date),
            "status": document.status,
            "locked": locked_note(document),
        }
    return {
        "id": str(document.public_id),
        "issuer": {"slug": document.issuer.slug, "name": document.issuer.name},
        "type": document.document_type,
        "title": document.title,
        "external_id": document.external_id,
        "student_number": document.student_number,
        "issue_date": _when(document.issue_date),
        "valid_until": _when(document.valid_until),
        "status": document.status,
        "status_reason": document.status_reason,
        "status_changed_at": _when(document.status_changed_at),
        "record": document.record,
        "locked": None,
        "versions": [
            {
                "number": version.number,
                "sha256": version.sha256,
                "size": version.size,
                "created": _when(version.created),
                "file": version_path(document, version),
            }
            for version in document.versions.all()
        ],
    }


def _share_data(share: Share) -> dict:
    organization = share.recipient_organization
    return {
        "id": str(share.public_id),
        "channel": share.channel,
        "recipient": {
            "organization": (
                {"slug": organization.slug, "name": organization.name} if organization else None
            ),
            "email": share.recipient_email or None,
        },
        "name": share.name,
        "purpose": share.purpose,
        "reference": share.reference,
        "message": share.message,
        "email_language": share.email_language or None,
        "extra_fields": [
            {"label": label, "value": value} for label, value in labelled_field_values(share)
        ],
        "documents": sorted(str(document.public_id) for document in share.documents.all()),
        "created": _when(share.created),
        "expires_on": _when(share.expires_on),
        "revoked_at": _when(share.revoked_at),
        "status": share.state,
        "processed_at": _when(share.processed_at),
        "notify_on_first_open": share.notify_owner_on_first_open,
        "accesses": [
            {
                "action": access.action,
                "at": _when(access.at),
                "by": access.visitor_label(),
                "document": str(access.document.public_id) if access.document else None,
                "version": access.version.number if access.version else None,
            }
            for access in share.accesses.all()
        ],
    }


def _purchase_data(purchase: Purchase) -> dict:
    return {
        "receipt_number": purchase.receipt_number,
        "kind": purchase.kind,
        "issuer": purchase.issuer.name,
        "document": str(purchase.document.public_id) if purchase.document else None,
        "credits": purchase.credits,
        "subtotal_cents": purchase.subtotal_cents,
        "tax_cents": purchase.tax_cents,
        "total_cents": purchase.total_cents,
        "currency": purchase.currency,
        "provider": purchase.provider,
        "status": purchase.status,
        "created": _when(purchase.created),
        "paid_at": _when(purchase.paid_at),
        "refunded_at": _when(purchase.refunded_at),
        "receipt": receipt_path(purchase) if purchase.status in RECEIPT_STATUSES else None,
    }


def _ledger_data(user: User) -> dict:
    entries = list(
        CreditEntry.objects.filter(learner=user)
        .select_related("issuer", "share", "purchase")
        .order_by("created", "id")
    )
    issuers = {entry.issuer_id: entry.issuer for entry in entries}
    balances = credit_balances(learner=user, issuer_ids=issuers)
    return {
        "balances": [
            {"issuer": issuers[issuer_id].name, "balance": balance}
            for issuer_id, balance in sorted(balances.items())
        ],
        "entries": [
            {
                "issuer": entry.issuer.name,
                "kind": entry.kind,
                "amount": entry.amount,
                "share": str(entry.share.public_id) if entry.share else None,
                "receipt_number": entry.purchase.receipt_number if entry.purchase else None,
                "note": entry.note,
                "created": _when(entry.created),
            }
            for entry in entries
        ],
    }


def _notifications_data(addresses: Iterable[str]) -> list[dict]:
    # Subjects and dates only: a body can hold a secret (a sign-in link, a code), and sent
    # bodies are not kept anyway.
    emails = OutgoingEmail.objects.filter(to__in=list(addresses)).order_by("created", "id")
    return [
        {
            "to": email.to,
            "subject": email.subject,
            "status": email.status,
            "created": _when(email.created),
            "sent_at": _when(email.sent_at),
        }
        for email in emails
    ]


def _activity_data(user: User) -> list[dict]:
    """What the audit log says this person did (sign-ins with their IP address, shares made
    and revoked...), when the audit app is installed. Only entries they are the actor of:
    another person's actions on their shares are in the shares' access logs."""
    if not apps.is_installed("credshare.audit"):
        return []
    from credshare.audit.models import AuditEntry

    entries = AuditEntry.objects.filter(actor_user=user).order_by("sequence")
    return [
        {
            "event": entry.event,
            "at": _when(entry.at),
            "ip": entry.ip,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
        }
        for entry in entries
    ]


def privacy_export_data(*, user: User) -> tuple[dict, list[Document], list[Purchase]]:
    """Everything held about USER, as JSON-ready data, with the documents and purchases whose
    files go beside it (a document locked until its fee is paid has no files beside it). A
    fixed number of queries, however many rows there are."""
    documents = list(_documents_for_export(user))
    locked_ids = locked_document_ids(documents=documents)
    shares = list(_shares_for_export(user))
    purchases = list(
        Purchase.objects.filter(learner=user)
        .select_related("issuer", "document")
        .order_by("created", "id")
    )
    addresses = _addresses_of(user)
    memberships = Membership.objects.filter(user=user).select_related("organization")
    data = {
        "format": EXPORT_FORMAT,
        "exported_at": _when(timezone.now()),
        "account": {
            "email": user.email,
            "full_name": user.full_name,
            "language": user.language,
            "date_joined": _when(user.date_joined),
            "last_login": _when(user.last_login),
        },
        "emails": addresses,
        "organizations": [
            {"organization": membership.organization.name, "role": membership.role}
            for membership in memberships
        ],
        "documents": [
            _document_data(document, is_locked=document.pk in locked_ids) for document in documents
        ],
        "shares": [_share_data(share) for share in shares],
        "credits": _ledger_data(user),
        "purchases": [_purchase_data(purchase) for purchase in purchases],
        "notifications": _notifications_data(a["email"] for a in addresses),
        "activity": _activity_data(user),
    }
    unlocked = [document for document in documents if document.pk not in locked_ids]
    return data, unlocked, purchases


def privacy_export_write(*, user: User, out: IO[bytes]) -> None:
    """Write USER's export to OUT (a file open for writing bytes): data.json, every version's
    PDF and every receipt, in one zip. PDFs are stored, not compressed: they already are."""
    data, documents, purchases = privacy_export_data(user=user)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2))
        for document in documents:
            for version in document.versions.all():
                info = zipfile.ZipInfo(version_path(document, version), _zip_time(version.created))
                with version.file.open("rb") as source, archive.open(info, "w") as target:
                    _copy(source, target)
        for purchase in purchases:
            if purchase.status in RECEIPT_STATUSES:
                archive.writestr(receipt_path(purchase), receipt_pdf(purchase))


def _zip_time(moment: datetime.datetime) -> tuple[int, int, int, int, int, int]:
    local = timezone.localtime(moment)
    return (max(local.year, 1980), local.month, local.day, local.hour, local.minute, local.second)


def _copy(source: IO[bytes], target: IO[bytes], chunk: int = 1 << 16) -> None:
    while block := source.read(chunk):
        target.write(block)


def export_filename(*, moment: datetime.datetime | None = None) -> str:
    """The download's name: the date only, nothing from the account (no name, no address)."""
    return f"credshare-data-{timezone.localdate(moment or timezone.now()):%Y-%m-%d}.zip"


# --- closing -----------------------------------------------------------------------------------


def _second_factors(user: User) -> QuerySet | None:
    """The user's code-checking second factors (TOTP, recovery codes) when allauth's MFA is
    installed; None when it is not."""
    if not apps.is_installed("allauth.mfa"):
        return None
    from allauth.mfa.models import Authenticator

    # A security key (WebAuthn) cannot check a typed code; the password then stands alone.
    return Authenticator.objects.filter(user=user).exclude(type=Authenticator.Type.WEBAUTHN)


def account_needs_code(*, user: User) -> bool:
    """Whether closing asks for a code from the user's second factor besides the password."""
    factors = _second_factors(user)
    return factors is not None and factors.exists()


def _code_is_valid(user: User, code: str) -> bool:
    factors = _second_factors(user)
    code = "".join(code.split())
    return bool(code) and any(factor.wrap().validate_code(code) for factor in factors or [])


def account_close(*, user: User, password: str, code: str = "") -> None:
    """Close USER's account after checking their password (and their second factor's code
    when they have one). Revokes every live share, blanks or removes what need not be kept,
    and deactivates the account: every session of it, on every device, stops working (the
    password's change invalidates their session hashes; an inactive user is signed out).
    Raises AccountCloseError, changing nothing, when a check fails."""
    if not user.is_active:
        raise AccountCloseError(_("This account is already closed."), code="already_closed")
    if not password or not user.check_password(password):
        raise AccountCloseError(
            _("The password is not right. Your account was not closed."),
            code="wrong_password",
            field="password",
        )
    if account_needs_code(user=user) and not _code_is_valid(user, code):
        raise AccountCloseError(
            _("The code from your authenticator is not right. Your account was not closed."),
            code="wrong_code",
            field="code",
        )
    if Membership.objects.filter(user=user).exists():
        # An organization's staff member: its administrators must remove them first, so that
        # no organization loses its last administrator by surprise.
        raise AccountCloseError(
            _(
                "You are a member of an organization's staff. Ask its administrators to "
                "remove you first, then close your account."
            ),
            code="member_of_organization",
        )

    with transaction.atomic():
        User.objects.select_for_update(no_key=True).only("pk").get(pk=user.pk)
        for share in Share.objects.live().filter(owner=user):
            share_revoke(share=share)
        Share.objects.filter(owner=user).update(
            name="",
            purpose="",
            message="",
            reference="",
            field_values={},
            notify_owner_on_first_open=False,
        )
        AccessCode.objects.filter(share__owner=user).delete()
        addresses = [row["email"] for row in _addresses_of(user)]
        OutgoingEmail.objects.filter(to__in=addresses).delete()
        if apps.is_installed("allauth.account"):
            from allauth.account.models import EmailAddress

            EmailAddress.objects.filter(user=user).delete()
        factors = _second_factors(user)
        if factors is not None:
            factors.model.objects.filter(user=user).delete()

        # Recorded before the name and address go: the entry names the account by its id.
        audit_record(event=AuditEvent.ACCOUNT_CLOSED, target=user, actor=user)
        user.email = f"closed-{uuid.uuid4().hex}@{CLOSED_EMAIL_DOMAIN}"
        user.full_name = ""
        user.is_active = False
        user.set_unusable_password()
        user.save()
