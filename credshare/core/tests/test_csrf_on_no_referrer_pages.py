"""Share pages send `Referrer-Policy: no-referrer`, so browsers post their forms with
`Origin: null`. Those posts work from our own pages and nowhere else."""

import pytest
from django.test import Client
from django.urls import reverse


@pytest.fixture
def browser_client(db):
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("login"))  # sets the CSRF cookie, as a page load does
    return client


def switch_language(client, **headers):
    token = client.cookies["csrftoken"].value
    return client.post(
        reverse("language_switch"),
        {"language": "en", "next": "/", "csrfmiddlewaretoken": token},
        headers=headers,
    )


def test_a_post_from_our_own_no_referrer_page_is_accepted(browser_client):
    response = switch_language(browser_client, origin="null", sec_fetch_site="same-origin")

    assert response.status_code == 302


def test_a_null_origin_post_from_another_site_is_refused(browser_client):
    response = switch_language(browser_client, origin="null", sec_fetch_site="cross-site")

    assert response.status_code == 403


def test_a_null_origin_post_that_does_not_say_where_it_came_from_is_refused(browser_client):
    response = switch_language(browser_client, origin="null")

    assert response.status_code == 403


def test_a_null_origin_post_still_needs_the_csrf_token(browser_client):
    response = browser_client.post(
        reverse("language_switch"),
        {"language": "en", "next": "/"},
        headers={"origin": "null", "sec_fetch_site": "same-origin"},
    )

    assert response.status_code == 403
