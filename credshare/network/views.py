"""An organization's self-service pages, under /org/<slug>/: its directory profile (and an
issuer's transcript branding), the extra fields it asks of learners, its members, API keys
and webhooks. Its administrators only: 404 for anyone who is not a member (as the issuer
pages do), a page saying why (403) for its staff."""

import functools
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from credshare.api import services as api_services
from credshare.core.errors import ApplicationError
from credshare.core.submissions import Repeated, repeated_response, submit_once
from credshare.network import selectors, services
from credshare.network.branding import CONTENT_TYPES
from credshare.network.forms import (
    ApiKeyForm,
    BrandingForm,
    MemberInviteForm,
    MoveForm,
    OnOffForm,
    ProfileForm,
    RoleForm,
    ShareFieldForm,
    WebhookEndpointForm,
)
from credshare.network.models import Membership, Organization
from credshare.webhooks import selectors as webhook_selectors
from credshare.webhooks import services as webhook_services

API_DOCS_URL = "/api/v1/docs"
# Each delivery row carries its attempts' log; 30 a page keeps the page short.
DELIVERIES_PAGE_SIZE = 30


def organization_admin(view: Callable) -> Callable:
    """Run VIEW(request, organization, …) for an administrator of the organization in the
    URL's slug. Sign-in first; 404 for non-members; a 403 page for its staff, which names
    the administrators to ask."""

    @functools.wraps(view)
    @login_required
    def wrapper(request: HttpRequest, slug: str, *args, **kwargs) -> HttpResponse:
        membership = selectors.membership_or_404(user=request.user, slug=slug)
        if membership.role != Membership.Role.ADMIN:
            organization = membership.organization
            context = {
                "organization": organization,
                "administrators": selectors.administrators_of(organization=organization),
            }
            return render(request, "network/forbidden.html", context, status=403)
        return view(request, membership.organization, *args, **kwargs)

    return wrapper


def _submit(form, action: Callable[[], object]) -> object | None:
    """Validate FORM and run ACTION, a service call: its result, or None with the errors on
    the form (a service's error next to its field when the form has it)."""
    if not form.is_valid():
        return None
    try:
        return action()
    except ApplicationError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return None


def _page(request, template: str, organization: Organization, nav: str, *, status=200, **values):
    context = {"organization": organization, "nav": nav, "api_docs_url": API_DOCS_URL, **values}
    return render(request, f"network/{template}", context, status=status)


# Profile -----------------------------------------------------------------------------------


def _profile_page(request, organization, *, form=None, branding_form=None, status=200):
    """The profile form and, for an issuer, the branding form below it."""
    if organization.is_issuer:
        branding_form = branding_form or BrandingForm.for_organization(organization)
    return _page(
        request,
        "profile.html",
        organization,
        "profile",
        status=status,
        form=form or ProfileForm.for_organization(organization),
        branding_form=branding_form,
    )


@require_http_methods(["GET", "POST"])
@organization_admin
def profile(request: HttpRequest, organization: Organization) -> HttpResponse:
    if request.method == "GET":
        return _profile_page(request, organization)
    form = ProfileForm(request.POST)
    done = _submit(
        form,
        lambda: services.organization_profile_update(
            organization=organization, by=request.user, **form.cleaned_data
        ),
    )
    if done:
        messages.success(request, _("The profile is saved."))
        return redirect("network:profile", slug=organization.slug)
    return _profile_page(request, organization, form=form, status=400)


def _issuing(organization: Organization) -> Organization:
    """Only an organization that issues documents brands them."""
    if not organization.is_issuer:
        raise Http404
    return organization


@require_POST
@organization_admin
def branding(request: HttpRequest, organization: Organization) -> HttpResponse:
    _issuing(organization)
    form = BrandingForm(request.POST, request.FILES)
    done = _submit(
        form,
        lambda: services.organization_branding_update(
            organization=organization, by=request.user, **form.cleaned_data
        ),
    )
    if done:
        messages.success(request, _("The transcript branding is saved."))
        return redirect(f"{reverse('network:profile', args=[organization.slug])}#branding")
    return _profile_page(request, organization, branding_form=form, status=400)


@require_GET
@organization_admin
@cache_control(private=True, no_cache=True)
def logo(request: HttpRequest, organization: Organization) -> HttpResponse:
    """The current logo, for the profile page (stored files have no public URL)."""
    _issuing(organization)
    if not organization.logo:
        raise Http404
    extension = organization.logo.name.rsplit(".", 1)[-1]
    try:
        handle = organization.logo.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(handle, content_type=CONTENT_TYPES[extension])


# Extra share fields ------------------------------------------------------------------------


def _receiving(organization: Organization) -> Organization:
    """Only an organization that receives shares asks learners for extra fields."""
    if not organization.is_receiver:
        raise Http404
    return organization


@require_GET
@organization_admin
def field_list(request: HttpRequest, organization: Organization) -> HttpResponse:
    _receiving(organization)
    fields = list(selectors.share_fields_of(organization=organization))
    return _page(request, "fields.html", organization, "fields", fields=fields)


@require_http_methods(["GET", "POST"])
@organization_admin
def field_new(request: HttpRequest, organization: Organization) -> HttpResponse:
    _receiving(organization)
    if request.method == "GET":
        return _page(request, "field_form.html", organization, "fields", form=ShareFieldForm())
    form = ShareFieldForm(request.POST)
    fields_url = reverse("network:fields", args=[organization.slug])
    # Added once per form: a double click would add the field twice ("x" and "x_2"), and
    # learners would be asked the same question twice.
    field = _submit(
        form,
        lambda: submit_once(
            user=request.user,
            token=form.cleaned_data["submission_token"],
            action=lambda: services.share_field_create(
                organization=organization, by=request.user, **form.service_values()
            ),
            result_url=lambda _field: fields_url,
        ),
    )
    if isinstance(field, Repeated):
        return repeated_response(request, field, fallback=fields_url)
    if field:
        messages.success(request, _("The field “%(label)s” is added.") % {"label": field.label})
        return redirect("network:fields", slug=organization.slug)
    return _page(request, "field_form.html", organization, "fields", form=form, status=400)


@require_http_methods(["GET", "POST"])
@organization_admin
def field_edit(request: HttpRequest, organization: Organization, pk: int) -> HttpResponse:
    _receiving(organization)
    field = selectors.share_field_of_organization_or_404(organization=organization, pk=pk)
    if request.method == "GET":
        form = ShareFieldForm(editing=field)
        return _page(request, "field_form.html", organization, "fields", form=form, field=field)
    form = ShareFieldForm(request.POST, editing=field)
    done = _submit(
        form,
        lambda: services.share_field_update(field=field, by=request.user, **form.service_values()),
    )
    if done:
        messages.success(request, _("The field “%(label)s” is saved.") % {"label": done.label})
        return redirect("network:fields", slug=organization.slug)
    return _page(
        request, "field_form.html", organization, "fields", form=form, field=field, status=400
    )


def _field_switch(request, organization, pk, form_class, action) -> HttpResponse:
    """A button on the fields list (move, required, retire): run ACTION(field, form data) and go
    back to the list; a malformed post is a 400 with the list."""
    _receiving(organization)
    field = selectors.share_field_of_organization_or_404(organization=organization, pk=pk)
    form = form_class(request.POST)
    if not form.is_valid():
        fields = list(selectors.share_fields_of(organization=organization))
        messages.error(request, _("That change was not understood; nothing changed."))
        return _page(request, "fields.html", organization, "fields", fields=fields, status=400)
    action(field, form.cleaned_data)
    return redirect(f"{reverse('network:fields', args=[organization.slug])}#field-{field.pk}")


@require_POST
@organization_admin
def field_move(request: HttpRequest, organization: Organization, pk: int) -> HttpResponse:
    return _field_switch(
        request,
        organization,
        pk,
        MoveForm,
        lambda field, data: services.share_field_move(
            field=field, direction=data["direction"], by=request.user
        ),
    )


@require_POST
@organization_admin
def field_required(request: HttpRequest, organization: Organization, pk: int) -> HttpResponse:
    return _field_switch(
        request,
        organization,
        pk,
        OnOffForm,
        lambda field, data: services.share_field_set_required(
            field=field, required=data["value"], by=request.user
        ),
    )


@require_POST
@organization_admin
def field_active(request: HttpRequest, organization: Organization, pk: int) -> HttpResponse:
    def action(field, data):
        services.share_field_set_active(field=field, is_active=data["value"], by=request.user)
        if data["value"]:
            message = _("“%(label)s” is asked of learners again.")
        else:
            message = _(
                "“%(label)s” is retired: learners no longer see it; past shares keep its values."
            )
        messages.success(request, message % {"label": field.label})

    return _field_switch(request, organization, pk, OnOffForm, action)


# Members -----------------------------------------------------------------------------------


def _staff_page(request, organization, *, invite_form=None, role_errors=None, status=200):
    """The members list, the invitations waiting for an answer, and the invitation form;
    ROLE_ERRORS ({membership id: [message]}) show next to that member's role selector."""
    members = list(selectors.members_of(organization=organization))
    for membership in members:
        membership.role_errors = (role_errors or {}).get(membership.pk, [])
    invitations = list(selectors.pending_staff_invitations_of(organization=organization))
    return _page(
        request,
        "staff.html",
        organization,
        "staff",
        status=status,
        members=members,
        invitations=invitations,
        invite_form=invite_form or MemberInviteForm(),
        roles=Membership.Role.choices,
    )


@require_GET
@organization_admin
def staff(request: HttpRequest, organization: Organization) -> HttpResponse:
    return _staff_page(request, organization)


@require_POST
@organization_admin
def member_invite(request: HttpRequest, organization: Organization) -> HttpResponse:
    """The same answer whether or not the address has an account: an invitation was sent."""
    form = MemberInviteForm(request.POST)
    invitation = _submit(
        form,
        lambda: services.staff_invitation_send(
            organization=organization, by=request.user, **form.cleaned_data
        ),
    )
    if invitation:
        messages.success(
            request,
            _("An invitation was sent to %(email)s. They become a member once they accept it.")
            % {"email": invitation.email},
        )
        return redirect("network:staff", slug=organization.slug)
    return _staff_page(request, organization, invite_form=form, status=400)


@require_POST
@organization_admin
def invitation_revoke(request: HttpRequest, organization: Organization, pk: int) -> HttpResponse:
    invitation = selectors.staff_invitation_of_organization_or_404(organization=organization, pk=pk)
    try:
        services.staff_invitation_revoke(invitation=invitation, by=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        return _staff_page(request, organization, status=400)
    messages.success(
        request, _("The invitation to %(email)s is withdrawn.") % {"email": invitation.email}
    )
    return redirect("network:staff", slug=organization.slug)


@require_POST
@organization_admin
def member_role(request: HttpRequest, organization: Organization, pk: int) -> HttpResponse:
    membership = selectors.membership_of_organization_or_404(organization=organization, pk=pk)
    form = RoleForm(request.POST)
    done = _submit(
        form,
        lambda: services.membership_set_role(
            membership=membership, role=form.cleaned_data["role"], by=request.user
        ),
    )
    if not done:
        # The row's own error, shown next to its role selector.
        errors = [error for errors in form.errors.values() for error in errors]
        return _staff_page(request, organization, role_errors={membership.pk: errors}, status=400)
    messages.success(
        request,
        _("%(name)s's role is now %(role)s.")
        % {"name": done.user.full_name or done.user.email, "role": done.get_role_display()},
    )
    if done.user == request.user and done.role != Membership.Role.ADMIN:
        # No longer an administrator: these pages are closed to them now.
        return redirect("home")
    return redirect("network:staff", slug=organization.slug)


@require_http_methods(["GET", "POST"])
@organization_admin
def member_remove(request: HttpRequest, organization: Organization, pk: int) -> HttpResponse:
    membership = selectors.membership_of_organization_or_404(organization=organization, pk=pk)
    if request.method == "GET":
        return _page(request, "member_remove.html", organization, "staff", membership=membership)
    try:
        services.membership_remove(membership=membership, by=request.user)
    except ApplicationError as error:
        return _page(
            request,
            "member_remove.html",
            organization,
            "staff",
            membership=membership,
            error=error.message,
            status=400,
        )
    name = membership.user.full_name or membership.user.email
    messages.success(request, _("%(name)s is no longer a member.") % {"name": name})
    if membership.user == request.user:
        return redirect("home")
    return redirect("network:staff", slug=organization.slug)


# API keys ----------------------------------------------------------------------------------


@require_GET
@organization_admin
def key_list(request: HttpRequest, organization: Organization) -> HttpResponse:
    keys = list(selectors.api_keys_of(organization=organization))
    return _page(request, "keys.html", organization, "keys", keys=keys)


@never_cache
@require_http_methods(["GET", "POST"])
@organization_admin
def key_new(request: HttpRequest, organization: Organization) -> HttpResponse:
    """The new key's full text is in this POST's response only (no-store, never in the
    session): once the page is left, only its prefix is ever shown again."""
    if request.method == "GET":
        form = ApiKeyForm(organization=organization)
        return _page(request, "key_form.html", organization, "keys", form=form)
    form = ApiKeyForm(request.POST, organization=organization)
    made = _submit(
        form,
        lambda: api_services.api_key_create(
            organization=organization,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            by=request.user,
        ),
    )
    if not made:
        return _page(request, "key_form.html", organization, "keys", form=form, status=400)
    key, full_text = made
    return _page(request, "key_created.html", organization, "keys", key=key, full_text=full_text)


@require_http_methods(["GET", "POST"])
@organization_admin
def key_revoke(request: HttpRequest, organization: Organization, public_id) -> HttpResponse:
    key = selectors.api_key_of_organization_or_404(organization=organization, public_id=public_id)
    if request.method == "GET":
        return _page(request, "key_revoke.html", organization, "keys", key=key)
    api_services.api_key_revoke(key=key, by=request.user)
    messages.success(request, _("The key “%(name)s” is revoked.") % {"name": key.name})
    return redirect("network:keys", slug=organization.slug)


# Webhooks ----------------------------------------------------------------------------------


@require_GET
@organization_admin
def webhook_list(request: HttpRequest, organization: Organization) -> HttpResponse:
    endpoints = list(webhook_selectors.endpoints_of(organization=organization))
    return _page(request, "webhooks.html", organization, "webhooks", endpoints=endpoints)


@require_http_methods(["GET", "POST"])
@organization_admin
def webhook_new(request: HttpRequest, organization: Organization) -> HttpResponse:
    if request.method == "GET":
        form = WebhookEndpointForm()
        return _page(request, "webhook_form.html", organization, "webhooks", form=form)
    form = WebhookEndpointForm(request.POST)

    def add():
        values = dict(form.cleaned_data)
        return submit_once(
            user=request.user,
            token=values.pop("submission_token"),
            action=lambda: webhook_services.endpoint_create(
                organization=organization, by=request.user, **values
            ),
            result_url=lambda endpoint: reverse(
                "network:webhook", args=[organization.slug, endpoint.public_id]
            ),
        )

    endpoint = _submit(form, add)
    if not endpoint:
        return _page(request, "webhook_form.html", organization, "webhooks", form=form, status=400)
    if isinstance(endpoint, Repeated):
        return repeated_response(
            request, endpoint, fallback=reverse("network:webhooks", args=[organization.slug])
        )
    messages.success(
        request,
        _("The endpoint is added. Its secret signs every delivery: show it below to copy it."),
    )
    return redirect("network:webhook", slug=organization.slug, public_id=endpoint.public_id)


@never_cache  # the page holds the endpoint's signing secret
@require_GET
@organization_admin
def webhook_detail(request: HttpRequest, organization: Organization, public_id) -> HttpResponse:
    endpoint = webhook_selectors.endpoint_of_organization_or_404(
        organization=organization, public_id=public_id
    )
    deliveries = webhook_selectors.deliveries_of_endpoint(endpoint=endpoint)
    page = Paginator(deliveries, DELIVERIES_PAGE_SIZE).get_page(request.GET.get("page"))
    return _page(
        request, "webhook_detail.html", organization, "webhooks", endpoint=endpoint, page=page
    )


@require_http_methods(["GET", "POST"])
@organization_admin
def webhook_edit(request: HttpRequest, organization: Organization, public_id) -> HttpResponse:
    endpoint = webhook_selectors.endpoint_of_organization_or_404(
        organization=organization, public_id=public_id
    )
    if request.method == "GET":
        form = WebhookEndpointForm(editing=endpoint)
        return _page(
            request, "webhook_form.html", organization, "webhooks", form=form, endpoint=endpoint
        )
    form = WebhookEndpointForm(request.POST, editing=endpoint)
    done = _submit(
        form,
        lambda: webhook_services.endpoint_update(
            endpoint=endpoint, by=request.user, **form.cleaned_data
        ),
    )
    if not done:
        return _page(
            request,
            "webhook_form.html",
            organization,
            "webhooks",
            form=form,
            endpoint=endpoint,
            status=400,
        )
    messages.success(request, _("The endpoint is saved."))
    return redirect("network:webhook", slug=organization.slug, public_id=endpoint.public_id)


@require_POST
@organization_admin
def webhook_rotate(request: HttpRequest, organization: Organization, public_id) -> HttpResponse:
    endpoint = webhook_selectors.endpoint_of_organization_or_404(
        organization=organization, public_id=public_id
    )
    webhook_services.endpoint_secret_rotate(endpoint=endpoint, by=request.user)
    messages.success(
        request,
        _(
            "The endpoint has a new secret: the old one no longer signs deliveries. Update "
            "it in your system."
        ),
    )
    return redirect("network:webhook", slug=organization.slug, public_id=endpoint.public_id)


@require_http_methods(["GET", "POST"])
@organization_admin
def webhook_delete(request: HttpRequest, organization: Organization, public_id) -> HttpResponse:
    endpoint = webhook_selectors.endpoint_of_organization_or_404(
        organization=organization, public_id=public_id
    )
    if request.method == "GET":
        return _page(request, "webhook_delete.html", organization, "webhooks", endpoint=endpoint)
    webhook_services.endpoint_delete(endpoint=endpoint, by=request.user)
    messages.success(request, _("The endpoint %(url)s is deleted.") % {"url": endpoint.url})
    return redirect("network:webhooks", slug=organization.slug)


@require_POST
@organization_admin
def delivery_redeliver(request: HttpRequest, organization: Organization, public_id) -> HttpResponse:
    delivery = webhook_selectors.delivery_of_organization_or_404(
        organization=organization, public_id=public_id
    )
    endpoint = delivery.endpoint
    try:
        webhook_services.delivery_redeliver(delivery=delivery, by=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        page = Paginator(
            webhook_selectors.deliveries_of_endpoint(endpoint=endpoint), DELIVERIES_PAGE_SIZE
        ).get_page(1)
        return _page(
            request,
            "webhook_detail.html",
            organization,
            "webhooks",
            endpoint=endpoint,
            page=page,
            status=400,
        )
    messages.success(request, _("The event is being sent again: the new delivery is listed first."))
    return redirect("network:webhook", slug=organization.slug, public_id=endpoint.public_id)
