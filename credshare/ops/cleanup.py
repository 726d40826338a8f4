"""Periodic clean-ups: rows that only mattered for a while. The scheduler runs them hourly
(Celery beat's "clean-up" entry, or `deliver_webhooks --loop` without Celery), and
`manage.py clean_up` once. Each is safe to run any number of times, from any process."""

import datetime

from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from credshare.accounts.throttle import sign_in_throttles_purge
from credshare.api.services import idempotency_records_purge
from credshare.core.submissions import form_submissions_purge


def expired_sessions_purge() -> int:
    """Delete the database's expired sessions (a signed-out browser never comes back to end
    its own); how many went. Cached sessions expire in the cache by themselves."""
    if settings.SESSION_ENGINE not in {
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cached_db",
    }:
        return 0
    deleted, _by_model = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


def clean_up() -> dict[str, int]:
    """Run every clean-up; how many rows each deleted, by name."""
    return {
        "idempotency_records": idempotency_records_purge(),
        "sign_in_throttles": sign_in_throttles_purge(),
        "sessions": expired_sessions_purge(),
        "form_submissions": form_submissions_purge(
            older_than=timezone.now() - datetime.timedelta(days=1)
        ),
    }
