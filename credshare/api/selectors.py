"""What an API key may read: only its own organization's shares received and documents issued.
Anything else is a 404, as if it did not exist."""

import base64
import binascii
import datetime
import json
import uuid

from django.db.models import Prefetch, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from credshare.api.errors import ApiError
from credshare.core.ranges import DateOutOfRange, check_moment
from credshare.documents.models import Document, DocumentVersion, IssuanceJob
from credshare.documents.selectors import newest_versions_first
from credshare.network.models import Organization, ShareField
from credshare.sharing.models import Share

# --- shares received --------------------------------------------------------------------------


def shares_for_organization(*, organization: Organization) -> QuerySet[Share]:
    """The shares addressed to ORGANIZATION, newest first, with all that the API shows of
    them in a fixed number of queries (learner, field labels, documents with issuer and
    versions). The organization's id is written into the query: the database walks the
    inbox index (recipient, channel, -created, -id)."""
    documents = Prefetch(
        "documents",
        queryset=Document.objects.select_related("issuer")
        .prefetch_related(newest_versions_first())
        .order_by("-issue_date", "-id"),
    )
    return (
        Share.objects.filter(
            channel=Share.Channel.ORGANIZATION, recipient_organization_id=organization.pk
        )
        .select_related("owner", "recipient_organization")
        .prefetch_related("recipient_organization__share_fields", documents)
        .order_by("-created", "-id")
    )


def shares_filtered(
    shares: QuerySet[Share],
    *,
    since: datetime.datetime | None = None,
    state: str | None = None,
    processed: bool | None = None,
) -> QuerySet[Share]:
    """SHARES created after SINCE, in STATE (as `Share.state` computes it, in SQL), processed
    or not."""
    if since is not None:
        if timezone.is_naive(since):
            since = timezone.make_aware(since, datetime.UTC)
        shares = shares.filter(created__gt=since)
    if state == Share.State.ACTIVE:
        shares = shares.live()
    elif state == Share.State.REVOKED:
        shares = shares.filter(revoked_at__isnull=False)
    elif state == Share.State.EXPIRED:
        # Past the end of its expiry date (in the platform's time zone) and not revoked.
        shares = shares.filter(revoked_at__isnull=True, expires_on__lt=timezone.localdate())
    if processed is not None:
        shares = shares.filter(processed_at__isnull=not processed)
    return shares


def _cursor_encode(share: Share) -> str:
    # The share's public id breaks ties on `created`: the cursor says nothing of row ids.
    raw = json.dumps([share.created.isoformat(), str(share.public_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_decode(cursor: str) -> tuple[datetime.datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, public_id = json.loads(raw)
        moment = datetime.datetime.fromisoformat(created)
        if timezone.is_naive(moment):
            raise ValueError("naive")
        # A made-up cursor at the calendar's edge would overflow on its way to the database.
        check_moment(moment)
        return moment, uuid.UUID(public_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, DateOutOfRange):
        raise ApiError(
            400,
            "invalid_cursor",
            _("This cursor is not one the API gave: start again without it."),
            details=[{"loc": ["query", "cursor"], "code": "invalid_cursor"}],
        ) from None


def shares_page(
    shares: QuerySet[Share], *, cursor: str | None, limit: int
) -> tuple[list[Share], str | None]:
    """One page of SHARES (ordered newest first, ties by id) after CURSOR, and the cursor of
    the next page (None on the last). Keyset pagination: a page costs the same at any depth,
    and shares that arrive meanwhile never shift the pages that follow."""
    if cursor:
        created, public_id = _cursor_decode(cursor)
        last_id = Subquery(Share.objects.filter(public_id=public_id).values("pk")[:1])
        shares = shares.filter(Q(created__lt=created) | Q(created=created, pk__lt=last_id))
    rows = list(shares[: limit + 1])
    if len(rows) > limit:
        return rows[:limit], _cursor_encode(rows[limit - 1])
    return rows, None


def share_for_organization_or_404(*, organization: Organization, share_id: uuid.UUID) -> Share:
    return get_object_or_404(shares_for_organization(organization=organization), public_id=share_id)


def shared_document_or_404(*, share: Share, document_id: uuid.UUID) -> Document:
    """One of the share's documents (prefetched with its versions), else a 404."""
    for document in share.documents.all():
        if document.public_id == document_id:
            return document
    raise ApiError(404, "not_found", _("This share has no such document."))


def share_field_values(share: Share) -> list[tuple[str, str, str, str]]:
    """(key, label, value, value shown) of the share's additional fields, in the field order;
    values whose field the organization has since removed come last, under their key. Uses
    the prefetched fields: no query."""
    fields = list(share.recipient_organization.share_fields.all())
    values = share.field_values if isinstance(share.field_values, dict) else {}
    result = []
    for field in fields:
        if field.key in values:
            value = str(values[field.key])
            shown = value
            if field.field_type == ShareField.FieldType.CHOICE:
                shown = dict(field.choice_options()).get(value, value)
            result.append((field.key, field.label, value, shown))
    known = {field.key for field in fields}
    result += [(k, k, str(v), str(v)) for k, v in values.items() if k not in known]
    return result


# --- documents issued and jobs ----------------------------------------------------------------


def issued_document_or_404(*, issuer: Organization, document_id: uuid.UUID) -> Document:
    """One of ISSUER's documents with its learner and versions (newest first)."""
    return get_object_or_404(
        Document.objects.filter(issuer=issuer)
        .select_related("issuer", "learner")
        .prefetch_related(newest_versions_first()),
        public_id=document_id,
    )


def issued_document_by_external_id(*, issuer: Organization, external_id: str) -> Document | None:
    if not external_id:
        return None
    return (
        Document.objects.filter(issuer=issuer, external_id=external_id)
        .select_related("issuer", "learner")
        .prefetch_related(newest_versions_first())
        .first()
    )


def document_versions(document: Document) -> list[DocumentVersion]:
    """The document's versions, newest first (prefetched when they are)."""
    if "versions" in getattr(document, "_prefetched_objects_cache", {}):
        return list(document.versions.all())
    return list(document.versions.order_by("-number"))


def job_of_issuer_or_404(*, issuer: Organization, job_id: uuid.UUID) -> IssuanceJob:
    return get_object_or_404(IssuanceJob, issuer=issuer, public_id=job_id)
