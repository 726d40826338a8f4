"""The learner's "Your data" page: download everything held about them, close the account."""

import tempfile

from django import forms
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from credshare.accounts import privacy


class AccountCloseForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        label=_("Code from your authenticator app (or a recovery code)"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, *args, needs_code: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if needs_code:
            self.fields["code"].required = True
        else:
            del self.fields["code"]


def _page(request: HttpRequest, form: AccountCloseForm, *, status: int = 200) -> HttpResponse:
    return render(request, "accounts/privacy/privacy.html", {"form": form}, status=status)


@never_cache
@login_required
@require_GET
def privacy_page(request: HttpRequest) -> HttpResponse:
    needs_code = privacy.account_needs_code(user=request.user)
    return _page(request, AccountCloseForm(needs_code=needs_code))


@never_cache
@login_required
@require_GET
def privacy_export(request: HttpRequest) -> FileResponse:
    """The zip, written to a temporary file first (PDFs can add up to more than memory
    should hold), then streamed; the file disappears once the response is closed."""
    # Not a with block: the response owns the file and closes it once sent.
    archive = tempfile.TemporaryFile()  # noqa: SIM115
    privacy.privacy_export_write(user=request.user, out=archive)
    archive.seek(0)
    response = FileResponse(
        archive,
        as_attachment=True,
        filename=privacy.export_filename(),
        content_type="application/zip",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@never_cache
@login_required
@require_http_methods(["POST"])
def account_close(request: HttpRequest) -> HttpResponse:
    needs_code = privacy.account_needs_code(user=request.user)
    form = AccountCloseForm(request.POST, needs_code=needs_code)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        privacy.account_close(
            user=request.user,
            password=form.cleaned_data["password"],
            code=form.cleaned_data.get("code", ""),
        )
    except privacy.AccountCloseError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return _page(request, form, status=400)
    logout(request)
    return redirect("account_privacy:closed")


@require_GET
def account_closed(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/privacy/closed.html")
