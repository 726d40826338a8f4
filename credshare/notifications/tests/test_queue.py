"""Queueing: what is rendered and stored, in which language, and that the email belongs to
the caller's transaction."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from credshare.notifications.models import OutgoingEmail
from credshare.notifications.services import email_queue

pytestmark = pytest.mark.django_db


def queue(**overrides) -> OutgoingEmail:
    arguments = {
        "to": "recipient@example.org",
        "template": "notifications/test_message",
        "context": {"topic": "Your transcript", "link": "https://credshare.example/s/abc"},
        "language": "en",
    } | overrides
    return email_queue(**arguments)


def test_queue_renders_subject_text_and_html_and_stores_a_pending_email(
    django_capture_on_commit_callbacks, settings
):
    settings.CREDSHARE_EMAIL_DELIVERY = "worker"

    with django_capture_on_commit_callbacks(execute=True):
        email = queue()

    email.refresh_from_db()
    assert email.to == "recipient@example.org"
    assert email.subject == "Help: Your transcript"
    assert email.text_body == "Help\n\nYour transcript\nhttps://credshare.example/s/abc\n"
    assert '<a href="https://credshare.example/s/abc">' in email.html_body
    assert email.language == "en"
    assert email.status == OutgoingEmail.Status.PENDING
    assert email.attempts == 0
    assert email.sent_at is None


def test_without_an_html_template_the_email_is_text_only(settings):
    settings.CREDSHARE_EMAIL_DELIVERY = "worker"

    email = queue(template="notifications/test_plain")

    assert email.subject == "Your transcript"
    assert email.text_body == "Plain: Your transcript\n"
    assert email.html_body == ""


def test_text_parts_are_not_html_escaped_but_the_html_part_is(settings):
    settings.CREDSHARE_EMAIL_DELIVERY = "worker"

    email = queue(context={"topic": "R&D <lab>", "link": "https://x.example/?a=1&b=2"})

    assert email.subject == "Help: R&D <lab>"
    assert "R&D <lab>\nhttps://x.example/?a=1&b=2" in email.text_body
    assert "<p>R&amp;D &lt;lab&gt;</p>" in email.html_body


def test_a_multiline_subject_becomes_one_line(settings):
    settings.CREDSHARE_EMAIL_DELIVERY = "worker"

    email = queue(context={"topic": "first\nsecond", "link": ""})

    assert email.subject == "Help: first second"


def test_the_language_is_stored_as_a_supported_code(settings):
    settings.CREDSHARE_EMAIL_DELIVERY = "worker"

    assert queue(language="fr-ca").language == "fr"
    with pytest.raises(LookupError):
        queue(language="xx")


def test_a_malformed_address_is_refused():
    with pytest.raises(ValidationError):
        queue(to="not-an-address")
    with pytest.raises(ValidationError):
        queue(to="a@example.org\nBcc: b@example.org")
    assert not OutgoingEmail.objects.exists()


def test_inline_delivery_sends_after_the_commit_not_before(
    django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        email = queue()
        assert mailoutbox == []  # nothing leaves before the caller's transaction commits

    assert len(callbacks) == 1
    [message] = mailoutbox
    assert message.to == ["recipient@example.org"]
    assert message.subject == "Help: Your transcript"
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.SENT
    assert email.attempts == 1
    assert email.sent_at is not None


def test_in_worker_mode_the_commit_sends_nothing(
    django_capture_on_commit_callbacks, mailoutbox, settings
):
    settings.CREDSHARE_EMAIL_DELIVERY = "worker"

    with django_capture_on_commit_callbacks(execute=True):
        email = queue()

    assert mailoutbox == []
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.PENDING


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_leaves_no_email_and_sends_nothing(mailoutbox):
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        queue()
        raise Abort

    assert not OutgoingEmail.objects.exists()
    assert mailoutbox == []
