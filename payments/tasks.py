import logging

from celery import shared_task
from django.db import OperationalError

from payments import services

logger = logging.getLogger(__name__)

BATCH = 200


@shared_task(
    name="payments.tasks.orders_expire_stale_task",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def orders_expire_stale_task() -> dict[str, int]:
    """Periodic (beat): expire pending orders whose checkout closed, reconciling them first.

    Works in batches; a full batch that all moved re-enqueues the task for the rest (one the
    provider could not answer for waits for the next scheduled run).
    """
    report = services.orders_expire_stale(limit=BATCH)
    logger.info("Stale orders: %s", report)
    if report.seen == BATCH and report.skipped == 0:
        orders_expire_stale_task.apply_async()
    return {
        "expired": report.expired,
        "reconciled": report.reconciled,
        "skipped": report.skipped,
        "deferred_applied": report.deferred_applied,
    }
