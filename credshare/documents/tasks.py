"""Bulk issuance on Celery workers (CREDSHARE_TASKS=celery; see credshare/celery.py).

`run_issuance_job` fans a job out into a few `process_issuance_chunk` tasks, each issuing up
to CHUNK_ROWS pending rows and then sending itself again while rows remain, so the worker
processes share one job. Locking and idempotency come from `bulk.issuance_job_process`: each
row is issued in its own transaction, taken with SELECT ... FOR UPDATE SKIP LOCKED, and once
per (issuer, external id).

Both tasks are acknowledged only after they have run (acks_late) and given back to the queue
when their pool process dies (reject_on_worker_lost). A task whose whole worker was killed
is redelivered by the broker after its visibility timeout (CREDSHARE_CELERY_VISIBILITY_TIMEOUT)
to the next worker that starts or polls; the row it was issuing rolled back and is still
pending, so nothing is issued twice and nothing is lost. Short chunks keep that window small.
"""

import logging
import math

from django.db import DatabaseError

from credshare.celery import app
from credshare.documents import bulk
from credshare.documents.models import IssuanceJob, IssuanceRow

logger = logging.getLogger(__name__)

# Rows a chunk task issues before handing the rest of the job to a new task.
CHUNK_ROWS = 50
# Chunk tasks of one job in flight at once: enough for the workers of a small installation.
PARALLEL_CHUNKS = 4
# Retries of a chunk that met a database error, waiting 1, 2, 4 ... seconds.
MAX_RETRIES = 5


def _same_queue(task) -> str | None:
    """The queue TASK was delivered from, so the tasks it sends go to the same workers."""
    delivery_info = task.request.delivery_info or {}
    return delivery_info.get("routing_key") or None


def _pending_rows(job_id: int) -> int:
    return IssuanceRow.objects.filter(job_id=job_id, status=IssuanceRow.Status.PENDING).count()


@app.task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_issuance_job(self, job_id: int) -> None:
    """Start JOB_ID's chunk tasks: one per CHUNK_ROWS pending rows, at most PARALLEL_CHUNKS,
    and at least one (which finishes a job that has nothing left to issue). None for a job a
    chunk has started already (this task sent again by the scheduler, or redelivered): its
    chunk tasks carry on, or are redelivered."""
    status = IssuanceJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
    if status in (IssuanceJob.Status.RUNNING, IssuanceJob.Status.DONE):
        return
    chunks = max(1, min(PARALLEL_CHUNKS, math.ceil(_pending_rows(job_id) / CHUNK_ROWS)))
    queue = _same_queue(self)
    for _ in range(chunks):
        process_issuance_chunk.apply_async(args=[job_id], queue=queue)


@app.task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def process_issuance_chunk(self, job_id: int) -> int:
    """Issue up to CHUNK_ROWS pending rows of JOB_ID, then send this task again while rows
    remain. A chunk that found every pending row locked stops: the tasks holding those rows
    carry on (or, if their worker died, are redelivered)."""
    try:
        processed = bulk.issuance_job_process(job_id=job_id, max_rows=CHUNK_ROWS)
    except IssuanceJob.DoesNotExist:
        logger.warning("Bulk issuance job %s no longer exists", job_id)
        return 0
    except DatabaseError as error:
        # A database outage (a row's own failures never get here): try again a few times,
        # then mark the job failed; running it again resumes where it stopped.
        if self.request.retries < MAX_RETRIES:
            raise self.retry(exc=error, countdown=2**self.request.retries) from error
        bulk.issuance_job_fail(job_id=job_id, error=str(error) or error.__class__.__name__)
        raise
    if processed and _pending_rows(job_id):
        self.apply_async(args=[job_id], queue=_same_queue(self))
    return processed


@app.task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def start_stalled_issuance_jobs() -> int:
    """Start again the jobs whose first task was lost (bulk.STALLED_AFTER); Celery beat runs
    this every STALLED_AFTER (settings.CELERY_BEAT_SCHEDULE)."""
    return len(bulk.issuance_jobs_restart_stalled())
