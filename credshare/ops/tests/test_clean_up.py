"""The scheduler's hourly clean-ups delete what only mattered for a while, and nothing else."""

import datetime
import io

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone

from credshare.accounts.models import SignInThrottle
from credshare.api.models import ApiKey, IdempotencyRecord
from credshare.api.services import api_key_create
from credshare.celery import app
from credshare.ops import tasks


def _session(expire_date: datetime.datetime) -> str:
    store = SessionStore()
    store["seen"] = True
    store.create()
    Session.objects.filter(session_key=store.session_key).update(expire_date=expire_date)
    return store.session_key


def test_clean_up_deletes_only_what_is_over(db, ecole, camille):
    now = timezone.now()
    key = api_key_create(
        organization=ecole, name="ERP", scopes=list(ApiKey.RECEIVING_SCOPES), by=camille
    )[0]
    old_record = IdempotencyRecord.objects.create(api_key=key, key="old", request_hash="x")
    IdempotencyRecord.objects.filter(pk=old_record.pk).update(
        created=now - datetime.timedelta(days=2)
    )
    fresh_record = IdempotencyRecord.objects.create(api_key=key, key="new", request_hash="y")
    # Sign-in throttles: forgotten after a day without attempts, unless still making one wait.
    day = datetime.timedelta(days=1, minutes=1)
    SignInThrottle.objects.create(key="done", last_attempt_at=now - day, failures=3)
    SignInThrottle.objects.create(key="counting", last_attempt_at=now, failures=3)
    SignInThrottle.objects.create(
        key="waiting",
        last_attempt_at=now - day,
        failures=30,
        next_attempt_at=now + datetime.timedelta(minutes=5),
    )
    expired_session = _session(now - datetime.timedelta(minutes=1))
    live_session = _session(now + datetime.timedelta(days=1))

    out = io.StringIO()
    call_command("clean_up", stdout=out)

    assert "idempotency_records: 1 deleted" in out.getvalue()
    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [fresh_record.pk]
    assert set(SignInThrottle.objects.values_list("key", flat=True)) == {"counting", "waiting"}
    assert set(Session.objects.values_list("session_key", flat=True)) == {live_session}
    assert expired_session != live_session

    # Run again: nothing more to do.
    out = io.StringIO()
    call_command("clean_up", stdout=out)
    assert out.getvalue().count(": 0 deleted") == 4


def test_celery_beat_runs_the_clean_up_hourly(db):
    entry = settings.CELERY_BEAT_SCHEDULE["clean-up"]
    assert entry["schedule"] == 3600.0
    assert entry["task"] in app.tasks  # registered under the name beat sends
    assert tasks.clean_up_task.apply().get() == {
        "idempotency_records": 0,
        "sign_in_throttles": 0,
        "sessions": 0,
        "form_submissions": 0,
    }
