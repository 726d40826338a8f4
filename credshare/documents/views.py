from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseNotFound
from django.shortcuts import render
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from credshare.billing.selectors import credit_needs_for_documents
from credshare.documents.models import Document, DocumentVersion
from credshare.documents.selectors import (
    current_version,
    document_of_learner_or_404,
    documents_of_learner,
)
from credshare.sharing.selectors import share_blockers

PAGE_SIZE = 50


@login_required
@require_GET
def document_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(documents_of_learner(learner=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    documents = list(page.object_list)
    credit_needs = credit_needs_for_documents(learner=request.user, documents=documents)
    blockers = share_blockers(documents=documents, credit_needs=credit_needs)
    rows = [(document, blockers.get(document.pk)) for document in documents]
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
    blockers = share_blockers(documents=[document], credit_needs=credit_needs)
    return render(
        request,
        "documents/document_detail.html",
        {
            "document": document,
            "version": current_version(document),
            "share_blocker": blockers.get(document.pk),
            "credit_needs": credit_needs,
        },
    )


@login_required
@require_GET
def document_file(request: HttpRequest, pk: int, *, as_attachment: bool) -> HttpResponse:
    """The learner's own document, inline for the viewer or as a download."""
    document = document_of_learner_or_404(learner=request.user, pk=pk)
    version = current_version(document)
    if version is None:
        return HttpResponseNotFound()
    return pdf_response(document, version, as_attachment=as_attachment)


def pdf_response(document: Document, version: DocumentVersion, *, as_attachment: bool):
    """Serve one version's PDF. Never cached by shared caches: it is personal data."""
    response = FileResponse(
        version.file.open("rb"),
        as_attachment=as_attachment,
        filename=f"{slugify(document.title) or 'document'}-v{version.number}.pdf",
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    return response
