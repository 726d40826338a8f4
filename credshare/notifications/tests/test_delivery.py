"""Delivery: retries with backoff, giving up, never raising, never sending an email twice
(also from simultaneous workers on PostgreSQL), and the `deliver_emails` worker."""

import datetime
import io
import logging
import os
import signal
import smtplib
import threading

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db import DatabaseError, connection
from django.utils import timezone

from credshare.notifications import services
from credshare.notifications.models import OutgoingEmail
from credshare.notifications.services import email_deliver, email_deliver_due, email_queue

pytestmark = pytest.mark.django_db

PASSWORD = "hunter2-smtp-secret"
FAILING_BACKEND = f"{__name__}.FailingBackend"


class FailingBackend(BaseEmailBackend):
    """An SMTP server that refuses the credentials, quoting them back (some do)."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPAuthenticationError(535, f"5.7.8 bad password {PASSWORD}".encode())


class SilentBackend(BaseEmailBackend):
    """A backend that reports sending nothing, without raising."""

    def send_messages(self, email_messages):
        return 0


def queue(topic: str = "Your transcript") -> OutgoingEmail:
    return email_queue(
        to="recipient@example.org",
        template="notifications/test_message",
        context={"topic": topic, "link": "https://credshare.example/s/abc"},
        language="en",
    )


def make_due(email: OutgoingEmail) -> None:
    OutgoingEmail.objects.filter(pk=email.pk).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
    )


@pytest.fixture
def worker_mode(settings):
    # Queueing stores the email only; the tests deliver it themselves.
    settings.CREDSHARE_EMAIL_DELIVERY = "worker"


def test_failed_attempts_wait_1_2_4_minutes_up_to_an_hour_then_the_email_fails(
    settings, worker_mode
):
    settings.EMAIL_BACKEND = FAILING_BACKEND
    settings.CREDSHARE_EMAIL_MAX_ATTEMPTS = 9
    email = queue()

    for attempt, minutes in enumerate([1, 2, 4, 8, 16, 32, 60, 60], start=1):
        before = timezone.now()
        assert email_deliver(email_id=email.pk) is False
        after = timezone.now()
        email.refresh_from_db()
        assert email.status == OutgoingEmail.Status.PENDING
        assert email.attempts == attempt
        delay = datetime.timedelta(minutes=minutes)
        assert before + delay <= email.next_attempt_at <= after + delay
        assert email_deliver(email_id=email.pk) is False  # not due: no attempt
        assert email.attempts == attempt
        make_due(email)

    assert email_deliver(email_id=email.pk) is False
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.FAILED
    assert email.attempts == 9
    assert email.sent_at is None

    make_due(email)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert email_deliver(email_id=email.pk) is False  # a failed email is never attempted again
    assert email_deliver_due() == 0


def test_the_last_error_and_the_log_never_hold_the_smtp_password(settings, worker_mode, caplog):
    settings.EMAIL_BACKEND = FAILING_BACKEND
    settings.EMAIL_HOST_PASSWORD = PASSWORD
    email = queue()

    with caplog.at_level(logging.WARNING):
        assert email_deliver(email_id=email.pk) is False

    email.refresh_from_db()
    assert email.last_error.startswith("SMTPAuthenticationError: (535, ")
    assert "***" in email.last_error
    assert PASSWORD not in email.last_error
    assert len(email.last_error) <= 200
    assert caplog.records
    assert PASSWORD not in caplog.text


def test_delivery_never_raises(settings, worker_mode, monkeypatch):
    assert email_deliver(email_id=123456) is False  # no such email

    email = queue()

    def broken_database(*args, **kwargs):
        raise DatabaseError("the database went away")

    monkeypatch.setattr(services, "_claim", broken_database)
    assert email_deliver(email_id=email.pk) is False
    monkeypatch.undo()

    settings.EMAIL_BACKEND = f"{__name__}.SilentBackend"
    assert email_deliver(email_id=email.pk) is False
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.PENDING
    assert email.last_error == "RuntimeError: the email backend sent nothing"


def test_delivering_the_same_email_twice_sends_it_once(
    smtp_server,
    worker_mode,
):
    email = queue()

    assert email_deliver(email_id=email.pk) is True
    assert email_deliver(email_id=email.pk) is False
    make_due(email)
    assert email_deliver(email_id=email.pk) is False

    assert len(smtp_server.wait_for(1)) == 1


def test_an_email_sent_again_after_a_crash_keeps_its_message_id(smtp_server, worker_mode):
    # A worker killed after the SMTP server accepted the message, before the outcome was
    # saved: the row is still pending under its claim, and is sent again once the claim runs
    # out. The retry is the same message (one Message-ID) that receivers can drop.
    first, other = queue("First"), queue("Other")
    assert email_deliver(email_id=first.pk) is True
    OutgoingEmail.objects.filter(pk=first.pk).update(status=OutgoingEmail.Status.PENDING)
    make_due(first)
    assert email_deliver(email_id=first.pk) is True
    assert email_deliver(email_id=other.pk) is True

    original, again, different = smtp_server.wait_for(3)
    assert original["Message-ID"] == again["Message-ID"]
    assert original["Message-ID"] != different["Message-ID"]
    assert original["Message-ID"].startswith(f"<outbox.{first.pk}.")
    assert original["Message-ID"].endswith("@credshare.localhost>")


def test_deliver_emails_sends_only_the_due_emails(
    smtp_server,
    worker_mode,
):
    due = [queue(f"due {n}") for n in range(3)]
    later = queue("later")
    OutgoingEmail.objects.filter(pk=later.pk).update(
        next_attempt_at=timezone.now() + datetime.timedelta(minutes=5)
    )
    out = io.StringIO()

    call_command("deliver_emails", stdout=out)

    assert out.getvalue() == "3 email(s) sent\n"
    messages = smtp_server.wait_for(3)
    assert sorted(m["Subject"] for m in messages) == ["Help: due 0", "Help: due 1", "Help: due 2"]
    statuses = dict(OutgoingEmail.objects.values_list("pk", "status"))
    assert [statuses[e.pk] for e in due] == [OutgoingEmail.Status.SENT] * 3
    assert statuses[later.pk] == OutgoingEmail.Status.PENDING


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_worker_loop_delivers_then_stops_cleanly_on_a_signal(
    smtp_server,
    worker_mode,
    stop_signal,
):
    email = queue()
    handlers_before = signal.getsignal(stop_signal)

    def stop_once_delivered():
        try:
            smtp_server.wait_for(1)
        finally:
            os.kill(os.getpid(), stop_signal)

    stopper = threading.Thread(target=stop_once_delivered)
    stopper.start()
    call_command("deliver_emails", "--loop", "--interval", "0.01", stdout=io.StringIO())
    stopper.join()

    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.SENT
    assert len(smtp_server.messages) == 1
    assert signal.getsignal(stop_signal) == handlers_before


def test_the_worker_stops_between_two_emails_when_asked(
    smtp_server,
    worker_mode,
):
    for n in range(3):
        queue(f"email {n}")

    def stop_after_one() -> bool:
        return len(smtp_server.messages) >= 1

    assert email_deliver_due(should_stop=stop_after_one) == 1
    assert OutgoingEmail.objects.filter(status=OutgoingEmail.Status.PENDING).count() == 2


def postgres_only(test):
    for mark in [
        pytest.mark.postgres,
        pytest.mark.skipif(
            connection.vendor != "postgresql", reason="needs PostgreSQL for real concurrency"
        ),
        pytest.mark.django_db(transaction=True),
    ]:
        test = mark(test)
    return test


def run_at_once(count: int, work) -> list:
    """Run work() in `count` threads started at the same moment; their results, or the
    exceptions they raised."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(index):
        try:
            barrier.wait(timeout=30)
            results[index] = work()
        except Exception as error:  # reported by the test, never swallowed
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@postgres_only
def test_ten_simultaneous_deliveries_of_one_email_send_it_once(
    smtp_server,
    worker_mode,
):
    email = queue()

    results = run_at_once(10, lambda: email_deliver(email_id=email.pk))

    assert sorted(results, key=str) == [False] * 9 + [True]
    assert len(smtp_server.wait_for(1)) == 1
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.SENT
    assert email.attempts == 1


@postgres_only
def test_four_workers_at_once_send_each_email_once(
    smtp_server,
    worker_mode,
):
    for n in range(20):
        queue(f"email {n}")

    results = run_at_once(4, email_deliver_due)

    assert sum(results) == 20, results
    subjects = sorted(m["Subject"] for m in smtp_server.wait_for(20))
    assert subjects == sorted(f"Help: email {n}" for n in range(20))
    assert not OutgoingEmail.objects.exclude(status=OutgoingEmail.Status.SENT).exists()
