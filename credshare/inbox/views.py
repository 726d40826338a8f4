from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from credshare.core.pagination import uncounted_page
from credshare.core.views import gone
from credshare.documents.views import pdf_response
from credshare.network.selectors import organizations_of_request_user
from credshare.sharing.models import Share, ShareAccess
from credshare.sharing.recipient_views import share_page_headers
from credshare.sharing.selectors import (
    documents_as_recipients_see,
    received_share_or_404,
    received_share_version_or_404,
    shares_received_by,
    with_recipients,
)
from credshare.sharing.services import share_access_record

# Each row renders documents and field values: 25 rows keep the page well under 30 ms.
PAGE_SIZE = 25


@login_required
@require_GET
def inbox_list(request: HttpRequest) -> HttpResponse:
    organizations = [o for o in organizations_of_request_user(request) if o.is_receiver]
    if not organizations:
        raise Http404
    # Uncounted: an inbox grows to 100,000 shares, too many to count on every view.
    page = uncounted_page(
        shares_received_by(organizations=organizations), request.GET.get("page"), PAGE_SIZE
    )
    with_recipients(page.object_list, organizations)
    return render(request, "inbox/inbox_list.html", {"page": page, "organizations": organizations})


@share_page_headers
@login_required
@require_GET
def inbox_share(request: HttpRequest, pk: int) -> HttpResponse:
    share = received_share_or_404(user=request.user, pk=pk)
    if share.state != Share.State.ACTIVE:
        return gone(request, state=share.state)
    share_access_record(
        share=share,
        action=ShareAccess.Action.OPENED,
        user=request.user,
        organization=share.recipient_organization,
    )
    documents = documents_as_recipients_see(list(share.documents.all()))
    return render(request, "inbox/inbox_share.html", {"share": share, "documents": documents})


@share_page_headers
@login_required
@require_GET
def inbox_document_file(
    request: HttpRequest, pk: int, document_pk: int, *, as_attachment: bool
) -> HttpResponse:
    """A shared document's newest version, inline or as a download; each one is recorded."""
    share, version = received_share_version_or_404(
        user=request.user, pk=pk, document_pk=document_pk
    )
    if share.state != Share.State.ACTIVE:
        return gone(request, state=share.state)
    if version is None:
        raise Http404
    document = version.document
    if not document.is_active:
        return gone(request, state="withdrawn")
    if version.document_is_locked:
        return render(request, "core/document_locked_for_recipient.html", status=403)
    share_access_record(
        share=share,
        action=ShareAccess.Action.DOWNLOADED if as_attachment else ShareAccess.Action.VIEWED,
        user=request.user,
        organization=share.recipient_organization,
        document=document,
        version=version,
    )
    return pdf_response(document, version, as_attachment=as_attachment)
