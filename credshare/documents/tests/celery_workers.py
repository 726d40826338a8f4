"""What the tests that run real Celery workers share (test_celery_worker.py: one worker killed
and restarted; test_celery_two_workers.py: two workers, one killed): the markers, a bulk job
of structured transcripts, starting a worker on a queue of the test's own, and cleaning that
queue out of Redis.

The workers are separate processes, so they must see the test's database: these tests run on
PostgreSQL only (SQLite's in-memory test database is private to the test process)."""

import json
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

from credshare.core import testing, testing_processes
from credshare.documents import bulk
from credshare.documents.models import IssuanceJob, IssuanceRow

# Seconds before Redis may hand a dead worker's unacknowledged tasks to another worker.
VISIBILITY_TIMEOUT = 3

MARKS = [
    pytest.mark.celery,
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: the Celery workers are other processes, which cannot see "
        "SQLite's in-memory test database",
    ),
    pytest.mark.django_db(transaction=True),
]


def broker_url(database: int | None = None) -> str:
    """The broker of the settings, or the same Redis with DATABASE, for a test of its own:
    unacknowledged tasks are kept per Redis database, and a worker that starts hands back
    every one past its visibility timeout, whichever test's queue it came from."""
    if database is None:
        return settings.CELERY_BROKER_URL
    return urlunsplit(urlsplit(settings.CELERY_BROKER_URL)._replace(path=f"/{database}"))


def require_broker(broker: str) -> None:
    """Skip unless the broker (Redis) answers; under CI, fail instead."""
    testing_processes.require_redis(broker)


def new_queue() -> str:
    """A queue name of this test's own: workers of other tests (or runs) never take its tasks."""
    return f"test-celery-{uuid.uuid4().hex}"


def transcript_job(issuer, rows: int, *, prefix: str, directory: Path) -> IssuanceJob:
    """A queued bulk job of ROWS structured transcripts (JSON Lines), external ids
    PREFIX-0001 and on, all for one new learner."""
    learner = testing.make_user(f"{prefix.lower()}-learner@example.org", f"{prefix} Learner")
    lines = [
        json.dumps(
            {
                "external_id": external_id(prefix, number),
                "student_number": f"S{number:05}",
                "email": learner.email,
                "document_type": "transcript",
                "title": f"Official transcript {number}",
                "issue_date": "2026-06-01",
                "program": "Testing",
                "courses": [["TST100", "Testing", "3", "A"], ["TST200", "More testing", "3", "B"]],
            }
        )
        for number in range(1, rows + 1)
    ]
    rows_file = directory / f"{prefix.lower()}-rows.jsonl"
    rows_file.write_text("\n".join(lines) + "\n")
    with rows_file.open("rb") as upload:
        job = bulk.issuance_job_create(issuer=issuer, created_by=None, rows_file=upload)
    assert job.total == rows
    return job


def external_id(prefix: str, number: int) -> str:
    return f"{prefix}-{number:04}"


def start_worker(
    broker: str, queue: str, log: Path, *, name: str, concurrency: int, loglevel="warning"
):
    """`celery -A credshare worker` on BROKER's QUEUE, as NAME, with the test's database, key
    store and media, and a short visibility timeout."""
    env = {
        **testing_processes.environment_without_ours(),
        "DJANGO_SETTINGS_MODULE": "credshare.settings",
        "DATABASE_URL": testing_processes.database_url(connection.settings_dict),
        "CREDSHARE_KEY_DIR": str(settings.CREDSHARE_KEY_DIR),
        "CREDSHARE_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "CREDSHARE_CELERY_BROKER_URL": broker,
        "CREDSHARE_CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "CREDSHARE_TASKS": "celery",
    }
    command = [
        str(Path(sys.executable).with_name("celery")),
        "-A",
        "credshare",
        "worker",
        "--concurrency",
        str(concurrency),
        "--pool",
        "prefork",
        "-Q",
        queue,
        "-n",
        f"{name}@%h",
        "--without-mingle",
        "--without-gossip",
        "--without-heartbeat",
        "-l",
        loglevel,
    ]
    return testing_processes.start(command, env=env, log=log, cwd=settings.BASE_DIR)


def start_job(broker: str, queue: str, job: IssuanceJob) -> None:
    """Send JOB's first task to BROKER's QUEUE, as bulk.issuance_job_start does in production."""
    from credshare.celery import app
    from credshare.documents.tasks import run_issuance_job

    with app.connection_for_write(broker) as connection:
        run_issuance_job.apply_async(args=[job.id], queue=queue, connection=connection)


def unacknowledged(broker: str, queue: str) -> dict[str, dict]:
    """QUEUE's messages delivered to a worker and not acknowledged yet, by delivery tag:
    kombu's Redis transport keeps them in the `unacked` hash until the worker acknowledges
    them, or restores them to the queue once they are older than the visibility timeout."""
    import redis

    client = redis.Redis.from_url(broker)
    messages = {}
    for tag, payload in client.hgetall("unacked").items():
        try:
            message, _exchange, routing_key = json.loads(payload)
        except (ValueError, TypeError):
            continue
        if routing_key == queue:
            messages[tag.decode()] = message
    return messages


def forget_queue(broker: str, queue: str) -> None:
    """Remove QUEUE's keys from BROKER, and its tasks among the unacknowledged ones."""
    import redis

    client = redis.Redis.from_url(broker)
    client.delete(queue, f"_kombu.binding.{queue}")
    for tag in unacknowledged(broker, queue):
        client.hdel("unacked", tag)
        client.zrem("unacked_index", tag)


def issued_rows(job: IssuanceJob) -> int:
    return IssuanceRow.objects.filter(job=job, status=IssuanceRow.Status.ISSUED).count()


def job_done(job: IssuanceJob) -> bool:
    job.refresh_from_db()
    return job.status == IssuanceJob.Status.DONE
