"""A learner cannot make credshare relay mail: shares by email (each carries the learner's own
text to an address of their choosing) and the access codes of all their shares are limited
per hour and per day. A refused share is a clear message in the form, and nothing is made or
sent."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from credshare.core import testing
from credshare.core.tests.test_translations import (  # noqa: F401 -- fixtures
    compiled_catalog,
    french_client,
)
from credshare.notifications.models import OutgoingEmail
from credshare.sharing.models import Share
from credshare.sharing.services import ShareError, access_code_send
from credshare.sharing.tests.test_share_window import error_area_text, submission_for

pytestmark = pytest.mark.django_db

URL = reverse("sharing:by_email")


@pytest.fixture
def certificate(zoe, free_college):
    # A free issuer's document: credits never get in the way of the limits.
    return testing.make_document(zoe, free_college, "First aid", document_type="certificate")


@pytest.fixture
def zoe_client(client, zoe):
    client.force_login(zoe)
    return client


def post_email_share(client, document, address: str):
    data = submission_for(
        client,
        URL,
        document,
        recipient_email=address,
        message="Buy cheap watches",
        email_language="en",
    )
    return client.post(URL, data)


@pytest.mark.parametrize("per_hour", [2, 10])
def test_email_shares_stop_at_the_hourly_limit_with_a_message_in_the_form(
    settings, zoe_client, certificate, per_hour
):
    settings.CREDSHARE_EMAIL_SHARES_PER_HOUR = per_hour
    for n in range(per_hour):
        assert post_email_share(zoe_client, certificate, f"r{n}@example.net").status_code == 302
    emails = OutgoingEmail.objects.count()

    refused = post_email_share(zoe_client, certificate, "one-more@example.net")

    assert refused.status_code == 429
    message = error_area_text(refused, "form-errors")
    assert f"You can send {per_hour} shares by email an hour" in message
    assert "share by link" in message
    assert Share.objects.count() == per_hour
    assert not Share.objects.filter(recipient_email="one-more@example.net").exists()
    assert OutgoingEmail.objects.count() == emails


def test_the_hourly_limit_frees_up_after_an_hour(settings, zoe, certificate):
    settings.CREDSHARE_EMAIL_SHARES_PER_HOUR = 2
    start = timezone.now()
    for n in range(2):
        testing.share_by_email(zoe, [certificate], f"r{n}@example.net")
    with pytest.raises(ShareError):
        testing.share_by_email(zoe, [certificate], "x@example.net")

    with time_machine.travel(start + datetime.timedelta(hours=1, minutes=1)):
        testing.share_by_email(zoe, [certificate], "later@example.net")

    assert Share.objects.count() == 3


def test_email_shares_stop_at_the_daily_limit(settings, zoe, certificate):
    settings.CREDSHARE_EMAIL_SHARES_PER_HOUR = 2
    settings.CREDSHARE_EMAIL_SHARES_PER_DAY = 3
    start = timezone.now()
    for n in range(3):
        with time_machine.travel(start + datetime.timedelta(hours=2 * n)):
            testing.share_by_email(zoe, [certificate], f"r{n}@example.net")

    with time_machine.travel(start + datetime.timedelta(hours=7)), pytest.raises(ShareError) as e:
        testing.share_by_email(zoe, [certificate], "x@example.net")

    assert e.value.code == "email_shares_limit"
    assert "You can send 3 shares by email a day" in e.value.message
    with time_machine.travel(start + datetime.timedelta(days=1, minutes=1)):
        testing.share_by_email(zoe, [certificate], "tomorrow@example.net")


def test_the_limit_is_each_learners_own_and_only_for_email(
    settings, zoe, bob, certificate, free_college, ecole
):
    settings.CREDSHARE_EMAIL_SHARES_PER_HOUR = 1
    testing.share_by_email(zoe, [certificate], "r@example.net")

    testing.share_by_link(zoe, [certificate])
    testing.share_with(zoe, [certificate], ecole, field_values={"application_number": "A-1"})
    bobs = testing.make_document(bob, free_college, "Bob's certificate")
    testing.share_by_email(bob, [bobs], "r@example.net")

    assert Share.objects.count() == 4


def test_a_repeated_submission_is_not_counted_twice(settings, zoe_client, certificate):
    settings.CREDSHARE_EMAIL_SHARES_PER_HOUR = 1
    data = submission_for(
        zoe_client, URL, certificate, recipient_email="r@example.net", email_language="en"
    )

    first = zoe_client.post(URL, data)
    again = zoe_client.post(URL, data)

    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert Share.objects.count() == 1


def test_the_message_is_in_french_in_french(
    settings,
    zoe,
    french_client,  # noqa: F811 -- the fixture imported above
    certificate,
):
    settings.CREDSHARE_EMAIL_SHARES_PER_HOUR = 1
    french_client.force_login(zoe)
    post_email_share(french_client, certificate, "r@example.net")

    refused = post_email_share(french_client, certificate, "x@example.net")

    assert refused.status_code == 429
    assert "Vous pouvez envoyer 1 partage par courriel par heure" in error_area_text(
        refused, "form-errors"
    )


def test_code_emails_of_all_a_learners_shares_are_limited(settings, zoe, certificate):
    settings.CREDSHARE_CODE_EMAILS_PER_HOUR = 3
    shares = [testing.share_by_email(zoe, [certificate], f"r{n}@example.net") for n in range(4)]
    for share in shares[:3]:
        access_code_send(share=share)

    with pytest.raises(ShareError) as caught:
        access_code_send(share=shares[3])

    assert caught.value.code == "code_emails_limit"
    assert not shares[3].access_codes.exists()
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=1, minutes=1)):
        access_code_send(share=shares[3])


def test_code_emails_stop_at_the_daily_limit(settings, zoe, certificate):
    settings.CREDSHARE_CODE_EMAILS_PER_DAY = 2
    share = testing.share_by_email(zoe, [certificate], "r@example.net")
    start = timezone.now()
    for hour in range(2):
        with time_machine.travel(start + datetime.timedelta(hours=hour)):
            access_code_send(share=share)

    with time_machine.travel(start + datetime.timedelta(hours=5)), pytest.raises(ShareError) as e:
        access_code_send(share=share)

    assert e.value.code == "code_emails_limit"


def test_the_recipient_is_told_on_the_code_page(settings, zoe, certificate, client):
    from credshare.sharing.recipient_views import CODE_NEEDED, GRANTS

    settings.CREDSHARE_CODE_EMAILS_PER_HOUR = 1
    share = testing.share_by_email(zoe, [certificate], "r@example.net")
    access_code_send(share=share)
    session = client.session
    session[GRANTS] = {str(share.pk): CODE_NEEDED}
    session.save()

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5)):
        response = client.post(reverse("recipient:code_new", args=[share.pk]))

    assert response.status_code == 429
    assert "Too many access codes were sent for this person" in response.content.decode()
