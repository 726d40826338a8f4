"""Password guesses are throttled by account and source, never locked: from one address the
first five failures are free, then each attempt waits a growing delay, said in the page; a
browser that signed in to the account before is counted on its own, so guesses made elsewhere
never slow its owner there; many addresses together are slowed past twenty failures from
browsers the account does not know. An address with no account is answered the same way."""

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from credshare.accounts import throttle
from credshare.accounts.devices import COOKIE_NAME
from credshare.accounts.models import SignInThrottle
from credshare.core import testing

WRONG = "The email address and/or password you specified are not correct."
ATTACKER = "198.51.100.9"
OWNER_AT_HOME = "203.0.113.20"


def waits(seconds: int) -> str:
    return f"Too many failed attempts. Try again in {seconds} seconds."


def waits_minutes(minutes: int) -> str:
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed attempts. Try again in {minutes} {unit}."


@pytest.fixture(autouse=True)
def _only_our_throttle(settings):
    # allauth's own per-address counters would refuse first; these tests are about ours.
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "1000/m/ip", "login": "1000/m/ip"}


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def attempt(client, email="zoe@example.org", password="not-the-password", address=ATTACKER):  # noqa: S107
    response = client.post(
        reverse("login"), {"login": email, "password": password}, REMOTE_ADDR=address
    )
    if response.status_code == 302:
        return response["Location"]
    return response.content.decode()


def signed_in_browser(address=OWNER_AT_HOME) -> Client:
    """Zoé's own browser: it signed in once (so it holds her device cookie), then out."""
    browser = Client()
    assert attempt(browser, password=testing.PASSWORD, address=address) == reverse("home")
    browser.post(reverse("logout"))
    assert browser.cookies[COOKIE_NAME].value
    return browser


def test_five_failures_are_free_then_each_attempt_waits_a_growing_delay(client, zoe, clock):
    assert all(WRONG in attempt(client) for _ in range(5))

    refused = attempt(client, password=testing.PASSWORD)
    assert waits(30) in refused
    assert WRONG not in refused  # the password was not checked
    clock.shift(datetime.timedelta(seconds=30))
    assert WRONG in attempt(client)
    assert waits_minutes(1) in attempt(client)
    clock.shift(datetime.timedelta(seconds=60))
    assert WRONG in attempt(client)
    assert waits_minutes(2) in attempt(client)


def test_the_delay_stops_growing_at_fifteen_minutes_and_nothing_is_locked(client, zoe, clock):
    for _ in range(12):
        attempt(client)
        clock.shift(datetime.timedelta(minutes=15))
    attempt(client)

    assert waits_minutes(15) in attempt(client)
    clock.shift(datetime.timedelta(minutes=15))
    assert attempt(client, password=testing.PASSWORD) == reverse("home")


def test_the_owners_browser_is_not_slowed_by_guesses_from_anywhere(zoe, clock):
    owner = signed_in_browser()
    attacker = Client()
    for n in range(40):  # from many addresses: unknown browsers are slowed account-wide
        attempt(attacker, address=f"198.51.100.{n}")
    assert waits(30) in attempt(Client(), password=testing.PASSWORD, address="192.0.2.1")

    # Her own browser, at home or behind the attacker's own address (a shared NAT).
    assert attempt(owner, password=testing.PASSWORD) == reverse("home")
    owner.post(reverse("logout"))
    assert attempt(owner, password=testing.PASSWORD, address=ATTACKER) == reverse("home")


def test_one_addresss_guesses_do_not_slow_a_new_browser_elsewhere(client, zoe):
    for _ in range(10):
        attempt(client)
    assert waits(30) in attempt(client)

    new_browser = Client()
    assert attempt(new_browser, password=testing.PASSWORD, address="192.0.2.1") == reverse("home")


def test_the_owners_browser_is_throttled_on_its_own_when_it_guesses(zoe, clock):
    owner = signed_in_browser()
    assert all(WRONG in attempt(owner) for _ in range(5))

    assert waits(30) in attempt(owner, password=testing.PASSWORD)
    # ... and that does not slow a new browser at another address.
    assert attempt(Client(), password=testing.PASSWORD, address="192.0.2.1") == reverse("home")


def test_a_device_cookie_names_one_account_and_cannot_be_made_up(zoe, bob):
    bobs_browser = Client()
    assert attempt(bobs_browser, "bob@example.org", testing.PASSWORD) == reverse("home")
    bobs_browser.post(reverse("logout"))
    forged = Client()
    forged.cookies[COOKIE_NAME] = "not-signed-by-us"
    for browser in (bobs_browser, forged):
        for _ in range(5):
            attempt(Client())  # the attacker's own browser, same address
        # Bob's cookie is no cookie of Zoé's; a made-up one is none at all.
        assert waits(30) in attempt(browser, password=testing.PASSWORD), browser
        SignInThrottle.objects.all().delete()


def test_a_known_and_an_unknown_address_get_the_same_answers(zoe, db):
    def outcomes(email):
        browser = Client()
        pages = [attempt(browser, email=email) for _ in range(7)]
        return [page.replace(email, "EMAIL") for page in pages]

    for_zoe, for_nobody = outcomes("zoe@example.org"), outcomes("nobody@example.org")

    assert [WRONG in page for page in for_zoe] == [True] * 5 + [False] * 2
    assert [waits(30) in page for page in for_zoe] == [False] * 5 + [True] * 2
    assert [WRONG in page for page in for_nobody] == [True] * 5 + [False] * 2
    assert [waits(30) in page for page in for_nobody] == [False] * 5 + [True] * 2


def test_every_address_of_the_account_however_typed_counts_for_it(client, zoe):
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=zoe, email="zoe.work@example.org", verified=True)
    for email in ("ZOE@example.org ", "zoe@EXAMPLE.org", "zoe.work@example.org") * 2:
        attempt(client, email=email)

    assert waits(30) in attempt(client, password=testing.PASSWORD)


def test_a_successful_sign_in_gives_back_only_its_own_slot(client, zoe, clock):
    for _ in range(4):
        attempt(client)

    assert attempt(client, password=testing.PASSWORD) == reverse("home")
    client.post(reverse("logout"))
    client.cookies.pop(COOKIE_NAME)  # as the attacker's browser, which never signed in

    assert WRONG in attempt(client)  # the fifth failure
    assert waits(30) in attempt(client, password=testing.PASSWORD)


def test_a_password_reset_forgets_the_failures(client, zoe):
    from django.test import RequestFactory

    from credshare.accounts.adapter import AccountAdapter

    for _ in range(5):
        attempt(client)
    # What allauth calls for each of the account's addresses once its password was reset.
    request = RequestFactory().get("/")
    AccountAdapter(request)._delete_login_attempts_cached_email(request, email="zoe@example.org")

    assert attempt(client, password=testing.PASSWORD) == reverse("home")


def test_the_message_is_translated(client, zoe):
    for _ in range(5):
        attempt(client)

    page = client.post(
        reverse("login"),
        {"login": "zoe@example.org", "password": "x"},
        REMOTE_ADDR=ATTACKER,
        HTTP_ACCEPT_LANGUAGE="fr",
    ).content.decode()

    assert "Trop de tentatives infructueuses. Réessayez dans 30 secondes." in page


def test_forgotten_buckets_are_purged(db, clock):
    waiting = throttle.Bucket("password:email:waiting@example.org:unknown-browsers", 0)
    done = throttle.Bucket("password:email:done@example.org:unknown-browsers", 5)
    throttle.attempt_reserve([waiting])
    throttle.attempt_reserve([done])
    clock.shift(datetime.timedelta(days=1, seconds=1))
    recent = throttle.Bucket("password:email:recent@example.org:unknown-browsers", 5)
    throttle.attempt_reserve([recent])
    SignInThrottle.objects.filter(key=waiting.key).update(
        next_attempt_at=timezone.now() + datetime.timedelta(minutes=5)
    )

    assert throttle.sign_in_throttles_purge() == 1
    assert set(SignInThrottle.objects.values_list("key", flat=True)) == {waiting.key, recent.key}
