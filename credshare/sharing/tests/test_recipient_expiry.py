"""Expiry and revocation are checked on every request, on every path a recipient has: the
secret link, the code pages, the share page, view and download (link and email shares), and
the organization's inbox. A share works until the end of its expiry date in the platform's
time zone: at that instant minus one second everything is served, plus one second nothing."""

import datetime
import re
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from credshare.core import testing
from credshare.sharing.services import share_revoke

EXPIRY_DATE = datetime.date(2031, 3, 14)
ONE_SECOND = datetime.timedelta(seconds=1)
EXPIRED = "This share has expired"
REVOKED = "The learner revoked this share."


@pytest.fixture
def clock(time_machine, settings):
    """Time stands still on the morning of the expiry date, in the platform's time zone."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    zone = ZoneInfo(settings.TIME_ZONE)
    time_machine.move_to(datetime.datetime.combine(EXPIRY_DATE, datetime.time(9), zone), tick=False)
    return time_machine


class Recipient:
    """A browser that holds a share, and every path it can request: (method, url)."""

    def __init__(self, share, client: Client, paths: list[tuple[str, str]], staff=None):
        self.share = share
        self.client = client
        self.paths = paths
        self.staff = staff

    def request_all(self) -> list[tuple[str, int, str]]:
        if self.staff is not None:
            # A staff session ends after 30 idle minutes (accounts.staff_sessions): the
            # organization's member signs in at the moment the clock is set to.
            self.client.force_login(self.staff)
        results = []
        for method, url in self.paths:
            response = getattr(self.client, method)(url)
            if response.streaming:
                content = b"".join(response.streaming_content)
            else:
                content = response.content
            body = "" if response.get("Content-Type") == "application/pdf" else content.decode()
            results.append((url, response.status_code, body))
        return results


def document_paths(namespace: str, share, document) -> list[tuple[str, str]]:
    return [
        ("get", reverse(f"{namespace}:share", args=[share.pk])),
        ("get", reverse(f"{namespace}:view", args=[share.pk, document.pk])),
        ("get", reverse(f"{namespace}:download", args=[share.pk, document.pk])),
    ]


def by_link(zoe, document) -> Recipient:
    share, token = testing.share_by_link(zoe, [document], expires_on=EXPIRY_DATE)
    client = Client()
    open_url = reverse("recipient:open", args=[token])
    assert client.get(open_url).status_code == 302
    return Recipient(share, client, document_paths("recipient", share, document))


def by_email(zoe, document, capture) -> Recipient:
    client = Client()
    with capture(execute=True):
        share = testing.share_by_email(zoe, [document], "zelda@example.org", expires_on=EXPIRY_DATE)
    [link] = re.findall(r"https?://\S+/s/\S+/", mail.outbox[-1].body)
    open_url = urlparse(link).path
    with capture(execute=True):
        assert client.get(open_url).status_code == 302
    [code] = re.findall(r"^\s*(\d{6})\s*$", mail.outbox[-1].body, flags=re.MULTILINE)
    code_url = reverse("recipient:code", args=[share.pk])
    assert client.post(code_url, {"code": code}).status_code == 302
    # The code pages stay reachable once verified: they must obey the expiry too.
    return Recipient(
        share,
        client,
        [*document_paths("recipient", share, document), ("get", code_url), ("get", open_url)],
    )


def by_code_pending(zoe, document, capture) -> Recipient:
    """An email share whose recipient opened the link but has not entered the code yet."""
    client = Client()
    with capture(execute=True):
        share = testing.share_by_email(zoe, [document], "zelda@example.org", expires_on=EXPIRY_DATE)
    [link] = re.findall(r"https?://\S+/s/\S+/", mail.outbox[-1].body)
    with capture(execute=True):
        assert client.get(urlparse(link).path).status_code == 302
    return Recipient(
        share,
        client,
        [
            ("get", reverse("recipient:code", args=[share.pk])),
            ("post", reverse("recipient:code", args=[share.pk])),
            ("post", reverse("recipient:code_new", args=[share.pk])),
        ],
    )


def in_the_inbox(zoe, document, ecole, camille) -> Recipient:
    share = testing.share_with(
        zoe, [document], ecole, expires_on=EXPIRY_DATE, field_values={"application_number": "1"}
    )
    return Recipient(share, Client(), document_paths("inbox", share, document), staff=camille)


@pytest.fixture(params=["link", "email", "email before the code", "inbox"])
def recipient(
    request, clock, zoe, university, zoe_transcript, ecole, camille,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    testing.give_credits(zoe, university, 1)
    if request.param == "link":
        return by_link(zoe, zoe_transcript)
    if request.param == "email":
        return by_email(zoe, zoe_transcript, django_capture_on_commit_callbacks)
    if request.param == "email before the code":
        return by_code_pending(zoe, zoe_transcript, django_capture_on_commit_callbacks)
    return in_the_inbox(zoe, zoe_transcript, ecole, camille)


def test_the_share_expires_at_the_end_of_its_expiry_date_in_the_platforms_time_zone(
    zoe, zoe_transcript, clock
):
    share, _token = testing.share_by_link(zoe, [zoe_transcript], expires_on=EXPIRY_DATE)

    assert share.expires_at == datetime.datetime(2031, 3, 15, tzinfo=ZoneInfo(settings.TIME_ZONE))


def test_every_path_is_served_one_second_before_the_share_expires(recipient, clock):
    clock.move_to(recipient.share.expires_at - ONE_SECOND, tick=False)

    results = recipient.request_all()

    # The code pages answer a form (200), a missing code (400) or a resend too soon (429):
    # the share itself is still there.
    assert [(url, status) for url, status, _body in results if status in {404, 410}] == []
    assert all(EXPIRED not in body for _url, _status, body in results)


def test_every_path_says_expired_one_second_after_the_share_expires(recipient, clock):
    clock.move_to(recipient.share.expires_at + ONE_SECOND, tick=False)

    results = recipient.request_all()

    assert [(url, status) for url, status, _body in results] == [
        (url, 410) for _method, url in recipient.paths
    ]
    assert all(EXPIRED in body for _url, _status, body in results)


def test_every_path_says_revoked_once_the_learner_revokes(recipient, clock):
    share_revoke(share=recipient.share)

    results = recipient.request_all()

    assert [(url, status) for url, status, _body in results] == [
        (url, 410) for _method, url in recipient.paths
    ]
    assert all(REVOKED in body for _url, _status, body in results)


def test_a_link_opened_after_expiry_says_expired(clock, zoe, zoe_transcript):
    _share, token = testing.share_by_link(zoe, [zoe_transcript], expires_on=EXPIRY_DATE)
    clock.move_to(datetime.datetime(2031, 3, 15, 0, 0, 1, tzinfo=ZoneInfo(settings.TIME_ZONE)))

    response = Client().get(reverse("recipient:open", args=[token]))

    assert response.status_code == 410
    assert EXPIRED in response.content.decode()
    assert token not in response.content.decode()
