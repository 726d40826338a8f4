"""What the recipient of an email or link share sees, without signing in.

The secret link `/s/<token>/` is only a door: it records in the browser's session that this
browser holds the share, then redirects at once to pages without the token
(`/s/shares/<pk>/...`), so the token never lingers in the address bar, the history, a
`Referer` or a later `Location`. Those pages answer 404 to a session without the grant, as
if the share did not exist, and check on every request that the share is still live.
"""

from collections.abc import Callable
from functools import wraps

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from credshare.billing.selectors import document_is_locked
from credshare.documents.models import Document
from credshare.documents.selectors import current_version, newest_versions_first
from credshare.documents.views import pdf_response
from credshare.sharing.models import Share, ShareAccess
from credshare.sharing.selectors import documents_as_recipients_see
from credshare.sharing.services import (
    ShareError,
    access_code_send,
    access_code_verify,
    code_entry_locked_error,
    share_access_record,
    share_check_live,
    share_for_token,
)

# request.session[GRANTS] = {"<share pk>": CODE_NEEDED or VERIFIED}
GRANTS = "share_grants"
CODE_NEEDED = "code_needed"
VERIFIED = "verified"


def share_page_headers(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For every page and file of a shared document: no `Referer` leaves it (its address
    must not travel to whatever the recipient clicks next), and no cache keeps a copy.

    Under `no-referrer` a browser sends `Origin: null` with the page's form posts;
    core.middleware.CsrfViewMiddlewareForNoReferrerPages accepts those from our own pages."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "no-referrer"
        if "no-store" not in response.get("Cache-Control", ""):
            response["Cache-Control"] = "no-store"
        return response

    return wrapped


class AccessCodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Access code"),
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": r"\s*(\d\s*){6}",
                "size": 8,
            }
        ),
    )


def masked_email(address: str) -> str:
    """z***@example.org: enough for the recipient to recognize their address, not enough to
    tell a passer-by."""
    local, _at, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


class _PathHidden:
    """The request as the templates see it on `/s/<token>/`: its path (put by base.html in the
    language switch as the page to come back to) is the home page, never the token's."""

    def __init__(self, request: HttpRequest):
        self._request = request

    def __getattr__(self, name: str):
        return getattr(self._request, name)

    def get_full_path(self) -> str:
        return "/"


def _not_found(request: HttpRequest, *, hide_path: bool = False) -> HttpResponse:
    context = {"request": _PathHidden(request)} if hide_path else {}
    return render(request, "404.html", context, status=404)


def _refused(request: HttpRequest, error: ShareError, *, hide_path: bool = False) -> HttpResponse:
    """The page for a share that can no longer be opened: 410 saying whether it expired or
    was revoked; 404 for anything else, saying nothing more."""
    if error.status != 410:
        return _not_found(request, hide_path=hide_path)
    context = {"state": error.code}
    if hide_path:
        context["request"] = _PathHidden(request)
    return render(request, "core/gone.html", context, status=410)


def _grants(request: HttpRequest) -> dict[str, str]:
    return request.session.get(GRANTS, {})


def _grant(request: HttpRequest, share: Share, level: str) -> None:
    grants = dict(_grants(request))
    grants[str(share.pk)] = level
    request.session[GRANTS] = grants


def _granted_share(request: HttpRequest, pk: int, *, verified: bool) -> Share | None:
    """The share this browser was given, or None: no grant (or only a code to enter when
    VERIFIED is needed) is the same as no share."""
    level = _grants(request).get(str(pk))
    if level is None or (verified and level != VERIFIED):
        return None
    return (
        Share.objects.select_related("owner")
        .filter(pk=pk)
        .exclude(channel=Share.Channel.ORGANIZATION)
        .first()
    )


@share_page_headers
@require_GET
def share_open(request: HttpRequest, token: str) -> HttpResponse:
    """The secret link: grant this browser the share, then leave the token's URL at once."""
    try:
        share = share_for_token(token=token)
    except ShareError as error:
        return _refused(request, error, hide_path=True)

    already = _grants(request).get(str(share.pk))
    if share.channel == Share.Channel.LINK or already == VERIFIED:
        _grant(request, share, VERIFIED)
        return redirect("recipient:share", share.pk)

    _grant(request, share, CODE_NEEDED)
    if already is None:
        try:
            access_code_send(share=share)
        except ShareError as error:
            # A code sent less than a minute ago (another browser, a second click) still works.
            if error.code != "code_too_soon":
                return _refused(request, error, hide_path=True)
    return redirect("recipient:code", share.pk)


def _code_page(
    request: HttpRequest,
    share: Share,
    form: AccessCodeForm,
    *,
    status: int = 200,
    problem: str = "",
) -> HttpResponse:
    context = {
        "share": share,
        "form": form,
        "masked_email": masked_email(share.recipient_email),
        "problem": problem,
    }
    return render(request, "recipient/access_code.html", context, status=status)


@share_page_headers
@require_http_methods(["GET", "POST"])
def access_code_enter(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask for the code emailed to the recipient; the right one unlocks the share here."""
    share = _granted_share(request, pk, verified=False)
    if share is None or share.channel != Share.Channel.EMAIL:
        return _not_found(request)
    try:
        share_check_live(share=share)
    except ShareError as error:
        return _refused(request, error)
    if _grants(request).get(str(pk)) == VERIFIED:
        return redirect("recipient:share", share.pk)
    if request.method == "GET":
        # Locked after too many wrong codes: say so at once rather than after a try.
        problem = code_entry_locked_error().message if share.code_entry_locked_at else ""
        return _code_page(request, share, AccessCodeForm(), problem=problem)

    form = AccessCodeForm(request.POST)
    if not form.is_valid():
        return _code_page(request, share, form, status=400)
    try:
        access_code_verify(share=share, code=form.cleaned_data["code"])
    except ShareError as error:
        if error.status == 410:
            return _refused(request, error)
        form.add_error("code", error.message)
        return _code_page(request, share, form, status=error.status)
    # A new session key once the code is right: a key planted before (fixation) gets nothing.
    request.session.cycle_key()
    _grant(request, share, VERIFIED)
    return redirect("recipient:share", share.pk)


@share_page_headers
@require_POST
def access_code_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Email a new code (at most one a minute); earlier codes stop working."""
    share = _granted_share(request, pk, verified=False)
    if share is None or share.channel != Share.Channel.EMAIL:
        return _not_found(request)
    try:
        access_code_send(share=share)
    except ShareError as error:
        if error.status == 410:
            return _refused(request, error)
        return _code_page(
            request, share, AccessCodeForm(), status=error.status, problem=error.message
        )
    messages.success(
        request,
        _("We sent a new code to %(address)s.") % {"address": masked_email(share.recipient_email)},
    )
    return redirect("recipient:code", share.pk)


@share_page_headers
@require_GET
def share_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The shared documents, newest version of each, with view and download."""
    share = _granted_share(request, pk, verified=True)
    if share is None:
        return _not_found(request)
    try:
        share_check_live(share=share)
    except ShareError as error:
        return _refused(request, error)
    share_access_record(share=share, action=ShareAccess.Action.OPENED)
    documents = documents_as_recipients_see(
        list(
            share.documents.select_related("issuer")
            .prefetch_related(newest_versions_first())
            .order_by("-issue_date", "-id")
        )
    )
    return render(request, "recipient/share.html", {"share": share, "documents": documents})


@share_page_headers
@require_GET
def document_file(request: HttpRequest, pk: int, document_pk: int, *, as_attachment: bool):
    """One shared document's newest version, inline or as a download; each one is recorded."""
    share = _granted_share(request, pk, verified=True)
    if share is None:
        return _not_found(request)
    try:
        share_check_live(share=share)
    except ShareError as error:
        return _refused(request, error)
    document: Document | None = share.documents.filter(pk=document_pk).first()
    version = current_version(document) if document is not None else None
    if version is None:
        return _not_found(request)
    if not document.is_active:
        return render(request, "core/gone.html", {"state": "withdrawn"}, status=410)
    if document_is_locked(document):
        return render(request, "core/document_locked_for_recipient.html", status=403)
    share_access_record(
        share=share,
        action=ShareAccess.Action.DOWNLOADED if as_attachment else ShareAccess.Action.VIEWED,
        document=document,
        version=version,
    )
    return pdf_response(document, version, as_attachment=as_attachment)
