"""The Stripe provider against a small fake of Stripe's API on loopback: Stripe's real
library makes the calls, the fake records what was asked."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe
from django.urls import reverse

from credshare.billing.models import FeePolicy, Purchase
from credshare.billing.providers import ProviderUnavailable, payment_provider
from credshare.billing.selectors import credit_balances
from credshare.billing.services import ProviderEvent, payment_event_apply, purchase_start
from credshare.billing.tests.stripe_events import (
    WEBHOOK_SECRET,
    deliver,
    refund_event,
    session_event,
)
from credshare.core import testing


class FakeStripe(BaseHTTPRequestHandler):
    """Answers the few endpoints credshare calls; every request lands in server.requests."""

    def log_message(self, *args):
        pass

    def _answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _record(self, method):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode()) if length else {}
        request = {
            "method": method,
            "path": url.path,
            "query": {k: v[-1] for k, v in parse_qs(url.query).items()},
            "form": {k: v[-1] for k, v in form.items()},
            "headers": dict(self.headers),
        }
        self.server.requests.append(request)
        return request

    def do_POST(self):
        request = self._record("POST")
        if self.server.fail:
            return self._answer(
                500, {"error": {"type": "api_error", "message": "Stripe is having a bad day"}}
            )
        if request["path"] == "/v1/checkout/sessions":
            return self._answer(
                200,
                {
                    "id": "cs_test_fake123",
                    "object": "checkout.session",
                    "url": "https://checkout.stripe.test/c/pay/cs_test_fake123",
                    "client_reference_id": request["form"].get("client_reference_id"),
                    "payment_status": "unpaid",
                },
            )
        if request["path"] == "/v1/refunds":
            return self._answer(
                200,
                {
                    "id": "re_test_1",
                    "object": "refund",
                    "status": self.server.refund_status,
                    "payment_intent": request["form"].get("payment_intent"),
                },
            )
        return self._answer(404, {"error": {"type": "invalid_request_error", "message": "?"}})

    def do_GET(self):
        request = self._record("GET")
        if request["path"] == "/v1/checkout/sessions":
            return self._answer(
                200,
                {
                    "object": "list",
                    "url": "/v1/checkout/sessions",
                    "has_more": False,
                    "data": [{"id": "cs_test_fake123", "object": "checkout.session"}],
                },
            )
        if request["path"].startswith("/v1/checkout/sessions/"):
            session_id = request["path"].rsplit("/", 1)[1]
            return self._answer(
                200,
                {"id": session_id, "object": "checkout.session", "payment_intent": "pi_test_42"},
            )
        return self._answer(404, {"error": {"type": "invalid_request_error", "message": "?"}})


@pytest.fixture
def fake_stripe(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeStripe)
    server.requests = []
    server.fail = False
    server.refund_status = "succeeded"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    saved = stripe.api_base, stripe.max_network_retries
    stripe.api_base = f"http://127.0.0.1:{server.server_address[1]}"
    stripe.max_network_retries = 0
    settings.CREDSHARE_PAYMENT_PROVIDER = "stripe"
    settings.CREDSHARE_STRIPE_SECRET_KEY = "sk_test_credshare"
    settings.CREDSHARE_STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    try:
        yield server
    finally:
        stripe.api_base, stripe.max_network_retries = saved
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def purchase(zoe, university):
    FeePolicy.objects.filter(issuer=university).update(tax_rate_basis_points=1300)
    bundle = testing.make_bundle(university, quantity=3, price_cents=2500)
    return purchase_start(learner=zoe, provider="stripe", bundle=bundle)


def checkout(purchase):
    return payment_provider().checkout(
        purchase=purchase, success_url="https://x.test/ok", cancel_url="https://x.test/no"
    )


def test_checkout_creates_a_session_for_the_purchase_total(fake_stripe, purchase, zoe):
    url = checkout(purchase)

    assert url == "https://checkout.stripe.test/c/pay/cs_test_fake123"
    purchase.refresh_from_db()
    assert purchase.provider_session_id == "cs_test_fake123"
    [request] = fake_stripe.requests
    assert (request["method"], request["path"]) == ("POST", "/v1/checkout/sessions")
    assert request["headers"]["Authorization"] == "Bearer sk_test_credshare"
    assert request["headers"]["Idempotency-Key"] == f"checkout_{purchase.public_id}"
    form = request["form"]
    reference = str(purchase.public_id)
    assert form["mode"] == "payment"
    assert form["line_items[0][price_data][currency]"] == "cad"
    assert form["line_items[0][price_data][unit_amount]"] == "2825"  # 2500 + 13 % tax
    assert form["line_items[0][price_data][product_data][name]"] == (
        "3 shares of documents from Example University"
    )
    assert form["line_items[0][quantity]"] == "1"
    assert form["client_reference_id"] == reference
    assert form["metadata[purchase]"] == reference
    assert form["payment_intent_data[metadata][purchase]"] == reference
    assert form["success_url"] == "https://x.test/ok"
    assert form["cancel_url"] == "https://x.test/no"
    assert form["customer_email"] == zoe.email


def test_a_stripe_outage_at_checkout_leaves_the_purchase_pending(fake_stripe, purchase):
    fake_stripe.fail = True
    with pytest.raises(ProviderUnavailable) as raised:
        checkout(purchase)
    assert raised.value.code == "provider_unavailable"
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PENDING
    assert purchase.provider_session_id == ""


def test_the_whole_trip_checkout_then_webhook(fake_stripe, client, purchase, zoe, university):
    checkout(purchase)
    purchase.refresh_from_db()
    event = session_event("checkout.session.completed", purchase)
    event["data"]["object"]["client_reference_id"] = None
    event["data"]["object"]["metadata"] = {}  # found by its session id alone
    assert deliver(client, event).status_code == 200
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID
    assert credit_balances(learner=zoe, issuer_ids=[university.pk])[university.pk] == 4


def paid(purchase):
    checkout(purchase)
    purchase.refresh_from_db()
    event = ProviderEvent(
        event_id="evt_paid", kind="completed", purchase_public_id=purchase.public_id
    )
    payment_event_apply(provider="stripe", event=event)
    purchase.refresh_from_db()
    return purchase


def test_refund_calls_the_refunds_endpoint_with_the_payment_intent(fake_stripe, purchase):
    purchase = paid(purchase)
    fake_stripe.requests.clear()

    event = payment_provider("stripe").refund(purchase=purchase)

    retrieve, refund = fake_stripe.requests
    assert (retrieve["method"], retrieve["path"]) == (
        "GET",
        "/v1/checkout/sessions/cs_test_fake123",
    )
    assert (refund["method"], refund["path"]) == ("POST", "/v1/refunds")
    assert refund["form"]["payment_intent"] == "pi_test_42"
    assert refund["form"]["metadata[purchase]"] == str(purchase.public_id)
    assert refund["headers"]["Idempotency-Key"] == f"refund_{purchase.public_id}"
    # A refund that succeeded right away is applied right away; Stripe's charge.refunded
    # webhook later changes nothing.
    assert event.kind == "refunded"
    assert event.purchase_public_id == purchase.public_id
    payment_event_apply(provider="stripe", event=event)
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.REFUNDED


def test_a_pending_refund_waits_for_the_webhook(fake_stripe, client, purchase):
    purchase = paid(purchase)
    fake_stripe.refund_status = "pending"

    assert payment_provider("stripe").refund(purchase=purchase) is None
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID

    assert deliver(client, refund_event(purchase)).status_code == 200
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.REFUNDED


def test_a_refund_stripe_refuses_raises_and_changes_nothing(fake_stripe, purchase):
    purchase = paid(purchase)
    fake_stripe.fail = True
    with pytest.raises(ProviderUnavailable):
        payment_provider("stripe").refund(purchase=purchase)
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID


def test_a_refunded_charge_without_our_metadata_is_found_through_its_session(
    fake_stripe, client, purchase
):
    purchase = paid(purchase)
    fake_stripe.requests.clear()

    assert deliver(client, refund_event(purchase, metadata=False)).status_code == 200

    [lookup] = fake_stripe.requests
    assert (lookup["method"], lookup["path"]) == ("GET", "/v1/checkout/sessions")
    assert lookup["query"]["payment_intent"] == "pi_test_1"
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.REFUNDED


def test_the_urls():
    assert reverse("payments:stripe_webhook") == "/payments/webhooks/stripe/"
