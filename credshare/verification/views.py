from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from credshare.documents.models import Document
from credshare.verification.forms import CredentialVerifyForm, DocumentCopyForm, PdfVerifyForm
from credshare.verification.selectors import document_for_verification_or_404
from credshare.verification.verdicts import Status, Verdict

# The two ways in on the public verification page, by the `check` each form posts.
START_FORMS = {"pdf": PdfVerifyForm, "credential": CredentialVerifyForm}


def verdict_context(verdict: Verdict) -> dict:
    """What the result block (verification/_verdict.html) shows of a verdict."""
    document_type = ""
    if verdict.document_type:
        try:
            document_type = Document.Type(verdict.document_type).label
        except ValueError:
            document_type = verdict.document_type
    return {
        "verdict": verdict,
        "document_type": document_type,
        "document_url": (
            reverse("verification:document", args=[verdict.public_id]) if verdict.public_id else ""
        ),
    }


def _no_store(response: HttpResponse) -> HttpResponse:
    # Results are about a file someone uploaded, and the status can change at any time.
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def verify_start(request: HttpRequest) -> HttpResponse:
    """Public, no sign-in: anyone checks a PDF or a Verifiable Credential they were given."""
    start_forms = {check: form_class(prefix=check) for check, form_class in START_FORMS.items()}
    status = 200
    if request.method == "POST":
        check = request.POST.get("check")
        if check not in START_FORMS:
            check = "pdf"
        form = START_FORMS[check](request.POST, request.FILES, prefix=check)
        if form.is_valid():
            return _no_store(
                render(request, "verification/result.html", verdict_context(form.verdict))
            )
        start_forms[check] = form
        status = 400
    return _no_store(
        render(
            request,
            "verification/start.html",
            {"pdf_form": start_forms["pdf"], "credential_form": start_forms["credential"]},
            status=status,
        )
    )


def _copy_is(document: Document, verdict: Verdict) -> str:
    """What an uploaded copy is, for the page of DOCUMENT: "current" or "earlier" (a version
    of it, as issued), "modified" (made from it, then altered), "other" (another document
    issued through credshare) or "unknown"."""
    if verdict.public_id != str(document.public_id):
        return "other" if verdict.public_id and verdict.is_authentic else "unknown"
    if verdict.status == Status.ALTERED:
        return "modified"
    if verdict.version_number == verdict.newest_version_number:
        return "current"
    return "earlier"


@require_http_methods(["GET", "POST"])
def document_verify(request: HttpRequest, public_id) -> HttpResponse:
    """Public, no sign-in: where a document's QR code leads. Says who issued it, to whom,
    and whether it is current, superseded, withdrawn or revoked; checks an uploaded copy."""
    document = document_for_verification_or_404(public_id=public_id)
    result = None
    status = 200
    if request.method == "POST":
        form = DocumentCopyForm(request.POST, request.FILES)
        if form.is_valid():
            result = verdict_context(form.verdict)
            result["copy_is"] = _copy_is(document, form.verdict)
            if result["copy_is"] != "other":
                result["document_url"] = ""  # this very page
        else:
            status = 400
    else:
        form = DocumentCopyForm()
    versions = list(document.versions.all())
    return _no_store(
        render(
            request,
            "verification/document.html",
            {
                "document": document,
                # Issued with a date still to come (stored before such dates were refused).
                "not_yet_valid": document.issue_date > timezone.localdate(),
                "current": versions[0] if versions else None,
                "form": form,
                "result": result,
            },
            status=status,
        )
    )
