"""Security headers: the Content-Security-Policy of every page (no inline script or style),
the other headers, every PDF served sandboxed under a name we make, and a real browser
showing the main pages without a single policy violation."""

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import pytest
import stripe
from django.conf import settings
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from credshare.api.models import ApiKey
from credshare.api.services import api_key_create
from credshare.core import testing
from credshare.core.security import (
    SecurityHeadersMiddleware,
    content_disposition,
    content_security_policy,
)

PAGE_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def policy_of(response) -> dict[str, list[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.fixture
def zoe_client(client, zoe):
    client.force_login(zoe)
    return client


# Pages


@pytest.mark.parametrize("url", ["/", "/verify/", "/help/", "/api/v1/docs"])
def test_public_pages_carry_the_page_policy(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert policy_of(response) == PAGE_POLICY


def test_signed_in_pages_and_json_carry_it_too(zoe_client, zoe_transcript):
    pages = ["/documents/", f"/documents/{zoe_transcript.pk}/", "/shares/", "/billing/payments/"]
    for url in pages:
        response = zoe_client.get(url)
        assert response.status_code == 200, url
        assert "unsafe-inline" not in response["Content-Security-Policy"]
        assert policy_of(response) == PAGE_POLICY, url


def test_every_page_gets_the_other_headers(client, zoe_client):
    for response in [client.get("/"), zoe_client.get("/documents/"), client.get("/nowhere/")]:
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"
        features = dict(item.split("=") for item in response["Permissions-Policy"].split(", "))
        assert features["camera"] == features["geolocation"] == features["payment"] == "()"
        assert "clipboard-write" not in features  # the link share's Copy button uses it


def test_with_stripe_form_action_allows_checkout_and_nothing_else(client, settings):
    settings.CREDSHARE_PAYMENT_PROVIDER = "stripe"
    assert policy_of(client.get("/"))["form-action"] == ["'self'", "https://checkout.stripe.com"]
    settings.CREDSHARE_STRIPE_CHECKOUT_ORIGIN = "https://pay.example-university.example"
    assert policy_of(client.get("/"))["form-action"] == [
        "'self'",
        "https://pay.example-university.example",
    ]


def test_a_view_can_replace_directives_of_its_own_policy():
    @content_security_policy(frame_ancestors=["'self'"], img_src=["'self'"])
    def view(request):
        return HttpResponse("<p>framed by us</p>")

    response = SecurityHeadersMiddleware(view)(RequestFactory().get("/"))
    assert policy_of(response) == PAGE_POLICY | {
        "frame-ancestors": ["'self'"],
        "img-src": ["'self'"],
    }


def test_templates_have_no_inline_style_script_or_handler():
    # Emails are exempt: mail clients read only inline styles and run no script.
    from pathlib import Path

    import credshare

    offending = []
    for template in Path(credshare.__file__).parent.rglob("*.html"):
        if "email" in template.parts:
            continue
        text = template.read_text()
        if re.search(r"\sstyle=|<style|<script(?![^>]*\ssrc=)|\son[a-z]+=|javascript:", text):
            offending.append(str(template))
    assert offending == []


# PDFs


def assert_served_pdf(response, *, attachment: bool, framed: bool = False):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = policy_of(response)
    assert policy["sandbox"] == []
    assert policy["default-src"] == ["'none'"]
    assert policy["frame-ancestors"] == (["'self'"] if framed else ["'none'"])
    assert response["X-Frame-Options"] == ("SAMEORIGIN" if framed else "DENY")
    disposition = response["Content-Disposition"]
    assert disposition.split(";")[0] == ("attachment" if attachment else "inline")
    assert re.fullmatch(
        r"(attachment|inline); filename=\"[a-z0-9-]+\.pdf\"; filename\*=UTF-8''[A-Za-z0-9%_.-]+",
        disposition,
    )
    assert "no-store" in response["Cache-Control"]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body.startswith(b"%PDF-")


def test_the_learners_viewer_is_framed_by_its_own_page_only(zoe_client, zoe_transcript):
    page = zoe_client.get(f"/documents/{zoe_transcript.pk}/")
    assert policy_of(page)["frame-ancestors"] == ["'none'"]
    assert_served_pdf(
        zoe_client.get(f"/documents/{zoe_transcript.pk}/pdf/"), attachment=False, framed=True
    )
    assert_served_pdf(zoe_client.get(f"/documents/{zoe_transcript.pk}/download/"), attachment=True)


def test_inbox_files_are_sandboxed(client, zoe, zoe_transcript, ecole, camille):
    share = testing.share_with(
        zoe, [zoe_transcript], ecole, field_values={"application_number": "A-1"}
    )
    client.force_login(camille)
    args = [share.pk, zoe_transcript.pk]
    assert_served_pdf(client.get(reverse("inbox:view", args=args)), attachment=False)
    assert_served_pdf(client.get(reverse("inbox:download", args=args)), attachment=True)


def test_link_share_files_are_sandboxed_and_keep_no_referrer(client, zoe, zoe_transcript):
    share, token = testing.share_by_link(
        zoe, [zoe_transcript], expires_on=testing.days_from_today(365)
    )
    client.get(reverse("recipient:open", args=[token]))
    for name, attachment in [("view", False), ("download", True)]:
        response = client.get(reverse(f"recipient:{name}", args=[share.pk, zoe_transcript.pk]))
        assert_served_pdf(response, attachment=attachment)
        assert response["Referrer-Policy"] == "no-referrer"


def test_api_and_issuer_downloads_are_sandboxed(
    client, zoe, zoe_transcript, ecole, university, settings
):
    share = testing.share_with(
        zoe, [zoe_transcript], ecole, field_values={"application_number": "A-1"}
    )
    _, key = api_key_create(
        organization=ecole, name="SIS", scopes=list(ApiKey.RECEIVING_SCOPES), by=None
    )
    url = f"/api/v1/shares/{share.public_id}/documents/{zoe_transcript.public_id}/pdf"
    assert_served_pdf(client.get(url, headers={"Authorization": f"Bearer {key}"}), attachment=True)

    registrar = testing.make_issuer_staff(university, "registrar@university.example")
    client.force_login(registrar)
    url = reverse("issuer_documents:version_download", args=[university.slug, zoe_transcript.pk, 1])
    assert_served_pdf(client.get(url), attachment=True)


def test_a_receipt_is_a_sandboxed_attachment(zoe_client, zoe, university):
    purchase = testing.make_paid_purchase(zoe, testing.make_bundle(university))
    response = zoe_client.get(reverse("billing:receipt_pdf", args=[purchase.public_id]))
    assert_served_pdf(response, attachment=True)


@pytest.mark.parametrize(
    "title, ascii_name, unicode_name",
    [
        ("Relevé de notes", "releve-de-notes-v1.pdf", "relevé-de-notes-v1.pdf"),
        ('a"; filename="evil.exe', "a-filenameevilexe-v1.pdf", "a-filenameevilexe-v1.pdf"),
        ("../../etc/passwd\r\nSet-Cookie: x=1", "etcpasswd-set-cookie-x1-v1.pdf", None),
        ("<script>", "script-v1.pdf", None),
        ("日本語", "v1.pdf", "日本語-v1.pdf"),
        ("", "v1.pdf", None),
    ],
)
def test_a_served_name_is_made_by_us(title, ascii_name, unicode_name):
    header = content_disposition(f"{title}-v1.pdf", as_attachment=True)
    match = re.fullmatch(r"attachment; filename=\"([^\"]*)\"; filename\*=UTF-8''(\S+)", header)
    assert match
    assert match[1] == ascii_name
    assert unquote(match[2]) == (unicode_name or ascii_name)


# A real browser


def violations_recorder(page):
    """Collect every CSP violation a page reports, and every console error."""
    seen: list[str] = []
    page.on("console", lambda message: message.type == "error" and seen.append(message.text))
    page.on("pageerror", lambda error: seen.append(str(error)))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', function (event) {"
        "  console.error('CSP violation: ' + event.violatedDirective + ' ' + event.blockedURI);"
        "});"
    )
    return seen


def signed_in_page(new_page, live_server, user):
    """A browser page with USER's session (the sign-in pages are not what is tested here)."""
    client = Client()
    client.force_login(user)
    page = new_page()
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    return page


@pytest.mark.django_db(transaction=True)
def test_the_main_pages_run_in_a_browser_without_a_violation(
    live_server, new_page, zoe, zoe_transcript, ecole, camille
):
    share = testing.share_with(
        zoe, [zoe_transcript], ecole, field_values={"application_number": "A-1"}
    )
    anonymous = new_page()
    seen = violations_recorder(anonymous)
    for url in ["/", "/verify/", "/help/"]:
        anonymous.goto(live_server.url + url)
    anonymous.goto(live_server.url + "/api/v1/docs")
    anonymous.wait_for_selector(".swagger-ui .info .title")  # Swagger UI's script ran

    page = signed_in_page(new_page, live_server, zoe)
    seen += violations_recorder(page)
    page.goto(live_server.url + f"/documents/{zoe_transcript.pk}/")
    # The page frames its PDF, sandboxed: Chromium's viewer (an extension's frame inside
    # the PDF's) still draws it.
    viewer_frame = "chrome-extension://"
    for _ in range(50):
        if any(frame.url.startswith(viewer_frame) for frame in page.frames):
            break
        page.wait_for_timeout(100)
    assert any(frame.url.startswith(viewer_frame) for frame in page.frames)
    for url in ["/documents/", "/shares/", f"/shares/{share.pk}/", "/billing/payments/"]:
        page.goto(live_server.url + url)
    page.goto(
        live_server.url + reverse("sharing:with_organization") + f"?documents={zoe_transcript.pk}"
    )
    # The share window's script: the search filters the directory, and choosing an
    # organization fetches its extra fields.
    page.fill("#recipient-search", "zzz-no-such-school")
    assert page.locator(".recipient-option:visible").count() == 0
    page.fill("#recipient-search", "imaginaire")
    assert page.locator(".recipient-option:visible").count() == 1
    page.get_by_role("radio", name=re.compile(ecole.name)).check()
    page.locator("#extra-fields").get_by_label(re.compile("Application number")).wait_for()

    staff = signed_in_page(new_page, live_server, camille)
    seen += violations_recorder(staff)
    staff.goto(live_server.url + reverse("inbox:list"))
    staff.goto(live_server.url + reverse("inbox:share", args=[share.pk]))
    assert seen == []


class FakeStripe(BaseHTTPRequestHandler):
    """Stripe's API, enough for a Checkout Session whose page is at checkout.stripe.test."""

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = (
            b'{"id": "cs_test_h5", "object": "checkout.session",'
            b' "url": "https://checkout.stripe.test/c/pay/cs_test_h5"}'
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def fake_stripe(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeStripe)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    saved = stripe.api_base, stripe.max_network_retries
    stripe.api_base = f"http://127.0.0.1:{server.server_address[1]}"
    stripe.max_network_retries = 0
    settings.CREDSHARE_PAYMENT_PROVIDER = "stripe"
    settings.CREDSHARE_STRIPE_SECRET_KEY = "sk_test_credshare"
    settings.CREDSHARE_STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.test"
    try:
        yield server
    finally:
        stripe.api_base, stripe.max_network_retries = saved
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.django_db(transaction=True)
def test_buying_shares_reaches_stripe_checkout_past_form_action(
    live_server, new_page, fake_stripe, zoe, university, settings
):
    testing.make_bundle(university, quantity=3)
    # Checkout itself is not reachable from here: the browser gets a stand-in page there.
    page = signed_in_page(new_page, live_server, zoe)
    seen = violations_recorder(page)
    page.route(
        "https://checkout.stripe.test/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body="<h1>Checkout</h1>"),
    )
    page.goto(live_server.url + reverse("billing:buy_shares", args=[university.slug]))
    page.locator("input[name=bundle]").first.check()
    page.locator("main button[type=submit]").first.click()
    page.wait_for_url("https://checkout.stripe.test/c/pay/cs_test_h5")
    assert page.locator("h1").text_content() == "Checkout"
    assert seen == []

    # Without the allowance, the same redirect is blocked by form-action.
    settings.CREDSHARE_STRIPE_CHECKOUT_ORIGIN = "https://elsewhere.example"
    page.goto(live_server.url + reverse("billing:buy_shares", args=[university.slug]))
    page.locator("input[name=bundle]").first.check()
    page.locator("main button[type=submit]").first.click()
    page.wait_for_timeout(500)
    assert not page.url.startswith("https://checkout.stripe.test")
    assert any("form-action" in text for text in seen)
