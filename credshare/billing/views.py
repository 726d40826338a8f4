"""The learner's billing pages: buy more shares from an issuer, pay a document's collection
fee, come back from the payment provider, and the payments page with its receipts.
(The issuer staff's pages are in issuer_views.py.)"""

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from credshare.billing import receipts, services
from credshare.billing.models import FeePolicy, Purchase, ShareBundle
from credshare.billing.selectors import credit_balances, locked_document_ids
from credshare.core.security import pdf_file_response
from credshare.documents.selectors import document_of_learner_or_404
from credshare.network.models import Organization

PAGE_SIZE = 50
RECEIPT_STATUSES = {Purchase.Status.PAID, Purchase.Status.REFUNDED}


class BundleChoiceForm(forms.Form):
    bundle = forms.ModelChoiceField(
        label=gettext_lazy("How many shares?"),
        queryset=ShareBundle.objects.none(),
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose how many shares you want.")},
    )

    def __init__(self, *args, bundles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bundle"].queryset = bundles
        self.fields["bundle"].error_messages["invalid_choice"] = _(
            "This bundle is no longer offered: choose another one."
        )


class BundleRow:
    """A bundle as the learner sees it: its price, its tax and what it totals."""

    def __init__(self, bundle: ShareBundle, policy: FeePolicy):
        self.bundle = bundle
        self.tax_cents = policy.tax_on(bundle.price_cents)
        self.total_cents = bundle.price_cents + self.tax_cents


def _policy(issuer: Organization) -> FeePolicy:
    return FeePolicy.objects.filter(issuer=issuer).first() or FeePolicy(issuer=issuer)


def _return_url(purchase: Purchase, **query) -> str:
    url = settings.CREDSHARE_BASE_URL.rstrip("/") + reverse(
        "billing:purchase", args=[purchase.public_id]
    )
    if query:
        url += "?" + urlencode(query)
    return url


def _checkout(purchase: Purchase) -> HttpResponse:
    """Send the learner to the payment provider's page for PURCHASE."""
    from credshare.billing.providers import payment_provider

    url = payment_provider(purchase.provider).checkout(
        purchase=purchase,
        success_url=_return_url(purchase),
        cancel_url=_return_url(purchase, cancelled=1),
    )
    return redirect(url)


def _provider_name() -> str:
    from credshare.billing.providers import payment_provider

    return payment_provider().name


@login_required
@require_http_methods(["GET", "POST"])
def buy_shares(request: HttpRequest, issuer_slug: str) -> HttpResponse:
    """ "More shares": the issuer's bundles of share credits; choosing one goes to payment."""
    issuer = get_object_or_404(Organization, slug=issuer_slug, is_issuer=True)
    policy = _policy(issuer)
    bundles = ShareBundle.objects.filter(issuer=issuer, is_active=True).order_by("quantity")
    form = BundleChoiceForm(request.POST if request.method == "POST" else None, bundles=bundles)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                purchase = services.purchase_start(
                    learner=request.user,
                    provider=_provider_name(),
                    bundle=form.cleaned_data["bundle"],
                )
                # The provider may be unreachable (ProviderUnavailable, a BillingError): the
                # purchase stays pending and the learner can try again.
                return _checkout(purchase)
            except services.BillingError as error:
                form.add_error("bundle", error.message)
        status = 400
    balance = credit_balances(learner=request.user, issuer_ids=[issuer.pk])[issuer.pk]
    return render(
        request,
        "billing/buy_shares.html",
        {
            "issuer": issuer,
            "policy": policy,
            "form": form,
            "rows": [BundleRow(bundle, policy) for bundle in bundles],
            "balance": balance,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def pay_collection(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Pay": the collection fee that unlocks one of the learner's documents."""
    document = document_of_learner_or_404(learner=request.user, pk=pk)
    policy = _policy(document.issuer)
    if document.pk not in locked_document_ids(documents=[document]):
        return render(
            request,
            "billing/pay_collection.html",
            {"document": document, "nothing_to_pay": True},
            status=400,
        )
    error = None
    if request.method == "POST":
        try:
            purchase = services.purchase_start(
                learner=request.user, provider=_provider_name(), document=document
            )
            return _checkout(purchase)
        except services.BillingError as failure:
            error = failure.message
    subtotal = policy.collection_fee_cents
    tax = policy.tax_on(subtotal)
    return render(
        request,
        "billing/pay_collection.html",
        {
            "document": document,
            "policy": policy,
            "subtotal_cents": subtotal,
            "tax_cents": tax,
            "total_cents": subtotal + tax,
            "error": error,
        },
        status=400 if error else 200,
    )


def _purchases_of(learner):
    return Purchase.objects.filter(learner=learner).select_related("issuer", "document", "learner")


def _purchase_of_learner_or_404(request: HttpRequest, public_id) -> Purchase:
    """The learner's own purchase; anybody else's is a 404, as if it did not exist."""
    return get_object_or_404(_purchases_of(request.user), public_id=public_id)


@login_required
@require_GET
@never_cache
def purchase_detail(request: HttpRequest, public_id) -> HttpResponse:
    """Where the payment provider sends the learner back: what became of the payment."""
    purchase = _purchase_of_learner_or_404(request, public_id)
    return render(
        request,
        "billing/purchase.html",
        {
            "purchase": purchase,
            # Back from the provider's "cancel": the purchase stays pending until the provider
            # says otherwise, but the learner knows nothing was charged.
            "came_back_cancelled": request.GET.get("cancelled") == "1",
            "has_receipt": purchase.status in RECEIPT_STATUSES,
        },
    )


@login_required
@require_GET
def payments(request: HttpRequest) -> HttpResponse:
    """Every payment of the learner, newest first, with its receipt."""
    page = Paginator(_purchases_of(request.user).order_by("-created", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "billing/payments.html",
        {"page": page, "receipt_statuses": RECEIPT_STATUSES},
    )


def _receipt_purchase_or_404(request: HttpRequest, public_id) -> Purchase:
    purchase = _purchase_of_learner_or_404(request, public_id)
    if purchase.status not in RECEIPT_STATUSES:
        raise Http404
    return purchase


@login_required
@require_GET
def receipt(request: HttpRequest, public_id) -> HttpResponse:
    purchase = _receipt_purchase_or_404(request, public_id)
    return render(
        request,
        "billing/receipt.html",
        {"purchase": purchase, "lines": receipts.receipt_lines(purchase)},
    )


@login_required
@require_GET
def receipt_pdf(request: HttpRequest, public_id) -> HttpResponse:
    purchase = _receipt_purchase_or_404(request, public_id)
    return pdf_file_response(
        receipts.receipt_pdf(purchase),
        filename=f"{purchase.receipt_number or 'receipt'}.pdf",
        as_attachment=True,
    )
