"""A real SMTP conversation with an aiosmtpd server on loopback: what arrives, in which
language, and what an outage does (the email waits; nothing is lost or sent twice)."""

import datetime
import io

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from credshare.notifications.models import OutgoingEmail
from credshare.notifications.services import email_queue

pytestmark = pytest.mark.django_db

CONTEXT = {"topic": "Zoé's transcript", "link": "https://credshare.example/s/abc"}


@pytest.fixture
def french_catalog(settings):
    """The compiled French catalog (`make test` compiles it; a lone pytest run may not)."""
    catalog = django_settings.LOCALE_PATHS[0] / "fr" / "LC_MESSAGES" / "django.po"
    compiled = catalog.with_suffix(".mo")
    if not compiled.exists() or compiled.stat().st_mtime < catalog.stat().st_mtime:
        call_command("compiletranslations", verbosity=0, stdout=io.StringIO())
    # Assigning LOCALE_PATHS drops Django's cached catalogs, so the compiled .mo is read.
    settings.LOCALE_PATHS = list(settings.LOCALE_PATHS)


def queue(language: str = "en", template: str = "notifications/test_message") -> OutgoingEmail:
    return email_queue(
        to="recipient@example.org", template=template, context=CONTEXT, language=language
    )


def make_due(email: OutgoingEmail) -> None:
    OutgoingEmail.objects.filter(pk=email.pk).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
    )


def deliver_emails() -> str:
    out = io.StringIO()
    call_command("deliver_emails", stdout=out)
    return out.getvalue()


def test_the_email_arrives_over_smtp_with_its_text_and_html_parts(
    smtp_server,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        email = queue()

    [message] = smtp_server.wait_for(1)
    assert message["To"] == "recipient@example.org"
    assert message["From"] == django_settings.DEFAULT_FROM_EMAIL
    assert message["Subject"] == "Help: Zoé's transcript"
    assert message["Content-Language"] == "en"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    assert "Zoé's transcript\nhttps://credshare.example/s/abc" in text
    html = message.get_body(("html",)).get_content()
    assert '<a href="https://credshare.example/s/abc">' in html
    assert "Zoé&#x27;s transcript" in html
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.SENT
    assert email.attempts == 1
    # The link in it was a secret: the outbox forgets the bodies once the mail is out.
    assert (email.text_body, email.html_body) == ("", "")


def test_a_text_only_email_is_a_single_plain_part(
    smtp_server,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        queue(template="notifications/test_plain")

    [message] = smtp_server.wait_for(1)
    assert message.get_content_type() == "text/plain"
    assert message.get_content() == "Plain: Zoé's transcript\n"


def test_an_email_queued_in_french_arrives_in_french(
    smtp_server,
    django_capture_on_commit_callbacks,
    french_catalog,
):
    with django_capture_on_commit_callbacks(execute=True):
        queue(language="fr")

    [message] = smtp_server.wait_for(1)
    assert message["Content-Language"] == "fr"
    assert message["Subject"] == "Aide: Zoé's transcript"
    assert message.get_body(("plain",)).get_content().startswith("Aide\n")
    assert "<p>Aide</p>" in message.get_body(("html",)).get_content()


@pytest.mark.django_db(transaction=True)
def test_an_smtp_outage_delays_the_email_and_a_later_pass_sends_it_once(
    smtp_server,
):
    smtp_server.stop()  # nothing listens on the port now

    with transaction.atomic():  # the caller's transaction, which must commit all the same
        email = queue()

    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.PENDING
    assert email.attempts == 1
    assert email.next_attempt_at > timezone.now()
    assert "ConnectionRefusedError" in email.last_error
    assert deliver_emails() == ""  # not due yet: nothing is attempted

    smtp_server.start()
    make_due(email)
    assert deliver_emails() == "1 email(s) sent\n"

    [message] = smtp_server.wait_for(1)
    assert message["Subject"] == "Help: Zoé's transcript"
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.SENT
    assert email.attempts == 2
    assert email.sent_at is not None

    make_due(email)  # even when due again, a sent email is never sent again
    assert deliver_emails() == ""
    assert len(smtp_server.messages) == 1
