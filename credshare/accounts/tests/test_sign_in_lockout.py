"""Ten failed sign-ins at one address within 15 minutes lock it for 15 minutes, the right
password included; counted in the database, so that concurrent guesses cannot slip through
(test_sign_in_lockout_postgres.py proves that part)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from credshare.accounts.models import SignInThrottle
from credshare.core import testing

LOCKED = "Too many failed login attempts. Try again later."
WRONG = "The email address and/or password you specified are not correct."


@pytest.fixture(autouse=True)
def _only_our_lockout(settings):
    # allauth's own per-IP counters would refuse first; these tests are about ours.
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "1000/m/ip", "login": "1000/m/ip"}


def attempt(client, email="zoe@example.org", password="not-the-password"):  # noqa: S107
    response = client.post(reverse("login"), {"login": email, "password": password})
    return response.content.decode() if response.status_code == 200 else response["Location"]


def test_ten_failures_lock_the_address_even_for_the_right_password(client, zoe):
    outcomes = [attempt(client) for _ in range(10)]

    assert all(WRONG in page for page in outcomes)
    assert LOCKED in attempt(client, password=testing.PASSWORD)
    assert client.get(reverse("documents:list")).status_code == 302


def test_the_lock_ends_after_fifteen_minutes(client, zoe):
    for _ in range(10):
        attempt(client)
    SignInThrottle.objects.update(
        window_started_at=timezone.now() - datetime.timedelta(minutes=16),
        locked_until=timezone.now() - datetime.timedelta(seconds=1),
    )

    assert attempt(client, password=testing.PASSWORD) == reverse("home")


def test_a_successful_sign_in_gives_back_only_its_own_slot(client, zoe):
    for _ in range(9):
        attempt(client)

    assert attempt(client, password=testing.PASSWORD) == reverse("home")
    client.post(reverse("logout"))

    assert WRONG in attempt(client)  # the tenth failure
    assert LOCKED in attempt(client, password=testing.PASSWORD)


def test_the_address_is_counted_however_it_is_typed(client, zoe):
    for index in range(10):
        attempt(client, email="ZOE@example.org " if index % 2 else "zoe@EXAMPLE.org")

    assert LOCKED in attempt(client, password=testing.PASSWORD)


def test_an_unknown_address_is_locked_the_same_way(client, db):
    outcomes = [attempt(client, email="nobody@example.org") for _ in range(11)]

    assert all(WRONG in page for page in outcomes[:10])
    assert LOCKED in outcomes[10]


def test_one_locked_address_does_not_lock_another(client, zoe, bob):
    for _ in range(10):
        attempt(client)

    assert attempt(client, email="bob@example.org", password=testing.PASSWORD) == reverse("home")


def test_a_password_reset_clears_the_lock(client, zoe):
    from credshare.accounts import lockout

    for _ in range(10):
        attempt(client)
    lockout.sign_in_lockout_clear(email="zoe@example.org")

    assert attempt(client, password=testing.PASSWORD) == reverse("home")


def test_old_rows_are_purged(db):
    from credshare.accounts import lockout

    assert lockout.sign_in_attempt_reserve(email="old@example.org")
    assert lockout.sign_in_attempt_reserve(email="recent@example.org")
    SignInThrottle.objects.filter(email="old@example.org").update(
        window_started_at=timezone.now() - datetime.timedelta(minutes=20)
    )

    assert lockout.sign_in_throttles_purge() == 1
    assert list(SignInThrottle.objects.values_list("email", flat=True)) == ["recent@example.org"]
