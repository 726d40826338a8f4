"""The issuer staff's billing pages: fee policy and bundles, payments and revenue, grants of
free shares and refunds. Members of the issuing organization only (404 for anyone else);
its staff see, its administrators also change (403 for staff)."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from credshare.accounts.selectors import user_with_email
from credshare.billing import issuer_selectors as selectors
from credshare.billing import services
from credshare.billing.issuer_forms import BundleForm, FeePolicyForm, GrantForm, amount_of
from credshare.billing.models import Purchase
from credshare.core.submissions import Repeated, repeated_response, submit_once, token_from

PAGE_SIZE = 25


def money(cents: int, currency: str) -> str:
    """An amount for people: 1,234.50 CAD (1 234,50 CAD in French)."""
    amount = formats.number_format(amount_of(cents), 2, use_l10n=True, force_grouping=True)
    return f"{amount}\N{NO-BREAK SPACE}{currency}"


def _access(request: HttpRequest, slug: str, *, change: bool = False) -> selectors.IssuerAccess:
    access = selectors.issuer_access_or_404(user=request.user, slug=slug)
    if change and not access.is_admin:
        raise PermissionDenied
    return access


def _submit(form, action: Callable[[], object]) -> object | None:
    """Validate FORM and run ACTION, a service call: its result, or None with the errors on
    the form (a service's error next to its field)."""
    if not form.is_valid():
        return None
    try:
        return action()
    except services.BillingError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return None


def _settings_page(request, access, *, policy_form=None, bundle_form=None, status=200):
    policy = selectors.fee_policy_of(issuer=access.organization)
    if policy_form is None:
        policy_form = FeePolicyForm.for_policy(policy)
    if bundle_form is None:
        bundle_form = BundleForm()
    if not access.is_admin:
        for form in (policy_form, bundle_form):
            for field in form.fields.values():
                field.disabled = True
    bundles = [
        (bundle, money(bundle.price_cents, policy.currency))
        for bundle in selectors.bundles_of(issuer=access.organization)
    ]
    context = {
        "organization": access.organization,
        "access": access,
        "policy_form": policy_form,
        "bundle_form": bundle_form,
        "bundles": bundles,
        "nav": "settings",
    }
    return render(request, "billing/issuer/settings.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def billing_settings(request: HttpRequest, slug: str) -> HttpResponse:
    access = _access(request, slug, change=request.method == "POST")
    if request.method == "GET":
        return _settings_page(request, access)
    form = FeePolicyForm(request.POST)
    policy = _submit(
        form,
        lambda: services.fee_policy_update(issuer=access.organization, **form.service_values()),
    )
    if policy is None:
        return _settings_page(request, access, policy_form=form, status=400)
    messages.success(request, _("The fee policy is saved."))
    return redirect("issuer_billing:settings", slug=slug)


@login_required
@require_POST
def bundle_add(request: HttpRequest, slug: str) -> HttpResponse:
    access = _access(request, slug, change=True)
    form = BundleForm(request.POST)
    bundle = _submit(
        form, lambda: services.bundle_add(issuer=access.organization, **form.service_values())
    )
    if bundle is None:
        return _settings_page(request, access, bundle_form=form, status=400)
    messages.success(
        request, _("The bundle of %(quantity)d shares is offered.") % {"quantity": bundle.quantity}
    )
    return redirect("issuer_billing:settings", slug=slug)


@login_required
@require_POST
def bundle_active(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = _access(request, slug, change=True)
    bundle = selectors.bundle_of_issuer_or_404(issuer=access.organization, pk=pk)
    is_active = request.POST.get("is_active") == "1"
    services.bundle_set_active(bundle=bundle, is_active=is_active)
    if is_active:
        message = _("The bundle of %(quantity)d shares is offered again.")
    else:
        message = _("The bundle of %(quantity)d shares is no longer offered.")
    messages.success(request, message % {"quantity": bundle.quantity})
    return redirect("issuer_billing:settings", slug=slug)


@login_required
@require_http_methods(["GET"])
def payments(request: HttpRequest, slug: str) -> HttpResponse:
    access = _access(request, slug)
    issuer = access.organization
    page = Paginator(selectors.purchases_of_issuer(issuer=issuer), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [(purchase, money(purchase.total_cents, purchase.currency)) for purchase in page]
    revenue = {
        "recent": selectors.revenue_of_issuer(issuer=issuer, since=selectors.recent_since()),
        "all": selectors.revenue_of_issuer(issuer=issuer),
    }
    revenue = {
        period: [
            (
                row.currency,
                money(row.paid_cents, row.currency),
                money(row.refunded_cents, row.currency),
                money(row.net_cents, row.currency),
            )
            for row in rows_of_period
        ]
        for period, rows_of_period in revenue.items()
    }
    context = {
        "organization": issuer,
        "access": access,
        "page": page,
        "rows": rows,
        "revenue": revenue,
        "recent_days": selectors.RECENT_DAYS,
        "paid": Purchase.Status.PAID,
        "nav": "payments",
    }
    return render(request, "billing/issuer/payments.html", context)


@login_required
@require_POST
def purchase_refund(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = _access(request, slug, change=True)
    purchase = selectors.purchase_of_issuer_or_404(issuer=access.organization, pk=pk)
    payments_url = reverse("issuer_billing:payments", args=[slug])
    try:
        purchase = submit_once(
            user=request.user,
            token=token_from(request),
            action=lambda: services.purchase_refund(purchase=purchase, by=request.user),
            result_url=lambda _purchase: payments_url,
        )
    except services.BillingError as error:
        messages.error(request, error.message)
        return redirect(payments_url)
    if isinstance(purchase, Repeated):
        return repeated_response(request, purchase, fallback=payments_url)
    number = purchase.receipt_number
    if purchase.status == Purchase.Status.REFUNDED:
        messages.success(request, _("Purchase %(number)s is refunded.") % {"number": number})
    else:
        messages.success(
            request,
            _(
                "The refund of purchase %(number)s is asked; it will show as refunded when the "
                "payment provider confirms it."
            )
            % {"number": number},
        )
    return redirect("issuer_billing:payments", slug=slug)


@login_required
@require_http_methods(["GET", "POST"])
def credit_grant(request: HttpRequest, slug: str) -> HttpResponse:
    access = _access(request, slug, change=True)
    form = GrantForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            learner = user_with_email(form.cleaned_data["email"])
            if learner is None:
                form.add_error("email", _("No one has an account with this email address."))
            else:
                grant_url = reverse("issuer_billing:grant", args=[slug])
                entry = _submit(
                    form,
                    lambda: submit_once(
                        user=request.user,
                        token=form.cleaned_data["submission_token"],
                        action=lambda: services.credit_grant(
                            learner=learner,
                            issuer=access.organization,
                            amount=form.cleaned_data["shares"],
                            note=form.cleaned_data["note"],
                        ),
                        result_url=lambda _entry: grant_url,
                    ),
                )
                if isinstance(entry, Repeated):
                    return repeated_response(request, entry, fallback=grant_url)
                if entry is not None:
                    messages.success(
                        request,
                        _("%(name)s received %(count)d free shares.")
                        % {"name": learner.full_name, "count": entry.amount},
                    )
                    return redirect("issuer_billing:grant", slug=slug)
        status = 400
    context = {"organization": access.organization, "access": access, "form": form, "nav": "grant"}
    return render(request, "billing/issuer/grant.html", context, status=status)
