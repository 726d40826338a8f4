"""Webhook deliveries on Celery workers (CREDSHARE_TASKS=celery; see credshare/celery.py).

`deliver_webhook` makes one attempt of a delivery; it is sent when the transaction that
published the event commits. Retries are not Celery retries: `deliver_due_webhooks`, run by
Celery beat (settings.CELERY_BEAT_SCHEDULE), sends a `deliver_webhook` for every delivery
that is due. The tasks are idempotent: an attempt claims its delivery under a row lock first
(credshare/webhooks/services.py), so a task run twice (a redelivered message, a beat tick
that found a delivery already queued) finds it claimed or done and sends nothing.

Acknowledged only after they have run (acks_late), and given back to the queue when their
pool process dies (reject_on_worker_lost).
"""

import logging

from credshare.celery import app
from credshare.webhooks import services
from credshare.webhooks.models import WebhookDelivery

logger = logging.getLogger(__name__)

# Deliveries a beat tick hands to the workers; the rest wait for the next tick.
DUE_BATCH = 500


@app.task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver_webhook(delivery_id: int) -> None:
    try:
        services.delivery_attempt(delivery_id=delivery_id)
    except WebhookDelivery.DoesNotExist:
        logger.info("Webhook delivery %s no longer exists", delivery_id)


@app.task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver_due_webhooks() -> int:
    ids = list(services.deliveries_due().values_list("pk", flat=True)[:DUE_BATCH])
    for delivery_id in ids:
        deliver_webhook.delay(delivery_id)
    return len(ids)


@app.task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def announce_expired_shares() -> int:
    return services.shares_expired_announce()
