"""Appending to the audit log. Other apps' services call `audit_record` inside their own
transaction, last, so that an entry exists exactly when the change it records commits."""

import contextvars
import datetime
from collections.abc import Iterable

from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from credshare.audit.chain import GENESIS_HASH, entry_hash
from credshare.audit.models import AuditEntry, AuditEntryOrganization, Event
from credshare.core.client_address import client_address

# The request being served in this thread, if any (AuditRequestMiddleware): where its IP and,
# when a service does not name one, its actor come from. Threads started by a request (inline
# jobs) do not inherit it: their entries are the system's.
current_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "credshare_audit_request", default=None
)

# Any fixed 64-bit number that no other part of credshare uses as an advisory lock.
_CHAIN_LOCK_KEY = 0x63726564_61756474  # "credaudt"
# Details are a few short facts; anything longer is cut, so no one logs a document by mistake.
_DETAIL_TEXT_LIMIT = 200


def _lock_chain() -> None:
    """Serialize appends until this transaction ends, so that two of them never take the
    same head. PostgreSQL: a transaction-level advisory lock (released at commit or rollback,
    like a row lock, without a row to lock). SQLite needs none: its transactions start
    IMMEDIATE (see settings), so only one writer runs at a time."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])


def _detail(value):
    """VALUE as JSON that reads back the same from either database: text, whole numbers,
    booleans, lists and objects of them."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, dict):
        return {str(key): _detail(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_detail(item) for item in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return str(value)[:_DETAIL_TEXT_LIMIT]


def _client_ip(request: HttpRequest | None) -> str:
    """The client's address (behind our proxies, the one they forwarded: core.client_address)."""
    return client_address(request) if request is not None else ""


def _actor_fields(actor, request: HttpRequest | None) -> dict:
    """Who acted: ACTOR (a user or an API key) when the service knows, else the request's
    API key or signed-in user, else a visitor (a request) or the system (none)."""
    from credshare.accounts.models import User
    from credshare.api.models import ApiKey

    if actor is None and request is not None:
        auth = getattr(request, "auth", None)  # set by the API's key authentication
        user = getattr(request, "user", None)
        if isinstance(auth, ApiKey):
            actor = auth
        elif user is not None and user.is_authenticated:
            actor = user
    if isinstance(actor, ApiKey):
        return {
            "actor_kind": AuditEntry.ActorKind.API_KEY,
            "actor_api_key": actor.public_id,
            "actor_label": f"{actor.name} (csk_{actor.prefix}_…)"[:254],
        }
    if isinstance(actor, User):
        return {
            "actor_kind": AuditEntry.ActorKind.USER,
            "actor_user": actor,
            "actor_label": actor.email,
        }
    kind = AuditEntry.ActorKind.VISITOR if request is not None else AuditEntry.ActorKind.SYSTEM
    return {"actor_kind": kind}


def _organization_ids(organizations: Iterable) -> list[int]:
    ids = {getattr(organization, "pk", organization) for organization in organizations}
    return sorted(int(pk) for pk in ids if pk is not None)


def audit_record(
    *,
    event: str,
    target=None,
    organizations: Iterable = (),
    actor=None,
    details: dict | None = None,
    request: HttpRequest | None = None,
) -> AuditEntry:
    """Append EVENT about TARGET (a model instance: its public id when it has one, else its
    pk) concerning ORGANIZATIONS (instances or ids) to the chain, in the caller's
    transaction. ACTOR is a user or an API key; without one, the request's. REQUEST defaults
    to the one being served. DETAILS: a few facts, never a secret, a token, a code or a
    document's content."""
    request = request if request is not None else current_request.get()
    if target is not None:
        target_id = getattr(target, "public_id", None) or target.pk
        object_type, object_id = target._meta.model_name, str(target_id)
    else:
        object_type = object_id = ""
    entry = AuditEntry(
        event=event,
        object_type=object_type,
        object_id=object_id,
        organization_ids=_organization_ids(organizations),
        ip=_client_ip(request),
        request_id=(getattr(request, "request_id", "") or "")[:64],
        details=_detail(details or {}),
        **_actor_fields(actor, request),
    )
    with transaction.atomic():
        _lock_chain()
        head = AuditEntry.objects.order_by("-sequence").only("sequence", "hash").first()
        entry.sequence = head.sequence + 1 if head else 1
        entry.prev_hash = head.hash if head else GENESIS_HASH
        # Taken under the lock, so times never go backwards along the chain.
        entry.at = timezone.now().astimezone(datetime.UTC)
        entry.hash = entry_hash(entry)
        entry.save(force_insert=True)
        AuditEntryOrganization.objects.bulk_create(
            AuditEntryOrganization(entry=entry, organization_id=pk) for pk in entry.organization_ids
        )
    return entry


# What each kind of change records: one call in the service that makes the change, last in
# its transaction.


def share_audit_record(*, event: str, share, actor=None, documents=()) -> AuditEntry:
    """A share created, opened or revoked; it concerns the organization it was made to."""
    details = {"channel": share.channel}
    if documents:
        details["documents"] = [str(document.public_id) for document in documents]
    return audit_record(
        event=event,
        target=share,
        organizations=[share.recipient_organization_id],
        actor=actor,
        details=details,
    )


def document_audit_record(*, event: str, document, actor=None, details=None) -> AuditEntry:
    """A document issued, given a new version, withdrawn or revoked; it concerns its issuer."""
    return audit_record(
        event=event,
        target=document,
        organizations=[document.issuer_id],
        actor=actor,
        details={"type": document.document_type, **(details or {})},
    )


def purchase_audit_record(*, purchase) -> AuditEntry | None:
    """A purchase that has just become paid or refunded (the event follows from its new
    status; other statuses record nothing); it concerns the issuer paid."""
    from credshare.billing.models import Purchase

    events = {
        Purchase.Status.PAID: Event.PAYMENT_COMPLETED,
        Purchase.Status.REFUNDED: Event.PAYMENT_REFUNDED,
    }
    if purchase.status not in events:
        return None
    details = {
        "kind": purchase.kind,
        "total_cents": purchase.total_cents,
        "currency": purchase.currency,
        "provider": purchase.provider,
    }
    if purchase.duplicate_of_id is not None:
        # A second payment of a fee already paid, refunded automatically.
        details["duplicate_of"] = str(purchase.duplicate_of.public_id)
    return audit_record(
        event=events[purchase.status],
        target=purchase,
        organizations=[purchase.issuer_id],
        details=details,
    )


def api_key_audit_record(*, event: str, key, actor=None) -> AuditEntry:
    """An API key created or revoked: its name, prefix and scopes, never its secret."""
    return audit_record(
        event=event,
        target=key,
        organizations=[key.organization_id],
        actor=actor,
        details={"name": key.name, "prefix": key.prefix, "scopes": list(key.scopes)},
    )
