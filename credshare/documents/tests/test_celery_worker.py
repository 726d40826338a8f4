"""A bulk job on real Celery workers through the Redis on this machine: the worker is killed
(SIGKILL, the whole process group) mid-job, a new one is started, and the job ends with every
row issued once: no duplicate and no loss.

The workers are separate processes, so they must see the test's database: this runs on
PostgreSQL only (SQLite's in-memory test database is private to this process)."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from credshare.core import testing
from credshare.documents import bulk
from credshare.documents.models import Document, IssuanceJob, IssuanceRow
from credshare.documents.tasks import run_issuance_job

ROWS = 120
KILL_AFTER = 30
# Seconds before Redis hands the killed worker's unacknowledged tasks to the next worker.
VISIBILITY_TIMEOUT = 3
TIMEOUT = 45

pytestmark = [
    pytest.mark.celery,
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: the Celery workers are other processes, which cannot see "
        "SQLite's in-memory test database",
    ),
    pytest.mark.django_db(transaction=True),
]


def require_redis(url: str) -> None:
    """Skip unless Redis answers at URL; under CI (REQUIRE_ALL_ENV set) fail instead."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as error:
        message = (
            f"needs Redis at {url} ({error}; Debian package redis-server: "
            "apt-get install -y redis-server)"
        )
        if os.environ.get(testing.REQUIRE_ALL_ENV):
            pytest.fail(message)
        pytest.skip(message)


def database_url() -> str:
    """DATABASE_URL of the test database this test runs in, for the worker processes."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"


def start_worker(queue: str, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "credshare.settings",
        "DATABASE_URL": database_url(),
        "CREDSHARE_KEY_DIR": str(settings.CREDSHARE_KEY_DIR),
        "CREDSHARE_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "CREDSHARE_CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CREDSHARE_CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "CREDSHARE_TASKS": "celery",
    }
    command = [
        str(Path(sys.executable).with_name("celery")),
        "-A",
        "credshare",
        "worker",
        "--concurrency",
        "2",
        "--pool",
        "prefork",
        "-Q",
        queue,
        "-n",
        f"{queue}@%h",
        "--without-mingle",
        "--without-gossip",
        "--without-heartbeat",
        "-l",
        "warning",
    ]
    with open(log, "ab") as output:
        # Its own process group, so that the test kills the main process and its pool at once.
        return subprocess.Popen(  # noqa: S603 -- our own command line
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def kill(worker: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


def wait_for(condition, *, what: str, log: Path, timeout: float = TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}; worker log:\n{log.read_text()[-4000:]}")


def forget_queue(url: str, queue: str) -> None:
    """Remove QUEUE's keys from Redis, and its tasks among the unacknowledged ones."""
    import redis

    client = redis.Redis.from_url(url)
    client.delete(queue, f"_kombu.binding.{queue}")
    for tag, payload in client.hgetall("unacked").items():
        try:
            _message, _exchange, routing_key = json.loads(payload)
        except (ValueError, TypeError):
            continue
        if routing_key == queue:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


def issued_rows(job) -> int:
    return IssuanceRow.objects.filter(job=job, status=IssuanceRow.Status.ISSUED).count()


def test_a_worker_killed_mid_job_and_restarted_issues_every_row_once(tmp_path, university):
    require_redis(settings.CELERY_BROKER_URL)
    learner = testing.make_user("celery-learner@example.org", "Celery Learner")
    lines = [
        json.dumps(
            {
                "external_id": f"CEL-{number:04}",
                "student_number": f"S{number:05}",
                "email": learner.email,
                "document_type": "transcript",
                "title": f"Official transcript {number}",
                "issue_date": "2026-06-01",
                "program": "Testing",
                "courses": [["TST100", "Testing", "3", "A"], ["TST200", "More testing", "3", "B"]],
            }
        )
        for number in range(1, ROWS + 1)
    ]
    rows_file = tmp_path / "rows.jsonl"
    rows_file.write_text("\n".join(lines) + "\n")
    with rows_file.open("rb") as upload:
        job = bulk.issuance_job_create(issuer=university, created_by=None, rows_file=upload)
    assert job.total == ROWS

    queue = f"test-celery-{uuid.uuid4().hex}"
    log = tmp_path / "worker.log"
    workers = []
    try:
        started = time.monotonic()
        workers.append(start_worker(queue, log))
        run_issuance_job.apply_async(args=[job.id], queue=queue)

        # Partway through, kill the worker: the main process and its pool, with no warning.
        wait_for(lambda: issued_rows(job) >= KILL_AFTER, what=f"{KILL_AFTER} rows", log=log)
        kill(workers[0])
        killed = time.monotonic()
        issued_when_killed = issued_rows(job)
        pending_when_killed = IssuanceRow.objects.filter(
            job=job, status=IssuanceRow.Status.PENDING
        ).count()
        assert KILL_AFTER <= issued_when_killed < ROWS
        assert pending_when_killed > 0, "the job finished before the worker was killed"
        # Each row is issued in one transaction with its document: nothing half-done.
        assert Document.objects.filter(issuer=university).count() == issued_when_killed
        job.refresh_from_db()
        assert job.status == IssuanceJob.Status.RUNNING

        # A new worker, once the killed one's tasks are past their visibility timeout, is
        # handed them again and finishes the job.
        time.sleep(max(0.0, VISIBILITY_TIMEOUT + 0.5 - (time.monotonic() - killed)))
        workers.append(start_worker(queue, log))

        def job_done():
            job.refresh_from_db()
            return job.status == IssuanceJob.Status.DONE

        wait_for(job_done, what="the job to be done after the restart", log=log)
        elapsed = time.monotonic() - started
    finally:
        for worker in workers:
            kill(worker)
        forget_queue(settings.CELERY_BROKER_URL, queue)

    rows = IssuanceRow.objects.filter(job=job)
    assert rows.count() == ROWS
    assert rows.filter(status=IssuanceRow.Status.ISSUED).count() == ROWS
    documents = Document.objects.filter(issuer=university)
    assert documents.count() == ROWS
    assert set(documents.values_list("external_id", flat=True)) == {
        f"CEL-{number:04}" for number in range(1, ROWS + 1)
    }
    assert len(set(rows.values_list("document_id", flat=True))) == ROWS
    assert all(document.versions.count() == 1 for document in documents)
    print(
        f"killed after {issued_when_killed} issued, {pending_when_killed} pending; "
        f"{ROWS} issued in {elapsed:.1f} s"
    )
