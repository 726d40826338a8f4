"""The client's address behind our proxies (CREDSHARE_TRUSTED_PROXY_COUNT): the entry of
X-Forwarded-For the outermost proxy of ours wrote, never one the client wrote itself; with no
proxy configured, the connection's address whatever the header says. allauth's per-address
limits, the sign-in throttling and the audit log all read it."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from credshare.audit.models import AuditEntry, Event
from credshare.core.client_address import client_address

PROXY = "10.0.0.2"  # the address web processes see behind one proxy
CLIENT = "203.0.113.7"
SPOOFED = "198.51.100.66"  # what a client writes into the header itself


def request_from(remote_addr=PROXY, forwarded_for=None):
    extra = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "expected"),
    [
        # No proxy of ours: the header is anyone's to write.
        (0, None, PROXY),
        (0, CLIENT, PROXY),
        (0, f"{SPOOFED}, {CLIENT}", PROXY),
        # One proxy: the entry it appended (the last).
        (1, CLIENT, CLIENT),
        (1, f"{SPOOFED}, {CLIENT}", CLIENT),
        (1, f"{SPOOFED},{SPOOFED}, {CLIENT}", CLIENT),
        (1, None, PROXY),  # a request that did not come through the proxy
        # Two proxies (a CDN, then nginx): the CDN's entry, second from the right.
        (2, f"{CLIENT}, 10.0.0.9", CLIENT),
        (2, f"{SPOOFED}, {CLIENT}, 10.0.0.9", CLIENT),
        (2, "10.0.0.9", "10.0.0.9"),  # reached the inner proxy directly: what it saw
        # Addresses written with ports or brackets, IPv6.
        (1, f"{SPOOFED}, {CLIENT}:51234", CLIENT),
        (1, "[2001:db8::7]:443", "2001:db8::7"),
        (1, "2001:DB8:0:0::7", "2001:db8::7"),
        # Garbage where a proxy of ours writes: the connection, not the garbage.
        (1, f"{CLIENT}, not-an-address", PROXY),
        (1, " , ", PROXY),
    ],
)
def test_the_client_address_behind_our_proxies(settings, proxies, forwarded_for, expected):
    settings.CREDSHARE_TRUSTED_PROXY_COUNT = proxies

    assert client_address(request_from(forwarded_for=forwarded_for)) == expected


def test_no_address_at_all_is_empty(settings):
    settings.CREDSHARE_TRUSTED_PROXY_COUNT = 0

    assert client_address(request_from(remote_addr="")) == ""


def wrong_sign_in(client, email, forwarded_for):
    return client.post(
        reverse("login"),
        {"login": email, "password": "not-the-password"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


LIMITED = "Too many failed login attempts. Try again later."


def test_allauths_per_address_limit_counts_each_client_behind_the_proxy(client, settings, db):
    settings.CREDSHARE_TRUSTED_PROXY_COUNT = 1
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "3/m/ip"}
    for n in range(3):
        wrong_sign_in(client, f"guess{n}@example.org", f"{SPOOFED}, {CLIENT}")

    blocked = wrong_sign_in(client, "guess9@example.org", f"{SPOOFED}, {CLIENT}")
    other_client = wrong_sign_in(client, "guess9@example.org", f"{CLIENT}, 203.0.113.8")

    assert LIMITED in blocked.content.decode()
    assert LIMITED not in other_client.content.decode()


def test_without_a_proxy_count_the_header_changes_nothing(client, settings, db):
    settings.CREDSHARE_TRUSTED_PROXY_COUNT = 0
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "3/m/ip"}
    for n in range(3):
        wrong_sign_in(client, f"guess{n}@example.org", f"203.0.113.{n}")

    # Rotating the header does not give the connection new addresses.
    assert LIMITED in wrong_sign_in(client, "guess9@example.org", "203.0.113.99").content.decode()


def test_the_audit_log_records_the_forwarded_client(client, settings, zoe):
    settings.CREDSHARE_TRUSTED_PROXY_COUNT = 1
    wrong_sign_in(client, "zoe@example.org", f"{SPOOFED}, {CLIENT}")

    entry = AuditEntry.objects.filter(event=Event.SIGN_IN_FAILED).latest("pk")

    assert entry.ip == CLIENT


def api_call(client, key_text, forwarded_for):
    return client.get(
        "/api/v1/shares",
        HTTP_AUTHORIZATION=f"Bearer {key_text}",
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def test_the_apis_limit_on_wrong_keys_counts_each_client_behind_the_proxy(client, settings, ecole):
    from credshare.api.tests.conftest import make_key

    settings.CREDSHARE_TRUSTED_PROXY_COUNT = 1
    settings.CREDSHARE_API_FAILED_KEY_LIMIT = 3
    key = make_key(ecole, ["shares:read"])
    wrong = "csk_0123456789ab_not-the-secret"
    statuses = [api_call(client, wrong, f"{SPOOFED}, {CLIENT}").status_code for _ in range(3)]

    refused = api_call(client, key.text, f"{CLIENT}")  # even with a right key
    other_client = api_call(client, key.text, f"{CLIENT}, 203.0.113.8")

    assert statuses == [401, 401, 401]
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused["Retry-After"]) >= 1
    assert other_client.status_code == 200


def test_the_apis_limit_ignores_the_header_without_a_proxy_count(client, settings, ecole):
    settings.CREDSHARE_TRUSTED_PROXY_COUNT = 0
    settings.CREDSHARE_API_FAILED_KEY_LIMIT = 3
    wrong = "csk_0123456789ab_not-the-secret"
    for n in range(3):
        api_call(client, wrong, f"203.0.113.{n}")

    assert api_call(client, wrong, "203.0.113.99").status_code == 429
