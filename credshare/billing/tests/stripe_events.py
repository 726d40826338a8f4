"""Stripe webhook payloads for tests, signed offline with Stripe's own library the way it
verifies them."""

import json
import time
import uuid

import stripe
from django.urls import reverse

WEBHOOK_SECRET = "whsec_test_credshare"


def session_event(event_type: str, purchase, *, payment_status: str = "paid", event_id=None):
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "type": event_type,
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "data": {
            "object": {
                "id": purchase.provider_session_id or "cs_test_unknown",
                "object": "checkout.session",
                "client_reference_id": str(purchase.public_id),
                "metadata": {"purchase": str(purchase.public_id)},
                "payment_intent": "pi_test_1",
                "payment_status": payment_status,
                "amount_total": purchase.total_cents,
                "currency": purchase.currency.lower(),
            }
        },
    }


def refund_event(purchase, *, metadata=True, refunded=True, event_id=None):
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "type": "charge.refunded",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "data": {
            "object": {
                "id": "ch_test_1",
                "object": "charge",
                "payment_intent": "pi_test_1",
                "refunded": refunded,
                "amount": purchase.total_cents,
                "amount_refunded": purchase.total_cents if refunded else 1,
                "metadata": {"purchase": str(purchase.public_id)} if metadata else {},
            }
        },
    }


def signed(event, *, secret=WEBHOOK_SECRET, timestamp=None) -> tuple[str, str]:
    """The body and its Stripe-Signature header."""
    payload = json.dumps(event) if not isinstance(event, str) else event
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)
    return payload, header


def post_webhook(client, payload: str, header: str | None):
    headers = {"Stripe-Signature": header} if header is not None else {}
    return client.post(
        reverse("payments:stripe_webhook"),
        payload,
        content_type="application/json",
        headers=headers,
    )


def deliver(client, event, **sign):
    return post_webhook(client, *signed(event, **sign))
