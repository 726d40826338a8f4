"""Sessions of accounts with power end after 30 minutes without a request and 12 hours after
their sign-in, and "Remember me" does not keep them; learners' sessions keep the usual rules
and may be remembered."""

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from credshare.accounts.models import User
from credshare.api.tests.conftest import make_key
from credshare.core import testing
from credshare.network.models import Membership

MINUTES = datetime.timedelta(minutes=1)


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def sign_in(client, email, *, remember=False, code=True):
    data = {"login": email, "password": testing.PASSWORD}
    if remember:
        data["remember"] = "on"
    response = client.post(reverse("login"), data)
    if code and response["Location"] == reverse("mfa_authenticate"):
        response = client.post(reverse("mfa_authenticate"), {"code": testing.totp_code()})
    return response


def signed_out_to_sign_in(response, next_url):
    return response.status_code == 302 and response["Location"] == (
        f"{reverse('login')}?next={next_url}"
    )


def test_a_staff_session_ends_after_thirty_idle_minutes(client, camille, clock):
    sign_in(client, camille.email)
    inbox = reverse("inbox:list")
    for _ in range(4):  # active for two hours: never idle long enough
        clock.shift(29 * MINUTES)
        assert client.get(inbox).status_code == 200

    clock.shift(30 * MINUTES)
    response = client.get(inbox)

    assert signed_out_to_sign_in(response, inbox)
    page = client.get(response["Location"]).content.decode()
    assert "You were signed out after 30 minutes without activity" in page
    assert signed_out_to_sign_in(client.get(inbox), inbox)  # really signed out


def test_a_staff_session_ends_twelve_hours_after_its_sign_in(client, camille, clock):
    sign_in(client, camille.email)
    inbox = reverse("inbox:list")
    for _ in range(35):  # a request every 20 minutes for 11 h 40
        clock.shift(20 * MINUTES)
        assert client.get(inbox).status_code == 200, timezone.now()

    clock.shift(20 * MINUTES)
    response = client.get(inbox)

    assert signed_out_to_sign_in(response, inbox)
    assert "session lasts at most 12 hours" in client.get(response["Location"]).content.decode()


def test_an_action_after_the_limit_is_not_done(client, ecole, clock):
    admin = testing.make_issuer_staff(ecole, "head@ecole.example", role="admin")
    sign_in(client, admin.email)
    clock.shift(31 * MINUTES)

    response = client.post(reverse("network:key_new", args=[ecole.slug]), {"name": "Late"})

    assert signed_out_to_sign_in(response, "/")
    assert not ecole.api_keys.exists()


def test_a_platform_admins_session_is_limited_too(client, db, clock):
    admin = testing.make_user("root@credshare.example")
    User.objects.filter(pk=admin.pk).update(is_staff=True, is_superuser=True)
    testing.enrol_totp(admin)
    sign_in(client, admin.email)
    assert client.get(reverse("admin:index")).status_code == 200

    clock.shift(31 * MINUTES)

    assert client.get(reverse("admin:index"))["Location"].startswith(reverse("login"))


def test_remember_me_keeps_a_learner_but_not_staff(zoe, camille):
    learner, staff = Client(), Client()
    sign_in(learner, zoe.email, remember=True)
    sign_in(staff, camille.email, remember=True)

    assert learner.session.get_expire_at_browser_close() is False
    assert learner.session.get_expiry_age() == 14 * 24 * 3600
    assert staff.session.get_expire_at_browser_close() is True


def test_a_learners_session_has_no_idle_limit(client, zoe, zoe_transcript, clock):
    sign_in(client, zoe.email, remember=True)
    clock.shift(datetime.timedelta(hours=13))

    assert client.get(reverse("documents:list")).status_code == 200


def test_a_learner_made_a_member_gets_the_staff_limits(client, zoe, ecole, clock):
    testing.enrol_totp(zoe)  # her session has its second factor: no other check stops her
    sign_in(client, zoe.email, remember=True)
    Membership.objects.create(user=zoe, organization=ecole)

    clock.shift(6 * MINUTES)  # the session's verdict is taken again within five minutes
    assert client.get(reverse("inbox:list")).status_code == 200
    assert client.session.get_expire_at_browser_close() is True
    clock.shift(31 * MINUTES)

    assert signed_out_to_sign_in(client.get(reverse("inbox:list")), reverse("inbox:list"))


def test_the_api_ignores_the_session(client, camille, ecole, clock):
    sign_in(client, camille.email)
    key = make_key(ecole, ["shares:read"])
    clock.shift(datetime.timedelta(hours=13))

    response = client.get("/api/v1/shares", HTTP_AUTHORIZATION=f"Bearer {key.text}")

    assert response.status_code == 200
