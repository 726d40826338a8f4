from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from credshare.verification.selectors import document_for_verification_or_404, match_file


class FileCheckForm(forms.Form):
    file = forms.FileField(
        label=_("Check a copy of this document"),
        help_text=_("Choose the PDF you received: we compare it with the versions we issued."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.CREDSHARE_MAX_VERIFY_BYTES:
            raise forms.ValidationError(
                _("The file is too large to be one of our documents."), code="too_large"
            )
        return upload


@require_http_methods(["GET", "POST"])
def document_verify(request: HttpRequest, public_id) -> HttpResponse:
    """Public, no sign-in: where a document's QR code leads. Says who issued it, to whom,
    and whether it is current, superseded, withdrawn or revoked; checks an uploaded copy."""
    document = document_for_verification_or_404(public_id=public_id)
    match = None
    status = 200
    if request.method == "POST":
        form = FileCheckForm(request.POST, request.FILES)
        if form.is_valid():
            match = match_file(document=document, data=form.cleaned_data["file"].read())
        else:
            status = 400
    else:
        form = FileCheckForm()
    versions = list(document.versions.all())
    response = render(
        request,
        "verification/document.html",
        {
            "document": document,
            "current": versions[0] if versions else None,
            "form": form,
            "match": match,
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response
