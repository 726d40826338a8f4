"""One bulk job shared by two Celery worker processes (concurrency 1 each) through the Redis
on this machine, as two machines would run them. Worker A is killed (SIGKILL, its whole
process group) mid-chunk; worker B finishes the job alone, and once A's unacknowledged chunk
is past its visibility timeout B is handed it again and runs it. Every row is issued once:
no duplicate and no loss. PostgreSQL only (celery_workers.py says why).

Who did what comes from the workers' own logs (`-l info`): Celery logs every task it
receives and every task that succeeded with its return value, for a chunk the rows it
processed."""

import re
import time
from pathlib import Path

from kombu import Connection

from credshare.core import testing_processes
from credshare.documents.models import Document, IssuanceJob, IssuanceRow
from credshare.documents.tests import celery_workers
from credshare.documents.tests.celery_workers import VISIBILITY_TIMEOUT, issued_rows

# Enough for a whole chunk (tasks.CHUNK_ROWS, 50) on each worker, then a good part left.
ROWS = 150
# Rows issued in A's second chunk before A is killed.
KILL_AFTER = 5
# A Redis database of this test's own for the broker (celery_workers.broker_url says why).
BROKER_DATABASE = 12

pytestmark = celery_workers.MARKS

CHUNK = r"credshare\.documents\.tasks\.process_issuance_chunk\[(?P<id>[0-9a-f-]{36})\]"
RECEIVED = re.compile(rf"Task {CHUNK} received")
SUCCEEDED = re.compile(rf"Task {CHUNK} succeeded in [0-9.e-]+s: (?P<rows>\d+)")


def received(log: Path) -> list[str]:
    """The ids of the chunk tasks this worker was handed, in order (a task again each time
    it was delivered again)."""
    return [match["id"] for match in RECEIVED.finditer(read(log))]


def succeeded(log: Path) -> dict[str, int]:
    """The chunk tasks this worker ran to the end, and the rows each processed."""
    return {match["id"]: int(match["rows"]) for match in SUCCEEDED.finditer(read(log))}


def tasks_unacknowledged(broker: str, queue: str) -> set[str]:
    """The ids of QUEUE's tasks delivered to a worker and not acknowledged."""
    messages = celery_workers.unacknowledged(broker, queue).values()
    return {message["headers"]["id"] for message in messages}


def read(log: Path) -> str:
    return log.read_text(errors="replace") if log.exists() else ""


def sweep_unacknowledged(broker: str) -> None:
    """Hand the messages past their visibility timeout back to their queues, as every worker
    does itself when it starts and then about every 100 s (kombu's Redis transport sweeps on
    every tenth of its 10-second ticks): longer than a test should wait, so the test makes
    the same sweep now, with kombu's own code."""
    options = {"visibility_timeout": VISIBILITY_TIMEOUT}
    with Connection(broker, transport_options=options) as connection:
        connection.default_channel.qos.restore_visible(num=100)


def test_two_workers_share_a_job_and_one_killed_loses_and_duplicates_nothing(tmp_path, university):
    broker = celery_workers.broker_url(BROKER_DATABASE)
    celery_workers.require_broker(broker)
    job = celery_workers.transcript_job(university, ROWS, prefix="TWO", directory=tmp_path)
    queue = celery_workers.new_queue()
    log_a, log_b = tmp_path / "worker-a.log", tmp_path / "worker-b.log"
    logs = [log_a, log_b]
    alive = []

    def wait_for(condition, what, timeout=45):
        return testing_processes.wait_for(
            condition, what=what, logs=logs, processes=alive, timeout=timeout
        )

    worker_a = worker_b = None
    try:
        started = time.monotonic()
        worker_a = celery_workers.start_worker(
            broker, queue, log_a, name="a", concurrency=1, loglevel="info"
        )
        worker_b = celery_workers.start_worker(
            broker, queue, log_b, name="b", concurrency=1, loglevel="info"
        )
        alive[:] = [worker_a, worker_b]
        wait_for(lambda: all(" ready." in read(log) for log in logs), "both workers ready")
        celery_workers.start_job(broker, queue, job)

        # Both issue rows side by side: A finishes a chunk (its log says how many rows it
        # issued) and starts another; then A dies mid-chunk, with no warning.
        def a_mid_second_chunk():
            return received(log_b) and a_in_flight() and sum(succeeded(log_a).values())

        def a_in_flight():
            tasks = received(log_a)
            return tasks and tasks[-1] not in succeeded(log_a)

        wait_for(a_mid_second_chunk, "worker A to start a second chunk")
        issued_then = issued_rows(job)
        wait_for(lambda: issued_rows(job) >= issued_then + KILL_AFTER, f"{KILL_AFTER} more rows")
        assert a_in_flight()
        testing_processes.kill(worker_a)
        killed = time.monotonic()
        alive[:] = [worker_b]
        issued_when_killed = issued_rows(job)
        pending_when_killed = ROWS - issued_when_killed
        assert pending_when_killed > 0, "the job finished before worker A was killed"
        # Each row is issued in one transaction with its document: A left nothing half-done,
        # no document without its issued row (one query, one snapshot: B is still issuing).
        issued = IssuanceRow.objects.filter(job=job, status=IssuanceRow.Status.ISSUED)
        documents = Document.objects.filter(issuer=university)
        assert not documents.exclude(pk__in=issued.values("document_id")).exists()
        # With concurrency 1 and one task prefetched, a worker holds one task at a time.
        in_flight = received(log_a)[-1]
        # Not lost: Redis still holds A's chunk, delivered and not acknowledged.
        assert in_flight in tasks_unacknowledged(broker, queue)

        # B alone issues the rest: the rows A's chunk had left, and the one it was issuing
        # when it died (its transaction rolled back, so that row is still pending).
        wait_for(lambda: celery_workers.job_done(job), "worker B to finish the job")
        finished_at = job.finished_at
        # Still held for A: a task goes back to its queue only when a sweep finds it past its
        # visibility timeout (below).
        assert in_flight in tasks_unacknowledged(broker, queue)

        # Past its visibility timeout, A's chunk goes back to the queue and B runs it: there
        # is nothing left for it to issue, and the job stays finished once.
        time.sleep(max(0.0, VISIBILITY_TIMEOUT + 0.5 - (time.monotonic() - killed)))
        sweep_unacknowledged(broker)
        wait_for(lambda: in_flight in succeeded(log_b), "worker B to run A's chunk again")
        wait_for(lambda: not tasks_unacknowledged(broker, queue), "every task acknowledged")
        elapsed = time.monotonic() - started
    finally:
        for worker in (worker_a, worker_b):
            if worker is not None:
                testing_processes.kill(worker)
        celery_workers.forget_queue(broker, queue)

    assert succeeded(log_b)[in_flight] == 0
    job.refresh_from_db()
    assert job.status == IssuanceJob.Status.DONE
    assert job.finished_at == finished_at

    # Both workers issued rows, as each one's finished chunks say; no row twice.
    rows_a, rows_b = sum(succeeded(log_a).values()), sum(succeeded(log_b).values())
    assert rows_a > 0
    assert rows_b > 0
    assert rows_a + rows_b <= ROWS

    rows = IssuanceRow.objects.filter(job=job)
    assert rows.count() == ROWS
    assert rows.filter(status=IssuanceRow.Status.ISSUED).count() == ROWS
    documents = Document.objects.filter(issuer=university)
    assert sorted(documents.values_list("external_id", flat=True)) == [
        celery_workers.external_id("TWO", number) for number in range(1, ROWS + 1)
    ]
    assert len(set(rows.values_list("document_id", flat=True))) == ROWS
    assert all(document.versions.count() == 1 for document in documents)
    print(
        f"finished chunks: A {rows_a} rows, B {rows_b}; A killed after {issued_when_killed} issued "
        f"({pending_when_killed} pending); done, and A's chunk re-run, in {elapsed:.1f} s"
    )
