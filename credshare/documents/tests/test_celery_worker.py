"""A bulk job on a real Celery worker through the Redis on this machine: the worker is killed
(SIGKILL, the whole process group) mid-job, a new one is started, and the job ends with every
row issued once: no duplicate and no loss. PostgreSQL only (celery_workers.py says why)."""

import time

from credshare.core import testing_processes
from credshare.documents.models import Document, IssuanceJob, IssuanceRow
from credshare.documents.tests import celery_workers
from credshare.documents.tests.celery_workers import VISIBILITY_TIMEOUT, issued_rows

ROWS = 120
KILL_AFTER = 30

pytestmark = celery_workers.MARKS


def test_a_worker_killed_mid_job_and_restarted_issues_every_row_once(tmp_path, university):
    broker = celery_workers.broker_url()
    celery_workers.require_broker(broker)
    job = celery_workers.transcript_job(university, ROWS, prefix="CEL", directory=tmp_path)
    queue = celery_workers.new_queue()
    log = tmp_path / "worker.log"
    workers = []

    def wait_for(condition, what):
        return testing_processes.wait_for(condition, what=what, logs=[log], processes=workers[-1:])

    try:
        started = time.monotonic()
        workers.append(celery_workers.start_worker(broker, queue, log, name=queue, concurrency=2))
        celery_workers.start_job(broker, queue, job)

        # Partway through, kill the worker: the main process and its pool, with no warning.
        wait_for(lambda: issued_rows(job) >= KILL_AFTER, f"{KILL_AFTER} rows")
        testing_processes.kill(workers[0])
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
        workers.append(celery_workers.start_worker(broker, queue, log, name=queue, concurrency=2))
        wait_for(lambda: celery_workers.job_done(job), "the job to be done after the restart")
        elapsed = time.monotonic() - started
    finally:
        for worker in workers:
            testing_processes.kill(worker)
        celery_workers.forget_queue(broker, queue)

    rows = IssuanceRow.objects.filter(job=job)
    assert rows.count() == ROWS
    assert rows.filter(status=IssuanceRow.Status.ISSUED).count() == ROWS
    documents = Document.objects.filter(issuer=university)
    assert documents.count() == ROWS
    assert set(documents.values_list("external_id", flat=True)) == {
        celery_workers.external_id("CEL", number) for number in range(1, ROWS + 1)
    }
    assert len(set(rows.values_list("document_id", flat=True))) == ROWS
    assert all(document.versions.count() == 1 for document in documents)
    print(
        f"killed after {issued_when_killed} issued, {pending_when_killed} pending; "
        f"{ROWS} issued in {elapsed:.1f} s"
    )
