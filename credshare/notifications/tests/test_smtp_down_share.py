"""SMTP down while a learner shares by email: the share is made all the same, its email waits
in the outbox, and the worker (`deliver_emails`) sends it over a real SMTP conversation once
the server is back; the link in it then opens the share, its code arriving the same way."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from credshare.billing.models import CreditEntry
from credshare.notifications.models import OutgoingEmail
from credshare.sharing.models import Share
from credshare.sharing.tests.test_recipient_email_code import code_in, link_in
from credshare.sharing.tests.test_share_window import balance, submission_for

pytestmark = pytest.mark.django_db(transaction=True)

URL = reverse("sharing:by_email")
RECIPIENT = "hr@example.com"


def deliver_emails_later() -> str:
    """The worker's next pass, once the retry delay has run out."""
    OutgoingEmail.objects.filter(status=OutgoingEmail.Status.PENDING).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    out = io.StringIO()
    call_command("deliver_emails", stdout=out)
    return out.getvalue()


@pytest.fixture
def smtp_down(smtp_server):
    """The SMTP server's port, closed: nothing listens there until smtp_server.start()."""
    smtp_server.stop()
    return smtp_server


def test_a_share_made_while_smtp_is_down_is_emailed_once_the_server_is_back(
    client, smtp_down, zoe, zoe_transcript, university
):
    client.force_login(zoe)
    data = submission_for(
        client, URL, zoe_transcript, recipient_email=RECIPIENT, email_language="en"
    )

    response = client.post(URL, data)

    # The share works: made, its credit spent, the learner on the done page.
    share = Share.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("sharing:done", args=[share.pk])
    assert client.get(response["Location"]).status_code == 200
    assert balance(zoe, university) == 0
    assert CreditEntry.objects.filter(share=share, amount=-1).count() == 1
    # The email waits: the inline attempt after the commit was refused, nothing arrived.
    email = OutgoingEmail.objects.get()
    assert (email.to, email.status, email.attempts) == (RECIPIENT, "pending", 1)
    assert "ConnectionRefusedError" in email.last_error
    assert smtp_down.messages == []
    assert deliver_emails_later() == ""  # still down: another failed attempt, still pending
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("pending", 2)

    smtp_down.start()
    assert deliver_emails_later() == "1 email(s) sent\n"

    [message] = smtp_down.wait_for(1)
    assert message["To"] == RECIPIENT
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("sent", 3)
    # The link works, and the code it asks for comes over SMTP too.
    recipient = Client()
    assert recipient.get(link_in(message)).status_code == 302
    [_, code_email] = smtp_down.wait_for(2)
    page = recipient.post(reverse("recipient:code", args=[share.pk]), {"code": code_in(code_email)})
    assert page.status_code == 302
    assert deliver_emails_later() == ""  # nothing is sent twice
    assert len(smtp_down.messages) == 2
