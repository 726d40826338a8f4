from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from credshare.accounts.models import User
from credshare.billing.selectors import CreditNeed, fee_unpaid, locked_document_ids
from credshare.documents.models import Document, DocumentVersion
from credshare.documents.selectors import current_version, newest_versions_first
from credshare.network.models import Organization, ShareField
from credshare.sharing.models import Share, ShareAccess


def _documents_with_issuer() -> Prefetch:
    return Prefetch(
        "documents", queryset=Document.objects.select_related("issuer").order_by("-issue_date")
    )


def _times_opened() -> Coalesce:
    openings = (
        ShareAccess.objects.filter(share=OuterRef("pk"), action=ShareAccess.Action.OPENED)
        .order_by()
        .values("share")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(openings), 0)


def shares_of_owner(*, owner: User) -> QuerySet[Share]:
    """The learner's shares, newest first, with recipient, documents and times opened.
    The openings are counted in a subquery (on the (share, action) index), not by joining
    the accesses and grouping: the page's paginator then counts the shares alone."""
    return (
        Share.objects.filter(owner=owner)
        .select_related("recipient_organization")
        .prefetch_related(_documents_with_issuer())
        .annotate(times_opened=_times_opened())
        .order_by("-created", "-id")
    )


def share_of_owner_or_404(*, owner: User, pk: int) -> Share:
    return get_object_or_404(shares_of_owner(owner=owner), pk=pk)


def accesses_of_share(*, share: Share) -> QuerySet[ShareAccess]:
    return ShareAccess.objects.filter(share=share).select_related(
        "share", "user", "organization", "document"
    )


def organizations_staffed_by(*, user: User) -> QuerySet[Organization]:
    return Organization.objects.filter(memberships__user=user, is_receiver=True)


def _shares_addressed_to(organizations) -> QuerySet[Share]:
    return (
        Share.objects.filter(
            channel=Share.Channel.ORGANIZATION, recipient_organization__in=organizations
        )
        .select_related("owner", "recipient_organization")
        .prefetch_related("recipient_organization__share_fields")
    )


def shares_received_by(*, organizations: list[Organization]) -> QuerySet[Share]:
    """Shares addressed to ORGANIZATIONS (those a staff member belongs to), newest first,
    with what the inbox shows of them: their owner's name, their documents' titles and
    issuers (in `listed_documents`). Their `recipient_organization` is not loaded: set it
    with `with_recipients` once a page is read.

    Takes the organizations already loaded, not a subquery: with their ids written into the
    query, the database walks the (recipient, channel, created) index and stops after a
    page, instead of sorting the whole inbox (bench/pages.py: p95 84 ms -> under 30 ms).
    A page of the inbox is mostly Python work (bench/load.py), hence the narrow columns: no
    transcript records, no organization per row, and the documents prefetched into a list
    (`to_attr`), which spares Django a queryset built for each share."""
    documents = Prefetch(
        "documents",
        queryset=Document.objects.select_related("issuer")
        .only("title", "issue_date", "issuer__name_en", "issuer__name_fr")
        .order_by("-issue_date"),
        to_attr="listed_documents",
    )
    return (
        Share.objects.filter(
            channel=Share.Channel.ORGANIZATION,
            recipient_organization__in=[organization.pk for organization in organizations],
        )
        .select_related("owner")
        .only(
            "recipient_organization",
            "reference",
            "field_values",
            "expires_on",
            "created",
            "revoked_at",
            "owner__full_name",
        )
        .prefetch_related(documents)
        .order_by("-created", "-id")
    )


def with_recipients(shares: list[Share], organizations: list[Organization]) -> list[Share]:
    """SHARES (of `shares_received_by`) with their recipient among ORGANIZATIONS, whose
    share fields (the labels of the values shown) are read in one query for all."""
    if not shares:
        return shares
    prefetch_related_objects(organizations, "share_fields")
    by_id = {organization.pk: organization for organization in organizations}
    for share in shares:
        share.recipient_organization = by_id[share.recipient_organization_id]
    return shares


def received_share_or_404(*, user: User, pk: int) -> Share:
    """A share addressed to one of the user's organizations, its documents with their
    versions; any other share is a 404."""
    documents = Prefetch(
        "documents",
        queryset=Document.objects.select_related("issuer")
        .prefetch_related(newest_versions_first())
        .order_by("-issue_date"),
    )
    shares = _shares_addressed_to(organizations_staffed_by(user=user))
    return get_object_or_404(shares.prefetch_related(documents), pk=pk)


def received_share_version_or_404(
    *, user: User, pk: int, document_pk: int
) -> tuple[Share, DocumentVersion | None]:
    """What serving one document of a received share needs, in two queries: the share, if it
    is addressed to a receiving organization the user is a member of (any other is a 404);
    and the newest version of that document, with the document, if the share holds it (None
    otherwise), its `document_is_locked` read in the same query (`fee_unpaid`, the rule of
    `locked_document_ids`).

    Opening a file is the recipient's hottest path (bench/load.py): unlike
    received_share_or_404 this loads neither the share's other documents nor their versions,
    and only the columns that authorizing, recording and serving the file read (its state,
    its recipient's id; the version's number and file, the document's title and status).
    Membership is a join, not a subquery: a user has one membership an organization."""
    shares = (
        Share.objects.filter(
            channel=Share.Channel.ORGANIZATION,
            recipient_organization__is_receiver=True,
            recipient_organization__memberships__user=user,
        )
        .select_related("recipient_organization")
        .only(
            "channel",
            "expires_on",
            "revoked_at",
            "notify_owner_on_first_open",
            "recipient_organization__id",
        )
    )
    share = get_object_or_404(shares, pk=pk)
    version = (
        DocumentVersion.objects.filter(document_id=document_pk, document__shares=share)
        .select_related("document")
        .only("number", "file", "document__title", "document__status")
        .annotate(
            document_is_locked=ExpressionWrapper(
                fee_unpaid("document__"), output_field=BooleanField()
            )
        )
        .order_by("-number")
        .first()
    )
    return share, version


def documents_as_recipients_see(
    documents: list[Document],
) -> list[tuple[Document, DocumentVersion | None, bool]]:
    """A share's DOCUMENTS as its recipient sees them: each with its newest version (versions
    prefetched newest first, issuers loaded) and whether it is locked until its collection
    fee is paid (`locked_document_ids`: no version then, so no link to its PDF)."""
    locked = locked_document_ids(documents=documents)
    return [
        (
            document,
            None if document.pk in locked else current_version(document),
            document.pk in locked,
        )
        for document in documents
    ]


def share_blockers(
    *,
    documents: list[Document],
    credit_needs: list[CreditNeed],
    locked_ids: set[int] = frozenset(),
) -> dict[int, str]:
    """Why each of DOCUMENTS cannot be shared right now, keyed by document id; documents that
    can be shared are absent. CREDIT_NEEDS are those of the same documents
    (`credit_needs_for_documents`), LOCKED_IDS those whose collection fee is unpaid
    (`locked_document_ids`); documents must have their issuer loaded."""
    needs = {need.issuer.pk: need for need in credit_needs}
    blockers = {}
    for document in documents:
        need = needs.get(document.issuer_id)
        if not document.is_active:
            blockers[document.pk] = _("The issuer withdrew this document: it cannot be shared.")
        elif document.pk in locked_ids:
            blockers[document.pk] = _(
                "%(issuer)s asks a collection fee for this document: pay it to view and share "
                "the document."
            ) % {"issuer": document.issuer.name}
        elif need is not None and not need.is_covered:
            blockers[document.pk] = _(
                "You have no shares left for documents from %(issuer)s. Ask %(issuer)s for "
                "more shares."
            ) % {"issuer": document.issuer.name}
    return blockers


def _shown_value(field: ShareField, value: str) -> str:
    """A choice field's value shows as its label in the active language; others as stored."""
    if field.field_type == ShareField.FieldType.CHOICE:
        return dict(field.choice_options()).get(value, value)
    return value


def labelled_field_values(share: Share) -> list[tuple[str, str]]:
    """The share's extra field values with the organization's labels, in the field order.
    Prefetch `recipient_organization__share_fields` to keep this free of queries in a list."""
    if share.recipient_organization is None:
        return []
    fields = share.recipient_organization.share_fields.all()
    known = [
        (f.label, _shown_value(f, share.field_values[f.key]))
        for f in fields
        if f.key in share.field_values
    ]
    # A value whose field the organization has since removed still shows, under its key.
    keys = {f.key for f in fields}
    return known + [(k, v) for k, v in share.field_values.items() if k not in keys]
