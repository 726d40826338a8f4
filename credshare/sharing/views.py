from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from credshare.billing.selectors import credit_needs_for_documents
from credshare.documents.models import Document
from credshare.documents.selectors import documents_of_learner
from credshare.sharing import services
from credshare.sharing.forms import ShareWithOrganizationForm
from credshare.sharing.selectors import (
    accesses_of_share,
    share_blockers,
    share_of_owner_or_404,
    shares_of_owner,
)

PAGE_SIZE = 25


def _documents_from_query(request: HttpRequest) -> list[Document]:
    """The documents named by ?documents=…: all must be the learner's own, or it is a 404."""
    ids = request.GET.getlist("documents")
    if not ids or not all(i.isdigit() for i in ids):
        raise Http404
    documents = list(documents_of_learner(learner=request.user).filter(pk__in=ids))
    if len(documents) != len(set(ids)):
        raise Http404
    return documents


def _query_for(documents: list[Document]) -> str:
    return urlencode([("documents", d.pk) for d in documents])


@login_required
@require_GET
def share_start(request: HttpRequest) -> HttpResponse:
    """The share window's first step: which documents, what it costs, which channel."""
    if not request.GET.getlist("documents"):
        messages.error(request, _("Tick at least one document to share."))
        return redirect("documents:list")
    documents = _documents_from_query(request)
    credit_needs = credit_needs_for_documents(learner=request.user, documents=documents)
    blockers = share_blockers(documents=documents, credit_needs=credit_needs)
    return render(
        request,
        "sharing/share_start.html",
        {
            "documents": documents,
            "blockers": sorted(set(blockers.values())),
            "credit_needs": credit_needs,
            "query": _query_for(documents),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def share_with_organization(request: HttpRequest) -> HttpResponse:
    """The share window for the channel "with a participating organization"."""
    if request.method == "POST":
        form = ShareWithOrganizationForm(request.POST, learner=request.user)
        if form.is_valid():
            try:
                share = services.share_create_with_organization(
                    owner=request.user,
                    document_ids=[d.pk for d in form.cleaned_data["documents"]],
                    recipient=form.cleaned_data["recipient"],
                    submission_token=form.cleaned_data["submission_token"],
                    name=form.cleaned_data["name"],
                    purpose=form.cleaned_data["purpose"],
                    reference=form.cleaned_data["reference"],
                    field_values=form.extra_field_values(),
                    expires_on=form.cleaned_data["expires_on"],
                    confirmed_credit_use=form.cleaned_data["confirm_credit_use"],
                )
            except services.ShareError as error:
                form.add_error(error.field, error.message)
            else:
                return redirect("sharing:done", pk=share.pk)
        status = 400
    else:
        documents = _documents_from_query(request)
        form = ShareWithOrganizationForm(learner=request.user, initial={"documents": documents})
        status = 200
    return render(
        request,
        "sharing/share_with_organization.html",
        {"form": form, "back_query": _query_for(form.chosen_documents)},
        status=status,
    )


@login_required
@require_GET
def share_fields(request: HttpRequest) -> HttpResponse:
    """The chosen organization's extra fields, fetched by the share window when the
    recipient changes (the server renders them too when the form comes back with errors)."""
    form = ShareWithOrganizationForm(
        learner=request.user, initial={"recipient": request.GET.get("recipient", "")}
    )
    return render(request, "sharing/_extra_fields.html", {"form": form})


@login_required
@require_GET
def share_done(request: HttpRequest, pk: int) -> HttpResponse:
    share = share_of_owner_or_404(owner=request.user, pk=pk)
    return render(request, "sharing/share_done.html", {"share": share})


@login_required
@require_GET
def share_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(shares_of_owner(owner=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "sharing/share_list.html", {"page": page})


@login_required
@require_GET
def share_detail(request: HttpRequest, pk: int) -> HttpResponse:
    share = share_of_owner_or_404(owner=request.user, pk=pk)
    return render(
        request,
        "sharing/share_detail.html",
        {"share": share, "accesses": accesses_of_share(share=share)[:500]},
    )


@login_required
@require_POST
def share_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    share = share_of_owner_or_404(owner=request.user, pk=pk)
    services.share_revoke(share=share)
    messages.success(request, _("The share is revoked: its recipient no longer has access."))
    return redirect(reverse("sharing:detail", args=[share.pk]))
