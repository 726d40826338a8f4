"""The issuer staff's document pages: issue one document, find issued documents, see one with
its versions, add a corrected version, withdraw or revoke. Members of the issuing
organization only (404 for anyone else, as for its billing pages); its staff and its
administrators alike may issue, correct and withdraw."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from credshare.accounts.models import User
from credshare.accounts.selectors import user_with_email
from credshare.billing.issuer_selectors import IssuerAccess, issuer_access_or_404
from credshare.core.errors import ApplicationError
from credshare.core.submissions import Repeated, repeated_response, submit_once
from credshare.documents import bulk, selectors, services
from credshare.documents.issuer_forms import (
    BulkUploadForm,
    FilterForm,
    IssueForm,
    VersionForm,
    WithdrawForm,
)
from credshare.documents.models import IssuanceJob, IssuanceRow
from credshare.documents.pdf import transcript_from_record
from credshare.documents.views import pdf_response

PAGE_SIZE = 25


def _access(request: HttpRequest, slug: str) -> IssuerAccess:
    return issuer_access_or_404(user=request.user, slug=slug)


def _learner_by_email(email: str) -> User | None:
    return user_with_email(email)


def _context(access: IssuerAccess, **values) -> dict:
    return {"organization": access.organization, "access": access, "nav": "documents", **values}


@login_required
@require_GET
def document_list(request: HttpRequest, slug: str) -> HttpResponse:
    access = _access(request, slug)
    form = FilterForm(request.GET or None)
    documents = selectors.documents_of_issuer(issuer=access.organization, **form.filters())
    page = Paginator(documents, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "documents/issuer/list.html",
        _context(access, form=form, page=page, query=query.urlencode()),
    )


@login_required
@require_http_methods(["GET", "POST"])
def document_new(request: HttpRequest, slug: str) -> HttpResponse:
    access = _access(request, slug)
    issuer = access.organization
    if request.method == "GET":
        return render(request, "documents/issuer/new.html", _context(access, form=IssueForm()))
    form = IssueForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            document = submit_once(
                user=request.user,
                token=data["submission_token"],
                action=lambda: _issue(issuer, data),
                result_url=lambda document: _detail_url(slug, document),
            )
        except ApplicationError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            if isinstance(document, Repeated):
                return repeated_response(
                    request, document, fallback=reverse("issuer_documents:list", args=[slug])
                )
            if document.is_claimed:
                message = _("“%(title)s” is issued to %(name)s.") % {
                    "title": document.title,
                    "name": document.learner_full_name or document.learner_address,
                }
            else:
                message = _(
                    "“%(title)s” is issued to %(email)s, which has no account yet: the "
                    "document waits for the learner, who is invited by email to claim it."
                ) % {"title": document.title, "email": document.learner_email}
            messages.success(request, message)
            return redirect(_detail_url(slug, document))
    return render(request, "documents/issuer/new.html", _context(access, form=form), status=400)


def _detail_url(slug: str, document) -> str:
    return reverse("issuer_documents:detail", args=[slug, document.pk])


def _issue(issuer, data: dict):
    """Issue the document the form DATA describes (run once per form by submit_once)."""
    learner = _learner_by_email(data["email"])
    name = data["full_name"].strip() or (learner.full_name if learner else "")
    if learner is None and not name:
        raise ApplicationError(
            _(
                "No one has an account with this email address yet: give the learner's "
                "name, for the document and the invitation to claim it."
            ),
            field="full_name",
        )
    record = {}
    if data["source"] == IssueForm.SOURCE_UPLOAD:
        pdf = data["pdf"]
    else:
        record = {
            "program": data["program"],
            "courses": [list(course) for course in data["courses"]],
            "gpa": data["gpa"],
            "credential": data["credential"],
        }
        pdf = transcript_from_record(
            issuer=issuer,
            learner_name=name or data["email"],
            title=data["title"],
            issue_date=data["issue_date"],
            record=record,
        )
    # The address is looked up again in the service, under its lock.
    return services.document_issue(
        issuer=issuer,
        learner_email=data["email"],
        learner_name=data["full_name"],
        student_number=data["student_number"].strip(),
        document_type=data["document_type"],
        title=data["title"],
        issue_date=data["issue_date"],
        pdf=pdf,
        record=record,
        valid_until=data["valid_until"],
    )


def _detail_page(request, access, document, *, version_form=None, withdraw_form=None, status=200):
    versions = list(document.versions.order_by("-number"))
    return render(
        request,
        "documents/issuer/detail.html",
        _context(
            access,
            document=document,
            versions=versions,
            version_form=version_form or VersionForm(),
            withdraw_form=withdraw_form or WithdrawForm(),
        ),
        status=status,
    )


@login_required
@require_GET
def document_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = _access(request, slug)
    document = selectors.document_of_issuer_or_404(issuer=access.organization, pk=pk)
    return _detail_page(request, access, document)


@login_required
@require_GET
def version_download(request: HttpRequest, slug: str, pk: int, number: int) -> HttpResponse:
    access = _access(request, slug)
    document = selectors.document_of_issuer_or_404(issuer=access.organization, pk=pk)
    version = selectors.version_of_document_or_404(document=document, number=number)
    return pdf_response(document, version, as_attachment=True)


@login_required
@require_POST
def version_add(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = _access(request, slug)
    document = selectors.document_of_issuer_or_404(issuer=access.organization, pk=pk)
    form = VersionForm(request.POST, request.FILES)
    if form.is_valid():

        def correct():
            if not document.is_active:
                raise ApplicationError(
                    _("A withdrawn or revoked document cannot get a new version.")
                )
            return services.document_correct(
                document=document, pdf=form.cleaned_data["pdf"], by=request.user
            )

        try:
            version = submit_once(
                user=request.user,
                token=form.cleaned_data["submission_token"],
                action=correct,
                result_url=lambda version: _detail_url(slug, document),
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            if isinstance(version, Repeated):
                return repeated_response(request, version, fallback=_detail_url(slug, document))
            messages.success(
                request,
                _(
                    "Version %(number)d is now served to every live share; the learner is "
                    "told by email."
                )
                % {"number": version.number},
            )
            return redirect(_detail_url(slug, document))
    return _detail_page(request, access, document, version_form=form, status=400)


@login_required
@require_POST
def document_withdraw(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = _access(request, slug)
    document = selectors.document_of_issuer_or_404(issuer=access.organization, pk=pk)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        revoke = form.cleaned_data["action"] == WithdrawForm.REVOKE

        def withdraw():
            if not document.is_active:
                raise ApplicationError(_("This document is already withdrawn or revoked."))
            return services.document_withdraw(
                document=document,
                reason=form.cleaned_data["reason"],
                by=request.user,
                revoke=revoke,
            )

        try:
            done = submit_once(
                user=request.user,
                token=form.cleaned_data["submission_token"],
                action=withdraw,
                result_url=lambda _result: _detail_url(slug, document),
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            if isinstance(done, Repeated):
                return repeated_response(request, done, fallback=_detail_url(slug, document))
            message = _("“%(title)s” is revoked.") if revoke else _("“%(title)s” is withdrawn.")
            messages.success(request, message % {"title": document.title})
            return redirect(_detail_url(slug, document))
    return _detail_page(request, access, document, withdraw_form=form, status=400)


# --- bulk issuance ----------------------------------------------------------------------------

_ARCHIVE_FAULTS = ("archive_", "zip_bomb", "path_traversal")


def _job_or_404(access: IssuerAccess, public_id) -> IssuanceJob:
    return get_object_or_404(IssuanceJob, issuer=access.organization, public_id=public_id)


def _progress_for_people(job: IssuanceJob) -> dict:
    progress = bulk.issuance_job_progress(job=job)
    progress["rate_display"] = formats.number_format(progress["rate"], 1, use_l10n=True)
    progress["time_left"] = bulk.format_seconds(progress["seconds_left"])
    progress["status_display"] = job.get_status_display()
    return progress


@login_required
@require_GET
def bulk_list(request: HttpRequest, slug: str) -> HttpResponse:
    access = _access(request, slug)
    jobs = (
        IssuanceJob.objects.filter(issuer=access.organization)
        .select_related("created_by")
        .annotate(
            issued=Count("rows", filter=Q(rows__status=IssuanceRow.Status.ISSUED)),
            rejected=Count("rows", filter=Q(rows__status=IssuanceRow.Status.REJECTED)),
        )
        .order_by("-created", "-pk")
    )
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "documents/issuer/bulk_list.html", _context(access, page=page))


@login_required
@require_http_methods(["GET", "POST"])
def bulk_new(request: HttpRequest, slug: str) -> HttpResponse:
    access = _access(request, slug)
    if request.method == "GET":
        return render(
            request, "documents/issuer/bulk_new.html", _context(access, form=BulkUploadForm())
        )
    form = BulkUploadForm(request.POST, request.FILES)
    if form.is_valid():

        def start_job():
            job = bulk.issuance_job_create(
                issuer=access.organization,
                created_by=request.user,
                rows_file=form.cleaned_data["rows"],
                pdf_archive=form.cleaned_data["pdfs"] or None,
            )
            # Started once the job and its rows are committed, where a worker sees them.
            transaction.on_commit(lambda: bulk.issuance_job_start(job=job))
            return job

        try:
            job = submit_once(
                user=request.user,
                token=form.cleaned_data["submission_token"],
                action=start_job,
                result_url=lambda job: reverse(
                    "issuer_documents:bulk_detail", args=[slug, job.public_id]
                ),
            )
        except bulk.BulkRejected as refusal:
            field = "pdfs" if refusal.code.startswith(_ARCHIVE_FAULTS) else "rows"
            form.add_error(field, refusal.message)
        else:
            if isinstance(job, Repeated):
                return repeated_response(
                    request, job, fallback=reverse("issuer_documents:bulk_list", args=[slug])
                )
            messages.success(
                request,
                _("The job is queued: %(count)s rows.") % {"count": job.total},
            )
            return redirect("issuer_documents:bulk_detail", slug=slug, public_id=job.public_id)
    return render(
        request, "documents/issuer/bulk_new.html", _context(access, form=form), status=400
    )


@login_required
@require_GET
def bulk_detail(request: HttpRequest, slug: str, public_id) -> HttpResponse:
    access = _access(request, slug)
    job = _job_or_404(access, public_id)
    return render(
        request,
        "documents/issuer/bulk_detail.html",
        _context(access, job=job, progress=_progress_for_people(job)),
    )


@login_required
@require_GET
def bulk_progress(request: HttpRequest, slug: str, public_id) -> JsonResponse:
    access = _access(request, slug)
    job = _job_or_404(access, public_id)
    response = JsonResponse(_progress_for_people(job))
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def bulk_report(request: HttpRequest, slug: str, public_id) -> HttpResponse:
    access = _access(request, slug)
    job = _job_or_404(access, public_id)
    response = HttpResponse(
        bulk.issuance_rejections_csv(job=job), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="rejected-rows-{job.created:%Y%m%d-%H%M}.csv"'
    )
    response["Cache-Control"] = "no-store"
    return response
