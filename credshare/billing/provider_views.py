"""The pages and endpoints payment providers talk to: the sandbox's checkout page and
Stripe's webhook. Both hand the provider's news to payment_event_apply."""

import logging

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from credshare.billing.models import Purchase
from credshare.billing.providers import (
    SandboxProvider,
    StripeProvider,
    WebhookRejected,
    product_name,
)
from credshare.billing.services import payment_event_apply

logger = logging.getLogger(__name__)

# Stripe's events are a few kilobytes; anything much larger is not one.
WEBHOOK_MAX_BYTES = 64 * 1024

# The sandbox's buttons and the events they send.
SANDBOX_ACTIONS = {"pay": "completed", "decline": "failed", "cancel": "cancelled"}


@login_required
@require_http_methods(["GET", "POST"])
def sandbox_checkout(request: HttpRequest, public_id) -> HttpResponse:
    """The sandbox provider's checkout page: what is bought and its price, with "Pay",
    "Decline" and "Cancel". Only the purchase's learner sees it; anybody else gets 404."""
    purchase = get_object_or_404(
        Purchase.objects.select_related("issuer", "bundle", "document"),
        public_id=public_id,
        learner=request.user,
        provider=SandboxProvider.name,
    )
    if request.method == "POST":
        kind = SANDBOX_ACTIONS.get(request.POST.get("action", ""))
        if kind is None:
            return HttpResponse(_("Unknown action."), status=400)
        # Only a pending purchase is still at the checkout; a second click (or a stale tab)
        # changes nothing and goes to where the first one went.
        if purchase.status == Purchase.Status.PENDING:
            event = SandboxProvider.button_event(purchase=purchase, kind=kind)
            payment_event_apply(provider=SandboxProvider.name, event=event)
        return redirect(reverse("billing:purchase", args=[purchase.public_id]))
    return render(
        request,
        "billing/sandbox_checkout.html",
        {
            "purchase": purchase,
            "product_name": product_name(purchase),
            "is_pending": purchase.status == Purchase.Status.PENDING,
        },
    )


def _webhook_error(code: str, message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's news about payments: verified by the Stripe-Signature header, applied once
    each by event id. 200 for an event applied or ignored; 400 (nothing changes) for a forged,
    stale or malformed one."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > WEBHOOK_MAX_BYTES or len(request.body) > WEBHOOK_MAX_BYTES:
        return _webhook_error("too_large", _("The webhook body is too large."), status=413)
    try:
        event = StripeProvider().event_from_webhook(request)
    except WebhookRejected as rejection:
        logger.warning("Rejected a Stripe webhook: %s", rejection.code)
        return _webhook_error(rejection.code, rejection.message, status=rejection.status)
    if event is None:
        return JsonResponse({"received": True})
    if payment_event_apply(provider=StripeProvider.name, event=event) is None:
        logger.warning("Stripe event %s names no purchase of ours", event.event_id)
    return JsonResponse({"received": True})
