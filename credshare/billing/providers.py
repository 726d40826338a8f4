"""Payment providers: where a learner pays for a purchase, and how the provider's news about
it comes back. Which one runs is the setting CREDSHARE_PAYMENT_PROVIDER ("sandbox" or
"stripe"). Whatever the provider, its news becomes a ProviderEvent applied by
`payment_event_apply`, the one code path that changes a purchase's status and credits."""

import logging
import secrets
import uuid

import stripe
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from credshare.billing.models import Purchase
from credshare.billing.services import BillingError, ProviderEvent

logger = logging.getLogger(__name__)


class WebhookRejected(Exception):
    """A webhook that cannot be trusted or read: forged, stale or malformed. Nothing changes;
    the endpoint answers STATUS with CODE and MESSAGE."""

    def __init__(self, code: str, message: str, *, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class ProviderUnavailable(BillingError):
    """The provider could not be reached or refused the request; the purchase stays pending."""


class PaymentProvider:
    name = ""

    def checkout(self, *, purchase: Purchase, success_url: str, cancel_url: str) -> str:
        """Create the provider's checkout for PURCHASE, store its id on the purchase, and
        return the URL to send the learner to."""
        raise NotImplementedError

    def event_from_webhook(self, request: HttpRequest) -> ProviderEvent | None:
        """Verify and translate a webhook. None: a genuine event that concerns no purchase
        (acknowledged and ignored). Raises WebhookRejected for untrustworthy input."""
        raise NotImplementedError

    def refund(self, *, purchase: Purchase) -> ProviderEvent | None:
        """Refund PURCHASE at the provider. Returns the event to apply now, or None when the
        provider reports the refund later through its webhook."""
        raise NotImplementedError


def product_name(purchase: Purchase) -> str:
    """What is bought, as the checkout page and the provider show it."""
    if purchase.kind == Purchase.Kind.BUNDLE:
        return ngettext(
            "%(count)d share of documents from %(issuer)s",
            "%(count)d shares of documents from %(issuer)s",
            purchase.credits,
        ) % {"count": purchase.credits, "issuer": purchase.issuer.name}
    return _("Collection fee: %(title)s (%(issuer)s)") % {
        "title": purchase.document.title if purchase.document_id else "",
        "issuer": purchase.issuer.name,
    }


class SandboxProvider(PaymentProvider):
    """The built-in provider of the demo and tests: a checkout page of our own whose buttons
    make the events a real provider would send."""

    name = "sandbox"

    def checkout(self, *, purchase: Purchase, success_url: str, cancel_url: str) -> str:
        purchase.provider_session_id = f"sandbox_{secrets.token_hex(12)}"
        purchase.save(update_fields=["provider_session_id"])
        return reverse("payments:sandbox", args=[purchase.public_id])

    def event_from_webhook(self, request: HttpRequest) -> ProviderEvent | None:
        raise WebhookRejected("no_webhooks", _("The sandbox provider sends no webhooks."))

    def refund(self, *, purchase: Purchase) -> ProviderEvent | None:
        # One refund per purchase: the same id however many times staff ask.
        return ProviderEvent(
            event_id=f"refund_{purchase.public_id}",
            kind="refunded",
            purchase_public_id=purchase.public_id,
        )

    @staticmethod
    def button_event(*, purchase: Purchase, kind: str) -> ProviderEvent:
        """The event a button of the sandbox checkout page sends: KIND is "completed",
        "failed" or "cancelled"."""
        return ProviderEvent(
            event_id=f"sandbox_{uuid.uuid4().hex}",
            kind=kind,
            purchase_public_id=purchase.public_id,
            session_id=purchase.provider_session_id,
        )


class StripeProvider(PaymentProvider):
    """Stripe Checkout: a Checkout Session per purchase; its webhooks report the payment."""

    name = "stripe"

    # Stripe's event types, in our terms. checkout.session.completed counts only when paid
    # (a delayed payment method reports later through async_payment_succeeded or _failed).
    SESSION_EVENTS = {
        "checkout.session.completed": "completed",
        "checkout.session.async_payment_succeeded": "completed",
        "checkout.session.async_payment_failed": "failed",
        "checkout.session.expired": "cancelled",
    }

    def _api_key(self) -> str:
        return settings.CREDSHARE_STRIPE_SECRET_KEY

    def checkout(self, *, purchase: Purchase, success_url: str, cancel_url: str) -> str:
        reference = str(purchase.public_id)
        try:
            session = stripe.checkout.Session.create(
                api_key=self._api_key(),
                # A retry for the same purchase gets the same session back.
                idempotency_key=f"checkout_{reference}",
                mode="payment",
                line_items=[
                    {
                        "price_data": {
                            "currency": purchase.currency.lower(),
                            "unit_amount": purchase.total_cents,
                            "product_data": {"name": product_name(purchase)},
                        },
                        "quantity": 1,
                    }
                ],
                client_reference_id=reference,
                metadata={"purchase": reference},
                # Copied onto the charge, so that charge.refunded names the purchase.
                payment_intent_data={"metadata": {"purchase": reference}},
                success_url=success_url,
                cancel_url=cancel_url,
                customer_email=purchase.learner.email,
            )
        except stripe.StripeError as error:
            logger.warning("Stripe checkout for purchase %s failed: %s", reference, error)
            raise ProviderUnavailable(
                _("The payment service is unavailable. Please try again in a few minutes."),
                code="provider_unavailable",
            ) from error
        purchase.provider_session_id = session.id
        purchase.save(update_fields=["provider_session_id"])
        return session.url

    def refund(self, *, purchase: Purchase) -> ProviderEvent | None:
        reference = str(purchase.public_id)
        try:
            session = stripe.checkout.Session.retrieve(
                purchase.provider_session_id, api_key=self._api_key()
            )
            payment_intent = session.to_dict().get("payment_intent")
            if not payment_intent:
                raise BillingError(
                    _("This payment has nothing to refund at the payment service."),
                    code="nothing_to_refund",
                )
            if not isinstance(payment_intent, str):
                payment_intent = payment_intent["id"]
            refund = stripe.Refund.create(
                api_key=self._api_key(),
                idempotency_key=f"refund_{reference}",
                payment_intent=payment_intent,
                metadata={"purchase": reference},
            )
        except stripe.StripeError as error:
            logger.warning("Stripe refund for purchase %s failed: %s", reference, error)
            raise ProviderUnavailable(
                _("The payment service could not refund this payment. Please try again later."),
                code="provider_unavailable",
            ) from error
        if refund.to_dict().get("status") == "succeeded":
            return ProviderEvent(
                event_id=f"refund_{refund.id}",
                kind="refunded",
                purchase_public_id=purchase.public_id,
            )
        # Pending: Stripe's charge.refunded webhook reports it when it goes through.
        return None

    def event_from_webhook(self, request: HttpRequest) -> ProviderEvent | None:
        secret = settings.CREDSHARE_STRIPE_WEBHOOK_SECRET
        if not secret:
            logger.error("A Stripe webhook arrived but CREDSHARE_STRIPE_WEBHOOK_SECRET is not set")
            raise WebhookRejected(
                "not_configured", _("Stripe webhooks are not configured."), status=503
            )
        payload = request.body
        header = request.headers.get("Stripe-Signature", "")
        tolerance = settings.CREDSHARE_STRIPE_WEBHOOK_TOLERANCE
        try:
            event = stripe.Webhook.construct_event(payload, header, secret, tolerance=tolerance)
        except stripe.SignatureVerificationError as error:
            raise self._signature_rejection(payload, header, secret) from error
        except (ValueError, UnicodeDecodeError, AttributeError, TypeError) as error:
            # Not JSON, or JSON that is not an event object.
            raise WebhookRejected(
                "malformed", _("The webhook body is not a Stripe event.")
            ) from error
        try:
            return self._translate(event.to_dict())
        except (KeyError, TypeError, AttributeError) as error:
            raise WebhookRejected(
                "malformed", _("The webhook body is not a Stripe event.")
            ) from error

    @staticmethod
    def _signature_rejection(payload, header, secret) -> WebhookRejected:
        # Tell a stale event (a genuine signature, too old: perhaps a replay) from a forged one.
        try:
            stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=None)
        except (stripe.SignatureVerificationError, UnicodeDecodeError):
            return WebhookRejected("bad_signature", _("The webhook signature does not match."))
        return WebhookRejected("stale", _("The webhook is too old: its timestamp is too far back."))

    def _translate(self, event) -> ProviderEvent | None:
        event_id, event_type = event["id"], event["type"]
        if not isinstance(event_id, str) or not event_id:
            raise TypeError("event id")
        obj = event["data"]["object"]
        if event_type in self.SESSION_EVENTS:
            if event_type == "checkout.session.completed" and obj.get("payment_status") not in {
                "paid",
                "no_payment_required",
            }:
                return None
            metadata = obj.get("metadata") or {}
            return ProviderEvent(
                event_id=event_id,
                kind=self.SESSION_EVENTS[event_type],
                purchase_public_id=_uuid_or_none(
                    obj.get("client_reference_id") or metadata.get("purchase")
                ),
                session_id=obj.get("id") or "",
            )
        if event_type == "charge.refunded":
            if not obj.get("refunded"):
                # A partial refund: purchases are refunded in full only.
                logger.warning("Ignored partial refund of charge %s", obj.get("id"))
                return None
            metadata = obj.get("metadata") or {}
            purchase_id = _uuid_or_none(metadata.get("purchase"))
            session_id = ""
            if purchase_id is None and obj.get("payment_intent"):
                session_id = self._session_of_payment_intent(obj["payment_intent"])
            if purchase_id is None and not session_id:
                return None
            return ProviderEvent(
                event_id=event_id,
                kind="refunded",
                purchase_public_id=purchase_id,
                session_id=session_id,
            )
        return None

    def _session_of_payment_intent(self, payment_intent) -> str:
        """The Checkout Session that made PAYMENT_INTENT, for a charge without our metadata."""
        if not isinstance(payment_intent, str):
            payment_intent = payment_intent["id"]
        sessions = stripe.checkout.Session.list(
            payment_intent=payment_intent, limit=1, api_key=self._api_key()
        )
        return sessions.data[0].id if sessions.data else ""


def _uuid_or_none(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


PROVIDERS = {SandboxProvider.name: SandboxProvider, StripeProvider.name: StripeProvider}


def payment_provider(name: str | None = None) -> PaymentProvider:
    """The provider named NAME (a purchase's `provider`), by default the one the setting
    CREDSHARE_PAYMENT_PROVIDER chooses for new purchases."""
    name = name or settings.CREDSHARE_PAYMENT_PROVIDER
    try:
        return PROVIDERS[name]()
    except KeyError:
        raise ValueError(f"Unknown payment provider {name!r}") from None
