from celery import shared_task

from accounts.services import refresh_tokens_flush_expired


@shared_task(name="accounts.tasks.flush_expired_tokens_task")
def flush_expired_tokens_task() -> int:
    """Periodic (see CELERY_BEAT_SCHEDULE): drop refresh-token records that expired."""
    return refresh_tokens_flush_expired()
