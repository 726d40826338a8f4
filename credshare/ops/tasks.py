"""The clean-ups on Celery (CREDSHARE_TASKS=celery), run hourly by Celery beat."""

from credshare.celery import app
from credshare.ops.cleanup import clean_up


@app.task(
    acks_late=True, reject_on_worker_lost=True, ignore_result=True, name="credshare.ops.clean_up"
)
def clean_up_task() -> dict[str, int]:
    return clean_up()
