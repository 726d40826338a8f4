from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.shortcuts import render
from django.views.decorators.http import require_GET

from credshare.billing.selectors import credit_needs_for_documents, locked_document_ids
from credshare.core.security import pdf_file_response
from credshare.documents.models import Document, DocumentVersion
from credshare.documents.selectors import (
    current_version,
    document_of_learner_or_404,
    documents_of_learner,
)
from credshare.sharing.selectors import share_blockers

PAGE_SIZE = 50


@dataclass(frozen=True)
class DocumentRow:
    """A row of the documents page: why it cannot be shared (if so), whether its collection
    fee is unpaid, and whether its issuer's shares ran out."""

    document: Document
    blocker: str | None
    is_locked: bool = False
    needs_shares: bool = False


@login_required
@require_GET
def document_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(documents_of_learner(learner=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    documents = list(page.object_list)
    credit_needs = credit_needs_for_documents(learner=request.user, documents=documents)
    locked_ids = locked_document_ids(documents=documents)
    blockers = share_blockers(documents=documents, credit_needs=credit_needs, locked_ids=locked_ids)
    uncovered = {need.issuer.pk for need in credit_needs if not need.is_covered}
    rows = [
        DocumentRow(
            document,
            blockers.get(document.pk),
            is_locked=document.pk in locked_ids,
            needs_shares=document.issuer_id in uncovered,
        )
        for document in documents
    ]
    return render(
        request,
        "documents/document_list.html",
        {"page": page, "rows": rows, "credit_needs": credit_needs},
    )


@login_required
@require_GET
def document_detail(request: HttpRequest, pk: int) -> HttpResponse:
    document = document_of_learner_or_404(learner=request.user, pk=pk)
    credit_needs = credit_needs_for_documents(learner=request.user, documents=[document])
    is_locked = bool(locked_document_ids(documents=[document]))
    blockers = share_blockers(
        documents=[document],
        credit_needs=credit_needs,
        locked_ids={document.pk} if is_locked else set(),
    )
    return render(
        request,
        "documents/document_detail.html",
        {
            "document": document,
            # A locked document shows its title, issuer and date, never its contents.
            "version": None if is_locked else current_version(document),
            "is_locked": is_locked,
            "share_blocker": blockers.get(document.pk),
            "credit_needs": credit_needs,
        },
    )


@login_required
@require_GET
def document_file(request: HttpRequest, pk: int, *, as_attachment: bool) -> HttpResponse:
    """The learner's own document, inline for the viewer or as a download."""
    document = document_of_learner_or_404(learner=request.user, pk=pk)
    if locked_document_ids(documents=[document]):
        # 403, not 402: 402 Payment Required is "reserved for future use" in HTTP, and
        # browsers, proxies and tools give it no agreed meaning. The learner is known and the
        # document theirs, but its contents are refused until the fee is paid: a page says
        # so and leads to "Pay".
        return render(request, "documents/document_locked.html", {"document": document}, status=403)
    version = current_version(document)
    if version is None:
        return HttpResponseNotFound()
    # The document page shows this PDF in an iframe; every other page refuses to be framed.
    return pdf_response(document, version, as_attachment=as_attachment, framed_by_us=True)


def pdf_response(
    document: Document, version: DocumentVersion, *, as_attachment: bool, framed_by_us: bool = False
) -> HttpResponse:
    """Serve one version's PDF (credshare.core.security.pdf_file_response), named after the
    document's title and version."""
    return pdf_file_response(
        version.file.open("rb"),
        filename=f"{document.title}-v{version.number}.pdf",
        as_attachment=as_attachment,
        framed_by_us=framed_by_us,
    )
