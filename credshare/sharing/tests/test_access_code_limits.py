"""An email share's access codes cannot be guessed forever: a recipient gets at most
CREDSHARE_ACCESS_CODES_PER_DAY new codes a day, and CREDSHARE_ACCESS_CODE_MAX_FAILURES wrong
codes in total (over every code) lock the share's code entry; the learner is told by email
and on the share's page, the recipient sees why, and the learner can unlock it (a new code
goes out)."""

import datetime
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from credshare.core import testing
from credshare.notifications.models import OutgoingEmail
from credshare.sharing.models import AccessCode
from credshare.sharing.recipient_views import CODE_NEEDED, GRANTS
from credshare.sharing.services import ShareError, access_code_send, access_code_verify

pytestmark = pytest.mark.django_db

RECIPIENT = "zelda@example.org"
LOCKED = "Too many wrong codes were entered for this share"


@pytest.fixture
def share(zoe, zoe_transcript):
    return testing.share_by_email(zoe, [zoe_transcript], RECIPIENT, email_language="en")


@pytest.fixture
def recipient(share) -> Client:
    """A browser that opened the emailed link and is asked for a code."""
    client = Client()
    session = client.session
    session[GRANTS] = {str(share.pk): CODE_NEEDED}
    session.save()
    return client


def codes_sent(share) -> int:
    return OutgoingEmail.objects.filter(to=RECIPIENT, subject__icontains="code").count()


def latest_code(share) -> str:
    email = OutgoingEmail.objects.filter(to=RECIPIENT, subject__icontains="code").latest("id")
    [code] = re.findall(r"^\s*(\d{6})\s*$", email.text_body, flags=re.MULTILINE)
    return code


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def send_codes(share, count: int, start: datetime.datetime) -> None:
    """COUNT codes asked two minutes apart from START."""
    for minute in range(count):
        with time_machine.travel(start + datetime.timedelta(minutes=2 * minute, seconds=1)):
            access_code_send(share=share)


@pytest.mark.parametrize("per_day", [3, 10])
def test_new_codes_stop_at_the_daily_cap_and_start_again_a_day_later(settings, share, per_day):
    settings.CREDSHARE_ACCESS_CODES_PER_DAY = per_day
    start = timezone.now()
    send_codes(share, per_day, start)

    late = start + datetime.timedelta(hours=21)
    with time_machine.travel(late), pytest.raises(ShareError) as caught:
        access_code_send(share=share)
    assert caught.value.code == "code_daily_limit"
    assert codes_sent(share) == per_day

    with time_machine.travel(start + datetime.timedelta(days=1, minutes=1)):
        access_code_send(share=share)
    assert codes_sent(share) == per_day + 1


def test_the_recipient_is_told_of_the_daily_cap_on_the_code_page(settings, share, recipient):
    settings.CREDSHARE_ACCESS_CODES_PER_DAY = 1
    access_code_send(share=share)

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5)):
        response = recipient.post(reverse("recipient:code_new", args=[share.pk]))

    assert response.status_code == 429
    assert "We already sent the most codes a day for this share" in response.content.decode()


@pytest.mark.parametrize("max_failures", [3, 7, 20])
def test_wrong_codes_over_several_codes_lock_the_code_entry(settings, share, max_failures):
    settings.CREDSHARE_ACCESS_CODES_PER_DAY = 100
    settings.CREDSHARE_ACCESS_CODE_MAX_FAILURES = max_failures
    start = timezone.now()
    for failure in range(max_failures):
        if failure % 5 == 0:  # each code allows 5 tries: the guesser asks for a new one
            send_codes(share, 1, start + datetime.timedelta(minutes=2 * failure))
        moment = start + datetime.timedelta(minutes=2 * failure, seconds=30)
        with time_machine.travel(moment), pytest.raises(ShareError) as caught:
            access_code_verify(share=share, code=wrong(latest_code(share)))

    assert caught.value.code == "code_entry_locked"
    later = start + datetime.timedelta(minutes=2 * max_failures + 2)
    with time_machine.travel(later), pytest.raises(ShareError) as refused:
        access_code_send(share=share)
    assert refused.value.code == "code_entry_locked"
    with time_machine.travel(later), pytest.raises(ShareError) as right_one:
        access_code_verify(share=share, code=latest_code(share))
    assert right_one.value.code == "code_entry_locked"


def lock(settings, share) -> None:
    settings.CREDSHARE_ACCESS_CODE_MAX_FAILURES = 2
    access_code_send(share=share)
    for _ in range(2):
        with pytest.raises(ShareError):
            access_code_verify(share=share, code=wrong(latest_code(share)))


def test_the_learner_is_told_by_email_and_on_the_share_page(settings, client, zoe, share):
    lock(settings, share)

    [email] = OutgoingEmail.objects.filter(to=zoe.email)
    assert email.subject == "Entering codes for your share is locked"
    assert "2 wrong access codes were entered for your share" in email.text_body
    assert reverse("sharing:detail", args=[share.pk]) in email.text_body
    client.force_login(zoe)
    page = client.get(reverse("sharing:detail", args=[share.pk])).content.decode()
    assert "Entering codes is locked" in page
    assert reverse("sharing:code_unlock", args=[share.pk]) in page


def test_the_recipient_sees_why_on_the_code_page(settings, share, recipient):
    lock(settings, share)

    page = recipient.get(reverse("recipient:code", args=[share.pk]))
    entered = recipient.post(reverse("recipient:code", args=[share.pk]), {"code": "123456"})
    asked = recipient.post(reverse("recipient:code_new", args=[share.pk]))

    assert LOCKED in page.content.decode()
    assert entered.status_code == 429 and LOCKED in entered.content.decode()
    assert asked.status_code == 429 and LOCKED in asked.content.decode()


def test_the_learner_unlocks_and_the_recipient_opens_with_the_new_code(
    settings, client, zoe, share, recipient
):
    lock(settings, share)
    client.force_login(zoe)
    before = codes_sent(share)

    response = client.post(reverse("sharing:code_unlock", args=[share.pk]), follow=True)

    assert "Entering codes is unlocked" in response.content.decode()
    assert "Entering codes is locked" not in response.content.decode()
    assert codes_sent(share) == before + 1
    opened = recipient.post(
        reverse("recipient:code", args=[share.pk]), {"code": latest_code(share)}
    )
    assert opened.status_code == 302
    assert opened["Location"] == reverse("recipient:share", args=[share.pk])


def test_only_the_learner_can_unlock(settings, client, bob, share):
    lock(settings, share)
    client.force_login(bob)

    response = client.post(reverse("sharing:code_unlock", args=[share.pk]))

    assert response.status_code == 404
    share.refresh_from_db()
    assert share.code_entry_locked_at is not None


def test_a_right_code_does_not_count_as_a_failure(settings, share):
    settings.CREDSHARE_ACCESS_CODE_MAX_FAILURES = 2
    access_code_send(share=share)
    with pytest.raises(ShareError):
        access_code_verify(share=share, code=wrong(latest_code(share)))
    access_code_verify(share=share, code=latest_code(share))

    share.refresh_from_db()
    assert share.code_failures == 1 and share.code_entry_locked_at is None
    assert AccessCode.objects.filter(used_at__isnull=False).count() == 1
