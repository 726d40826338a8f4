"""Bulk issuance through Celery, in this process: issuance_job_start sends the task when
CREDSHARE_TASKS is "celery" and starts a thread by default; the tasks, run eagerly, fan a job
out into chunks that together issue every row once and finish the job."""

import datetime
import io
import json
import threading

import pytest

from credshare.celery import app
from credshare.documents import bulk, tasks
from credshare.documents.models import Document, IssuanceJob, IssuanceRow

pytestmark = pytest.mark.django_db


def jsonl_rows(count: int, *, email: str, prefix: str = "T") -> io.BytesIO:
    lines = [
        json.dumps(
            {
                "external_id": f"{prefix}-{number:04}",
                "email": email,
                "document_type": "transcript",
                "title": f"Transcript {number}",
                "issue_date": "2026-06-01",
                "program": "Testing",
                "courses": [["TST100", "Testing", "3", "A"]],
            }
        )
        for number in range(1, count + 1)
    ]
    rows = io.BytesIO(("\n".join(lines) + "\n").encode())
    rows.name = "rows.jsonl"
    return rows


@pytest.fixture
def eager():
    """Celery runs the tasks it is sent at once, in this process (no broker)."""
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


@pytest.fixture
def job(university, zoe):
    return bulk.issuance_job_create(
        issuer=university, created_by=None, rows_file=jsonl_rows(12, email=zoe.email)
    )


def test_start_sends_the_celery_task_when_tasks_run_on_celery(settings, monkeypatch, job):
    settings.CREDSHARE_TASKS = "celery"
    sent = []
    monkeypatch.setattr(tasks.run_issuance_job, "delay", lambda *args: sent.append(args))

    bulk.issuance_job_start(job=job)

    assert sent == [(job.id,)]
    assert IssuanceRow.objects.filter(job=job, status=IssuanceRow.Status.PENDING).count() == 12


def test_start_runs_the_job_in_a_thread_by_default(settings, monkeypatch, job):
    assert settings.CREDSHARE_TASKS == "inline"
    ran = threading.Event()
    threads = []

    def process(*, job_id):
        threads.append((job_id, threading.current_thread()))
        ran.set()

    monkeypatch.setattr(bulk, "issuance_job_process", process)
    monkeypatch.setattr(
        tasks.run_issuance_job, "delay", lambda *args: pytest.fail("sent to Celery")
    )

    bulk.issuance_job_start(job=job)

    assert ran.wait(10)
    [(job_id, thread)] = threads
    assert job_id == job.id
    assert thread is not threading.main_thread()


def test_the_tasks_share_a_job_out_in_chunks_and_finish_it(
    eager, monkeypatch, university, zoe, job
):
    monkeypatch.setattr(tasks, "CHUNK_ROWS", 5)
    chunks = []
    process = bulk.issuance_job_process

    def counting_process(**kwargs):
        processed = process(**kwargs)
        chunks.append(processed)
        return processed

    monkeypatch.setattr(bulk, "issuance_job_process", counting_process)

    tasks.run_issuance_job.delay(job.id)

    # Three chunk tasks were sent (12 rows, 5 a chunk); the first sent itself again while
    # rows remained (5, 5, 2), the two others found nothing left.
    assert sorted(chunks, reverse=True) == [5, 5, 2, 0, 0]
    job.refresh_from_db()
    assert job.status == IssuanceJob.Status.DONE
    assert IssuanceRow.objects.filter(job=job, status=IssuanceRow.Status.ISSUED).count() == 12
    assert Document.objects.filter(issuer=university).count() == 12

    # Running it again issues nothing twice.
    again = bulk.issuance_job_create(
        issuer=university, created_by=None, rows_file=jsonl_rows(12, email=zoe.email)
    )
    tasks.run_issuance_job.delay(again.id)
    again.refresh_from_db()
    assert again.status == IssuanceJob.Status.DONE
    assert Document.objects.filter(issuer=university).count() == 12


def test_a_chunk_of_a_deleted_job_does_nothing(eager):
    assert tasks.process_issuance_chunk.delay(987654).get() == 0


def test_a_job_whose_first_task_was_lost_is_started_again_by_the_scheduler(
    settings, monkeypatch, job
):
    # The process that queued JOB died between the commit and sending its task: it stays
    # queued with every row pending. The scheduler starts it once it is STALLED_AFTER old.
    settings.CREDSHARE_TASKS = "celery"
    sent = []
    monkeypatch.setattr(tasks.run_issuance_job, "delay", lambda *args: sent.append(args))
    started = IssuanceJob.objects.create(
        issuer=job.issuer, source=job.source, status=IssuanceJob.Status.RUNNING
    )
    made = job.created

    assert bulk.issuance_jobs_restart_stalled(now=made + bulk.STALLED_AFTER / 2) == []
    assert sent == []
    later = made + bulk.STALLED_AFTER + datetime.timedelta(seconds=1)
    assert bulk.issuance_jobs_restart_stalled(now=later) == [job.id]
    assert sent == [(job.id,)]
    assert started.id not in bulk.issuance_jobs_restart_stalled(now=later)


def test_the_beat_task_starts_the_stalled_jobs(eager, settings, university, zoe, job):
    settings.CREDSHARE_TASKS = "celery"
    IssuanceJob.objects.filter(pk=job.pk).update(
        created=job.created - bulk.STALLED_AFTER - datetime.timedelta(seconds=1)
    )
    entry = settings.CELERY_BEAT_SCHEDULE["bulk-start-stalled-jobs"]
    assert entry["task"] == tasks.start_stalled_issuance_jobs.name
    assert entry["schedule"] <= bulk.STALLED_AFTER.total_seconds()

    assert tasks.start_stalled_issuance_jobs() == 1

    job.refresh_from_db()
    assert job.status == IssuanceJob.Status.DONE
    assert IssuanceRow.objects.filter(job=job, status=IssuanceRow.Status.ISSUED).count() == 12
    assert Document.objects.filter(issuer=university).count() == 12


def test_a_job_already_started_gets_no_more_chunk_tasks(monkeypatch, job):
    # The scheduler's start sent again for a job that was only waiting in a busy queue: once
    # a chunk has started it, the chunks it sent carry on, and no more are sent.
    sent = []
    monkeypatch.setattr(
        tasks.process_issuance_chunk, "apply_async", lambda **kwargs: sent.append(kwargs)
    )
    for status in (IssuanceJob.Status.RUNNING, IssuanceJob.Status.DONE):
        IssuanceJob.objects.filter(pk=job.pk).update(status=status)
        tasks.run_issuance_job.apply(args=[job.id])
    assert sent == []
    IssuanceJob.objects.filter(pk=job.pk).update(status=IssuanceJob.Status.QUEUED)
    tasks.run_issuance_job.apply(args=[job.id])
    assert len(sent) == 1
