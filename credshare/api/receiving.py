"""Receiving organizations: the shares addressed to them, their documents, the processed mark.
The same rules as the inbox: only the key's organization's shares; a share that expired or
was revoked, or a document its issuer withdrew, serves no PDF (410)."""

import base64
import uuid
from typing import Annotated

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router

from credshare.api import schemas
from credshare.api.auth import ApiKeyAuth
from credshare.api.errors import ApiError
from credshare.api.idempotency import idempotent
from credshare.api.models import ApiKey
from credshare.api.openapi import PDF_RESPONSE, error_responses
from credshare.api.output import share_out
from credshare.api.selectors import (
    share_for_organization_or_404,
    shared_document_or_404,
    shares_filtered,
    shares_for_organization,
    shares_page,
)
from credshare.api.services import share_mark_processed, share_unmark_processed
from credshare.billing.selectors import document_is_locked
from credshare.documents.selectors import current_version
from credshare.documents.views import pdf_response
from credshare.sharing.models import Share, ShareAccess
from credshare.sharing.services import share_access_record

router = Router(tags=["Shares received"])

Scope = ApiKey.Scope


@router.get(
    "/shares",
    response={200: schemas.SharePage, **error_responses(400, 401, 403, 413, 422, 429)},
    auth=ApiKeyAuth(Scope.SHARES_READ),
    url_name="shares",
    summary="List the shares received",
)
def share_list(
    request: HttpRequest,
    since: Annotated[
        schemas.QueryMoment | None,
        Query(
            description="Only shares created after this moment (ISO 8601; UTC when it has no "
            "offset), between 1900 and a hundred years from now (`date_out_of_range`)."
        ),
    ] = None,
    status: Annotated[
        schemas.ShareState | None, Query(description="Only shares in this state now.")
    ] = None,
    processed: Annotated[
        bool | None,
        Query(description="true: only shares marked processed; false: only the others."),
    ] = None,
    cursor: Annotated[
        str | None,
        Query(max_length=500, description="The `next_cursor` of the previous page."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Shares a page.")] = 50,
):
    """Shares addressed to your organization, newest first, a page at a time. Follow
    `next_cursor` until it is null, passing the same filters each time. Scope `shares:read`."""
    shares = shares_filtered(
        shares_for_organization(organization=request.auth.organization),
        since=since,
        state=status,
        processed=processed,
    )
    rows, next_cursor = shares_page(shares, cursor=cursor, limit=limit)
    return schemas.SharePage(items=[share_out(share) for share in rows], next_cursor=next_cursor)


@router.get(
    "/shares/{share_id}",
    response={200: schemas.ShareOut, **error_responses(401, 403, 404, 413, 422, 429)},
    auth=ApiKeyAuth(Scope.SHARES_READ),
    url_name="share",
    summary="Get one share",
)
def share_detail(request: HttpRequest, share_id: uuid.UUID):
    """One share addressed to your organization: reference, additional fields, learner, and
    its documents with their current version, SHA-256 and status. Reading an active share is
    recorded in the learner's access log, as opening it in the inbox is. Scope
    `shares:read`."""
    organization = request.auth.organization
    share = share_for_organization_or_404(organization=organization, share_id=share_id)
    if share.state == Share.State.ACTIVE:
        share_access_record(
            share=share, action=ShareAccess.Action.OPENED, organization=organization
        )
    return share_out(share)


@router.get(
    "/shares/{share_id}/documents/{document_id}/pdf",
    response={200: None, **error_responses(401, 403, 404, 410, 413, 422, 429)},
    auth=ApiKeyAuth(Scope.DOCUMENTS_DOWNLOAD),
    url_name="share_document_pdf",
    summary="Download a shared document",
    openapi_extra={"responses": {200: PDF_RESPONSE}},
)
def share_document_pdf(request: HttpRequest, share_id: uuid.UUID, document_id: uuid.UUID):
    """The current version of one of the share's documents, as a PDF attachment. Each
    download is recorded in the learner's access log. A share that expired or was revoked
    answers 410 `share_expired` or `share_revoked`; a document its issuer withdrew or
    revoked, 410 `document_withdrawn`; a document locked until the learner pays its
    collection fee, 403 `document_locked`. Scope `documents:download`."""
    organization = request.auth.organization
    share = share_for_organization_or_404(organization=organization, share_id=share_id)
    state = share.state
    if state == Share.State.REVOKED:
        raise ApiError(410, "share_revoked", _("The learner revoked this share."))
    if state == Share.State.EXPIRED:
        raise ApiError(410, "share_expired", _("This share has expired."))
    document = shared_document_or_404(share=share, document_id=document_id)
    version = current_version(document)
    if version is None:
        raise ApiError(404, "not_found", _("This share has no such document."))
    if not document.is_active:
        raise ApiError(
            410, "document_withdrawn", _("The issuer withdrew this document: it is not served.")
        )
    if document_is_locked(document):
        raise ApiError(
            403,
            "document_locked",
            _(
                "The issuer asks a collection fee for this document that the learner has not "
                "paid: it is not served until it is."
            ),
        )
    share_access_record(
        share=share,
        action=ShareAccess.Action.DOWNLOADED,
        organization=organization,
        document=document,
        version=version,
    )
    response = pdf_response(document, version, as_attachment=True)
    # RFC 9530: the client can check what it received against the SHA-256 the share lists.
    response["Repr-Digest"] = (
        f"sha-256=:{base64.b64encode(bytes.fromhex(version.sha256)).decode()}:"
    )
    return response


@router.post(
    "/shares/{share_id}/processed",
    response={200: schemas.ShareOut, **error_responses(400, 401, 403, 404, 413, 422, 429)},
    auth=ApiKeyAuth(Scope.SHARES_PROCESS),
    url_name="share_processed",
    summary="Mark a share processed",
)
@idempotent
def share_processed_mark(request: HttpRequest, share_id: uuid.UUID):
    """Say that your systems have taken the share in: `processed_at` is set (and kept: doing
    it again changes nothing), and `processed=false` no longer lists it. Scope
    `shares:process`."""
    share = share_for_organization_or_404(organization=request.auth.organization, share_id=share_id)
    return share_out(share_mark_processed(share=share))


@router.delete(
    "/shares/{share_id}/processed",
    response={200: schemas.ShareOut, **error_responses(401, 403, 404, 413, 422, 429)},
    auth=ApiKeyAuth(Scope.SHARES_PROCESS),
    url_name="share_processed",
    summary="Unmark a share processed",
)
def share_processed_unmark(request: HttpRequest, share_id: uuid.UUID):
    """Clear `processed_at`, to process the share again. Scope `shares:process`."""
    share = share_for_organization_or_404(organization=request.auth.organization, share_id=share_id)
    return share_out(share_unmark_processed(share=share))
