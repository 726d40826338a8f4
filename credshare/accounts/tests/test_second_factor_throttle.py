"""Second-factor codes are limited per account, whatever the addresses they come from: five
wrong codes, then each next code waits a growing delay (the right one too), at sign-in and
when a code is asked again in a session; allauth's limit per address stays beside it."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from credshare.core import testing

ADDRESSES = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
INCORRECT = "Incorrect code."
WAIT = "Too many failed attempts. Try again in 30 seconds."


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def at_code_step(client, email="camille@ecole.example"):
    response = client.post(
        reverse("login"),
        {"login": email, "password": testing.PASSWORD},
        REMOTE_ADDR=ADDRESSES[0],
    )
    assert response["Location"] == reverse("mfa_authenticate")


def give(client, code, address, url="mfa_authenticate"):
    response = client.post(reverse(url), {"code": code}, REMOTE_ADDR=address)
    return response["Location"] if response.status_code == 302 else response.content.decode()


def test_wrong_codes_from_several_addresses_count_for_the_account(client, camille, clock):
    at_code_step(client)
    pages = [give(client, "000000", ADDRESSES[n % 3]) for n in range(30)]

    assert [INCORRECT in page for page in pages] == [True] * 5 + [False] * 25
    assert all(WAIT in page for page in pages[5:])
    assert WAIT in give(client, testing.totp_code(), ADDRESSES[2])
    clock.shift(datetime.timedelta(seconds=30))
    assert give(client, testing.totp_code(), ADDRESSES[2]) == reverse("home")


def test_the_limit_holds_across_sessions(camille, clock):
    from django.test import Client

    for n in range(5):
        browser = Client()
        at_code_step(browser)
        assert INCORRECT in give(browser, "000000", ADDRESSES[n % 3])
    browser = Client()
    at_code_step(browser)

    assert WAIT in give(browser, testing.totp_code(), ADDRESSES[1])


def test_the_code_asked_again_in_a_session_is_limited_too(client, camille, clock):
    at_code_step(client)
    assert give(client, testing.totp_code(), ADDRESSES[0]) == reverse("home")

    pages = [give(client, "000000", ADDRESSES[n % 3], "mfa_reauthenticate") for n in range(6)]

    assert [INCORRECT in page for page in pages] == [True] * 5 + [False]
    assert WAIT in pages[5]


def test_a_right_code_gives_its_slot_back(client, camille, clock):
    at_code_step(client)
    for n in range(4):
        give(client, "000000", ADDRESSES[n % 3])
    assert give(client, testing.totp_code(), ADDRESSES[0]) == reverse("home")
    client.post(reverse("logout"))
    at_code_step(client)

    assert INCORRECT in give(client, "000000", ADDRESSES[1])  # the fifth failure
    assert WAIT in give(client, testing.totp_code(offset=1), ADDRESSES[1])
