"""Fifty wrong passwords (or second-factor codes) for one account at the same moment, on
PostgreSQL where the requests really run in parallel: no more than the five free failures are
ever checked, the rest are told to wait, and then the right password (or code) waits too."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from credshare.accounts.models import SignInThrottle
from credshare.accounts.throttle import Bucket, password_buckets
from credshare.core import testing

THREADS = 50
FREE = 5
# The wait left, 30 seconds at first, shortens while the threads run.
WAIT = "Too many failed attempts. Try again in "
WRONG = "The email address and/or password you specified are not correct."

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL for real concurrency"
    ),
    pytest.mark.django_db(transaction=True),
]


def sign_in_at_once(email: str, password: str, count: int) -> list[str]:
    """COUNT sign-ins, each from its own browser and thread, released at the same moment:
    what each page said ("wrong", "locked", or what else happened)."""
    barrier = threading.Barrier(count)
    outcomes = ["missing"] * count

    def sign_in(index: int) -> None:
        try:
            client = Client()
            barrier.wait(timeout=30)
            page = client.post(reverse("login"), {"login": email, "password": password})
            text = page.content.decode()
            outcomes[index] = "wrong" if WRONG in text else "wait" if WAIT in text else text
        except Exception as error:  # reported by the test as a crash, never swallowed
            outcomes[index] = repr(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_in, args=[index]) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_fifty_simultaneous_guesses_get_at_most_five_passwords_checked(settings, zoe):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "1000/m/ip", "login": "1000/m/ip"}
    checked = []
    check_password = type(zoe).check_password

    def counting_check_password(user, raw_password):
        checked.append(raw_password)  # list.append is atomic under the GIL
        return check_password(user, raw_password)

    type(zoe).check_password = counting_check_password
    try:
        outcomes = sign_in_at_once("zoe@example.org", "not-the-password", THREADS)
    finally:
        type(zoe).check_password = check_password

    assert [o for o in outcomes if o not in {"wrong", "wait"}] == []
    assert outcomes.count("wrong") == len(checked) == FREE
    assert outcomes.count("wait") == THREADS - FREE
    [by_address, _unknown_browsers] = password_buckets(
        account=f"user:{zoe.pk}", address="127.0.0.1", device=None
    )
    assert SignInThrottle.objects.get(key=by_address.key).failures == FREE
    assert sign_in_at_once("zoe@example.org", testing.PASSWORD, 1) == ["wait"]


def test_fifty_simultaneous_codes_get_at_most_five_checked(settings, camille):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "1000/m/ip", "login": "1000/m/ip"}
    browsers = []
    for _ in range(THREADS):  # each at the code step, its password given
        browser = Client()
        browser.post(reverse("login"), {"login": camille.email, "password": testing.PASSWORD})
        browsers.append(browser)
    barrier = threading.Barrier(THREADS)
    outcomes = ["missing"] * THREADS

    def give_code(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            page = browsers[index].post(reverse("mfa_authenticate"), {"code": "000000"})
            text = page.content.decode()
            outcomes[index] = (
                "wrong" if "Incorrect code." in text else "wait" if WAIT in text else text
            )
        except Exception as error:  # reported by the test as a crash, never swallowed
            outcomes[index] = repr(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=give_code, args=[n]) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [o for o in outcomes if o not in {"wrong", "wait"}] == []
    assert outcomes.count("wrong") == FREE
    assert SignInThrottle.objects.get(key=Bucket(f"mfa:user:{camille.pk}", FREE).key).failures == 5
    right = browsers[0].post(reverse("mfa_authenticate"), {"code": testing.totp_code()})
    assert WAIT in right.content.decode()
