"""The outbox: queue an email in the caller's transaction, deliver it later with retries.

Delivery is at least once and, short of a crash between the SMTP server accepting a message
and the outcome being saved, exactly once: an attempt first claims the row under a row lock
(attempts + 1, next attempt pushed past the longest possible conversation), commits, then talks
to SMTP with no transaction open, then saves the outcome. No lock or transaction is held during
the network conversation, so an SMTP outage never blocks other writers, and a worker killed
mid-send leaves the email to be retried once its claim runs out.
"""

import datetime
import logging
from collections.abc import Callable
from email.utils import parseaddr
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.db import connection, transaction
from django.template import Context, TemplateDoesNotExist
from django.template.backends.django import Template as DjangoTemplate
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.text import Truncator

from credshare.notifications.models import OutgoingEmail
from credshare.notifications.selectors import email_ids_due

logger = logging.getLogger(__name__)

FIRST_RETRY = datetime.timedelta(minutes=1)
LONGEST_RETRY = datetime.timedelta(hours=1)
# An attempt's claim: far longer than one SMTP conversation can last (EMAIL_TIMEOUT bounds
# each of its few steps), so no other worker sends the same email meanwhile.
CLAIM = datetime.timedelta(minutes=15)


def email_queue(*, to: str, template: str, context: dict, language: str) -> OutgoingEmail:
    """Render an email in `language` and store it in the outbox, in the caller's transaction;
    once that transaction commits, delivery is attempted (CREDSHARE_EMAIL_DELIVERY "inline")
    or left to the worker ("worker"). If it rolls back, the email never existed.

    Renders `<template>_subject.txt`, `<template>.txt` and, when it exists, `<template>.html`
    now, so the email says what was true when it was queued. The .txt templates are rendered
    without HTML escaping. Raises ValidationError for a malformed address, LookupError for a
    language that is not in LANGUAGES, TemplateDoesNotExist for a missing subject or text."""
    validate_email(to)
    language = translation.get_supported_language_variant(language)
    with translation.override(language):
        # A header holds one line; the subject template's trailing newline is not part of it.
        subject_template = get_template(f"{template}_subject.txt")
        subject = " ".join(_render(subject_template, context, plain=True).split())
        text_body = _render(get_template(f"{template}.txt"), context, plain=True)
        try:
            html_template = get_template(f"{template}.html")
        except TemplateDoesNotExist:
            html_body = ""
        else:
            html_body = _render(html_template, context, plain=False)

    with transaction.atomic():
        email = OutgoingEmail.objects.create(
            to=to,
            subject=Truncator(subject).chars(OutgoingEmail._meta.get_field("subject").max_length),
            text_body=text_body,
            html_body=html_body,
            language=language,
        )
        transaction.on_commit(partial(_deliver_after_commit, email_id=email.pk))
    return email


def email_deliver(*, email_id: int) -> bool:
    """Attempt to send one pending email that is due. True when this call sent it (and
    recorded so); False when it was not due, already sent or failed, claimed by another
    worker, or the attempt failed (the email then waits 1, 2, 4 ... minutes, at most an hour,
    and is marked failed after CREDSHARE_EMAIL_MAX_ATTEMPTS attempts). Never raises: failures
    are logged and kept in `last_error`."""
    try:
        email = _claim(email_id)
    except Exception:
        logger.exception("Could not claim email %s for delivery", email_id)
        return False
    if email is None:
        return False
    try:
        _send(email)
    except Exception as error:
        description = _describe(error)
        logger.warning("Email %s: attempt %s failed: %s", email.pk, email.attempts, description)
        _save_outcome(email, error=description)
        return False
    return _save_outcome(email, error=None)


def email_deliver_due(*, should_stop: Callable[[], bool] = lambda: False) -> int:
    """Attempt every pending email that is due now, once each; returns how many were sent.
    Stops between two emails when `should_stop()` says so (a worker asked to end)."""
    started = timezone.now()
    sent = 0
    last_id = 0
    while not should_stop():
        ids = email_ids_due(now=started, after_id=last_id)
        if not ids:
            break
        for email_id in ids:
            if should_stop():
                break
            sent += email_deliver(email_id=email_id)
            last_id = email_id
    return sent


def _deliver_after_commit(*, email_id: int) -> None:
    # In "worker" mode the request goes on at once; `deliver_emails --loop` sends.
    if settings.CREDSHARE_EMAIL_DELIVERY == "inline":
        email_deliver(email_id=email_id)


def _render(template: Any, context: dict, *, plain: bool) -> str:
    if plain and isinstance(template, DjangoTemplate):
        # Plain text is not HTML: "R&D" must reach the reader as "R&D", not "R&amp;D".
        return template.template.render(Context(context, autoescape=False))
    return template.render(context)


def _claim(email_id: int) -> OutgoingEmail | None:
    now = timezone.now()
    with transaction.atomic():
        # SQLite has no row locks; its transactions start IMMEDIATE (see settings), so two
        # claims run one after the other and the second finds the email no longer due.
        email = (
            OutgoingEmail.objects.select_for_update(
                skip_locked=connection.features.has_select_for_update_skip_locked
            )
            .filter(pk=email_id, status=OutgoingEmail.Status.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if email is None:
            return None
        email.attempts += 1
        email.next_attempt_at = now + CLAIM
        email.save(update_fields=["attempts", "next_attempt_at"])
    return email


def message_id(email: OutgoingEmail) -> str:
    """The Message-ID of an outbox email: the same on every attempt. Delivery is at least
    once (a worker killed after the SMTP server accepted the message, before the outcome was
    saved, sends it again once its claim runs out); with one Message-ID the retry is the same
    message, which mail servers and clients can recognize and drop, rather than a new one.
    The row's id and creation time (to the microsecond) keep it unique across databases."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "credshare.localhost"
    return f"<outbox.{email.pk}.{email.created:%Y%m%d%H%M%S%f}@{domain}>"


def _send(email: OutgoingEmail) -> None:
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.text_body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.to],
        headers={"Content-Language": email.language, "Message-ID": message_id(email)},
        connection=get_connection(fail_silently=False),
    )
    if email.html_body:
        message.attach_alternative(email.html_body, "text/html")
    if message.send() != 1:
        raise RuntimeError("the email backend sent nothing")


def _retry_delay(attempts: int) -> datetime.timedelta:
    # Capping the exponent keeps the timedelta small whatever the attempt count.
    return min(FIRST_RETRY * 2 ** min(attempts - 1, 16), LONGEST_RETRY)


def _describe(error: Exception) -> str:
    """A short, one-line account of a failure for the admin, never holding the password."""
    try:
        detail = str(error)
    except Exception:  # an exception whose message cannot be shown still names its type
        detail = ""
    text = " ".join(f"{type(error).__name__}: {detail}".split())
    if settings.EMAIL_HOST_PASSWORD:
        text = text.replace(settings.EMAIL_HOST_PASSWORD, "***")
    return Truncator(text).chars(OutgoingEmail._meta.get_field("last_error").max_length)


def _save_outcome(email: OutgoingEmail, *, error: str | None) -> bool:
    now = timezone.now()
    if error is None:
        # Bodies can hold secrets (a share's link, an access code): once the mail is out,
        # the outbox has no reason to keep them.
        changes = {
            "status": OutgoingEmail.Status.SENT,
            "sent_at": now,
            "text_body": "",
            "html_body": "",
        }
    else:
        gave_up = email.attempts >= settings.CREDSHARE_EMAIL_MAX_ATTEMPTS
        changes = {
            "status": OutgoingEmail.Status.FAILED if gave_up else OutgoingEmail.Status.PENDING,
            "next_attempt_at": now + _retry_delay(email.attempts),
            "last_error": error,
        }
    try:
        OutgoingEmail.objects.filter(pk=email.pk).update(**changes)
    except Exception:
        # The claim stays: the email is attempted again once it runs out.
        logger.exception(
            "Email %s: could not save the outcome of attempt %s", email.pk, email.attempts
        )
        return False
    for field, value in changes.items():
        setattr(email, field, value)
    return error is None
