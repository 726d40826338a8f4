"""`next=` never sends anyone to another site: not after signing in, not after switching
language. Whatever the form of the address (scheme-relative, backslashes, javascript:, encoded,
with credentials), the redirect lands on this site."""

from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import RequestFactory

from credshare.core import testing
from credshare.core.security import safe_next_url

HOSTILE = [
    "//evil.example",
    "///evil.example",
    "////evil.example/path",
    "https://evil.example",
    "http://evil.example/login/",
    "HTTPS://EVIL.EXAMPLE",
    "https:evil.example",
    "https:/evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "\t//evil.example",
    " //evil.example",
    "\x01//evil.example",
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "http://testserver@evil.example/",
    "https://evil.example\\@testserver/",
    "https://testserver.evil.example/",
    "http://[::1]evil.example/",
    # Encoded forms: these reach the server still encoded, a path of ours at worst.
    "%2F%2Fevil.example",
    "/%2F%2Fevil.example",
    "/%5Cevil.example",
    "%2f%5cevil.example",
    "https%3A%2F%2Fevil.example",
]

KEPT = ["/documents/", "/shares/?page=2", "http://testserver/inbox/"]


def lands_on_this_site(response, *, on: str) -> bool:
    """Where a browser at ON goes with RESPONSE's Location: this host, over HTTP(S)."""
    assert response.status_code == 302
    target = urlsplit(urljoin(f"http://testserver{on}", response["Location"]))
    return target.scheme in {"http", "https"} and target.netloc == "testserver"


@pytest.mark.parametrize("next_url", HOSTILE)
def test_the_language_switch_stays_on_this_site(client, next_url):
    response = client.post("/language/", {"language": "fr", "next": next_url})
    assert lands_on_this_site(response, on="/language/")


@pytest.mark.parametrize("next_url", KEPT)
def test_the_language_switch_goes_back_to_our_own_pages(client, next_url):
    response = client.post("/language/", {"language": "fr", "next": next_url})
    assert response["Location"] == next_url


def test_under_https_an_http_next_is_refused(client):
    response = client.post(
        "/language/", {"language": "fr", "next": "http://testserver/documents/"}, secure=True
    )
    assert response["Location"] == "/"


@pytest.fixture
def zoe_signs_in(client, zoe):
    """Post the sign-in form with a `next`; the field names of allauth's form and of
    Django's are both sent, so this holds whichever page serves /login/."""
    login_url = resolve_url(settings.LOGIN_URL)

    def sign_in(next_url: str):
        client.logout()
        return client.post(
            login_url,
            {
                "login": zoe.email,
                "username": zoe.email,
                "password": testing.PASSWORD,
                "next": next_url,
            },
        )

    return sign_in


@pytest.mark.parametrize("next_url", HOSTILE)
def test_signing_in_stays_on_this_site(zoe_signs_in, next_url):
    response = zoe_signs_in(next_url)
    assert lands_on_this_site(response, on=resolve_url(settings.LOGIN_URL))
    assert "_auth_user_id" in response.wsgi_request.session  # signed in all the same


def test_signing_in_goes_on_to_the_page_asked_for(zoe_signs_in):
    assert zoe_signs_in("/shares/?page=2")["Location"] == "/shares/?page=2"


@pytest.mark.parametrize("next_url", HOSTILE)
def test_safe_next_url_falls_back_for_every_hostile_form(next_url):
    request = RequestFactory().get("/")
    assert safe_next_url(request, next_url, "/home/") in {"/home/", next_url}
    if safe_next_url(request, next_url, "/home/") == next_url:
        # Only the encoded forms pass, and they are paths (or relative names) on our host.
        assert "%" in next_url
        assert urlsplit(urljoin("http://testserver/x/", next_url)).netloc == "testserver"
