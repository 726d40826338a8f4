"""Fifty wrong passwords for one address at the same moment, on PostgreSQL where the requests
really run in parallel: no more than ten are ever checked, the rest are refused as locked,
and then the right password is refused too."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from credshare.accounts.models import SignInThrottle
from credshare.core import testing

THREADS = 50
LOCKED = "Too many failed login attempts. Try again later."
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
            outcomes[index] = "wrong" if WRONG in text else "locked" if LOCKED in text else text
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


def test_fifty_simultaneous_guesses_get_at_most_ten_passwords_checked(settings, zoe):
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

    assert [o for o in outcomes if o not in {"wrong", "locked"}] == []
    assert outcomes.count("wrong") == len(checked) == 10
    assert outcomes.count("locked") == THREADS - 10
    assert SignInThrottle.objects.get(email="zoe@example.org").failures == 10
    assert sign_in_at_once("zoe@example.org", testing.PASSWORD, 1) == ["locked"]
