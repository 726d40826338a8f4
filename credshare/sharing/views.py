import functools
import io
import time
from collections.abc import Callable
from dataclasses import dataclass

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from credshare.billing.selectors import credit_needs_for_documents, locked_document_ids
from credshare.documents.models import Document
from credshare.documents.selectors import documents_of_learner
from credshare.sharing import services
from credshare.sharing.forms import (
    ShareByEmailForm,
    ShareByLinkForm,
    ShareExpiryForm,
    ShareForm,
    ShareWithOrganizationForm,
)
from credshare.sharing.models import Share
from credshare.sharing.selectors import (
    accesses_of_share,
    share_blockers,
    share_of_owner_or_404,
    shares_of_owner,
)

PAGE_SIZE = 25


def _create_link(request: HttpRequest, form: ShareForm) -> Share:
    share, token = services.share_create_link(**form.service_values())
    if token is not None:
        _remember_link(request, share, token)
    return share


@dataclass(frozen=True)
class ShareChannel:
    """One way to share, as the share window offers it: the URL `sharing:NAME` shows the form
    in `sharing/share_NAME.html`, and CREATE shares what it sends."""

    name: str
    form_class: type[ShareForm]
    create: Callable[[HttpRequest, ShareForm], Share]

    @property
    def value(self) -> str:
        return self.form_class.channel

    @property
    def label(self) -> str:
        return Share.Channel(self.value).label

    @property
    def description(self) -> str:
        return self.form_class.description

    @property
    def url_name(self) -> str:
        return f"sharing:{self.name}"

    @property
    def template(self) -> str:
        return f"sharing/share_{self.name}.html"


CHANNELS = {
    channel.value: channel
    for channel in [
        ShareChannel(
            "with_organization",
            ShareWithOrganizationForm,
            lambda request, form: services.share_create_with_organization(**form.service_values()),
        ),
        ShareChannel(
            "by_email",
            ShareByEmailForm,
            lambda request, form: services.share_create_by_email(**form.service_values()),
        ),
        ShareChannel("by_link", ShareByLinkForm, _create_link),
    ]
}

# The raw token of a new link share lives only in its owner's session, for the done page and
# the QR code, until they finish, go to another sharing page, or this many seconds pass.
SHOWN_LINKS = "sharing.shown_links"
SHOWN_LINK_SECONDS = 15 * 60


def _remember_link(request: HttpRequest, share: Share, token: str) -> None:
    now = time.time()
    links = {pk: kept for pk, kept in request.session.get(SHOWN_LINKS, {}).items() if kept[1] > now}
    links[str(share.pk)] = [token, now + SHOWN_LINK_SECONDS]
    request.session[SHOWN_LINKS] = links


def _shown_link(request: HttpRequest, share: Share) -> str | None:
    """The URL of a new link share, while its owner's session still has the token."""
    token, until = request.session.get(SHOWN_LINKS, {}).get(str(share.pk), (None, 0))
    if token is None or until < time.time() or share.state != Share.State.ACTIVE:
        return None
    return services.share_url(token)


def _leaves_the_done_page(view):
    """A page the learner opens (GET) after a share is done: the link they were shown is gone."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "GET":
            request.session.pop(SHOWN_LINKS, None)
        return view(request, *args, **kwargs)

    return wrapper


def _submit(form, action: Callable[[], object]) -> tuple[object | None, int]:
    """Validate FORM and run ACTION, a service call: its result, or None and the status to
    answer, with the errors on the form (a service's error next to its field)."""
    if not form.is_valid():
        return None, 400
    try:
        return action(), 200
    except services.ShareError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return None, error.status


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
@_leaves_the_done_page
def share_start(request: HttpRequest) -> HttpResponse:
    """The share window's first step: which documents, what it costs, which channel.
    "Continue" comes back here with the channel chosen and goes on to its form."""
    if not request.GET.getlist("documents"):
        messages.error(request, _("Tick at least one document to share."))
        return redirect("documents:list")
    documents = _documents_from_query(request)
    credit_needs = credit_needs_for_documents(learner=request.user, documents=documents)
    blockers = share_blockers(
        documents=documents,
        credit_needs=credit_needs,
        locked_ids=locked_document_ids(documents=documents),
    )
    chosen = request.GET.get("channel")
    if chosen in CHANNELS and not blockers:
        return redirect(f"{reverse(CHANNELS[chosen].url_name)}?{_query_for(documents)}")
    unknown_channel = chosen is not None and not blockers
    return render(
        request,
        "sharing/share_start.html",
        {
            "documents": documents,
            "blockers": sorted(set(blockers.values())),
            "credit_needs": credit_needs,
            "channels": CHANNELS.values(),
            "chosen": chosen or Share.Channel.ORGANIZATION,
            "unknown_channel": unknown_channel,
        },
        status=400 if unknown_channel else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@_leaves_the_done_page
def share_window(request: HttpRequest, channel_value: str) -> HttpResponse:
    """The share window's form for a channel: a GET shows it for ?documents=…, a POST shares."""
    channel = CHANNELS[channel_value]
    if request.method == "POST":
        form = channel.form_class(request.POST, learner=request.user)
        share, status = _submit(form, lambda: channel.create(request, form))
        if share is not None:
            return redirect("sharing:done", pk=share.pk)
    else:
        documents = _documents_from_query(request)
        if locked_document_ids(documents=documents):
            # A document whose collection fee is unpaid cannot be shared: the first step says
            # why and leads to "Pay" (the service refuses it too).
            return redirect(f"{reverse('sharing:start')}?{_query_for(documents)}")
        form = channel.form_class(learner=request.user, initial={"documents": documents})
        status = 200
    return render(
        request,
        channel.template,
        {"form": form, "channel": channel, "back_query": _query_for(form.chosen_documents)},
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


def _qr_code(url: str) -> segno.QRCode:
    return segno.make(url, error="m")


@login_required
@require_GET
@never_cache
def share_done(request: HttpRequest, pk: int) -> HttpResponse:
    """The confirmation. A new link share shows its URL and QR code while the session keeps
    its token; after that, the page says the link was shown once."""
    share = share_of_owner_or_404(owner=request.user, pk=pk)
    context = {"share": share}
    if share.channel == Share.Channel.LINK:
        url = _shown_link(request, share)
        if url is not None:
            title = _("QR code of the link to your share")
            context |= {"link_url": url, "qr_svg": _qr_code(url).svg_inline(scale=5, title=title)}
    return render(request, "sharing/share_done.html", context)


QR_CODE_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


@login_required
@require_GET
@never_cache
def share_qr(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """The QR code of a new link share, to download as PNG or SVG, while the session keeps
    its token."""
    share = share_of_owner_or_404(owner=request.user, pk=pk)
    url = _shown_link(request, share) if share.channel == Share.Channel.LINK else None
    if url is None or kind not in QR_CODE_TYPES:
        raise Http404
    image = io.BytesIO()
    _qr_code(url).save(image, kind=kind, scale=10)
    response = HttpResponse(image.getvalue(), content_type=QR_CODE_TYPES[kind])
    response["Content-Disposition"] = f'attachment; filename="credshare-share-{share.pk}.{kind}"'
    return response


@login_required
@require_POST
def share_finish(request: HttpRequest) -> HttpResponse:
    """ "Finish" on a link share's done page: its link is not shown again."""
    request.session.pop(SHOWN_LINKS, None)
    return redirect("documents:list")


@login_required
@require_GET
@_leaves_the_done_page
def share_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(shares_of_owner(owner=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "sharing/share_list.html", {"page": page})


def _share_page(
    request: HttpRequest, share: Share, expiry_form: ShareExpiryForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "sharing/share_detail.html",
        {
            "share": share,
            "accesses": accesses_of_share(share=share)[:500],
            "expiry_form": expiry_form,
        },
        status=status,
    )


@login_required
@require_GET
@_leaves_the_done_page
def share_detail(request: HttpRequest, pk: int) -> HttpResponse:
    share = share_of_owner_or_404(owner=request.user, pk=pk)
    return _share_page(request, share, ShareExpiryForm(initial={"expires_on": share.expires_on}))


@login_required
@require_POST
def share_expiry(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a share's expiry date, or remove it (an empty date)."""
    share = share_of_owner_or_404(owner=request.user, pk=pk)
    form = ShareExpiryForm(request.POST)
    changed, status = _submit(
        form,
        lambda: services.share_expiry_change(
            share=share, expires_on=form.cleaned_data["expires_on"]
        ),
    )
    if changed is None:
        return _share_page(request, share, form, status)
    if changed.expires_on is None:
        messages.success(request, _("The share no longer expires."))
    else:
        messages.success(request, _("The expiry date is changed."))
    return redirect(reverse("sharing:detail", args=[share.pk]))


@login_required
@require_POST
def share_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    share = share_of_owner_or_404(owner=request.user, pk=pk)
    services.share_revoke(share=share)
    messages.success(request, _("The share is revoked: its recipient no longer has access."))
    return redirect(reverse("sharing:detail", args=[share.pk]))


@login_required
@require_POST
def share_code_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    """The learner unlocks their email share's code entry: a new code goes to the recipient."""
    share = share_of_owner_or_404(owner=request.user, pk=pk)
    try:
        services.share_code_entry_unlock(share=share)
    except services.ShareError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Entering codes is unlocked: we sent a new code to %(address)s.")
            % {"address": share.recipient_email},
        )
    return redirect(reverse("sharing:detail", args=[share.pk]))
