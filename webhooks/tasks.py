"""Webhook delivery tasks, on the `webhooks` queue (CELERY_TASK_ROUTES)."""

import uuid

from celery import shared_task

from webhooks import services


@shared_task
def webhook_endpoint_deliver_task(endpoint_id: str) -> int:
    """Send an endpoint's due deliveries in order; queue another run if more is due.

    Retries are not Celery retries: a failed attempt stores its next time, and the per-minute
    sweep (webhook_deliveries_dispatch_due_task) sends it then. So a task is never held
    waiting, and a lost task only delays a delivery until the next sweep.
    """
    sent, more = services.webhook_endpoint_deliver(endpoint_id=uuid.UUID(endpoint_id))
    if more:
        webhook_endpoint_deliver_task.delay(endpoint_id)
    return sent


@shared_task
def webhook_deliveries_dispatch_due_task() -> int:
    """Every minute (beat): queue a delivery run for each endpoint with something due."""
    endpoint_ids = services.webhook_endpoints_due()
    for endpoint_id in endpoint_ids:
        webhook_endpoint_deliver_task.delay(str(endpoint_id))
    return len(endpoint_ids)
