from celery import shared_task

from assessments.services import attempt_close_expired

BATCH_SIZE = 500


@shared_task(name="assessments.tasks.attempt_close_expired_task")
def attempt_close_expired_task() -> int:
    """Periodic (see CELERY_BEAT_SCHEDULE): grade and close quiz attempts past their deadline.

    Works in batches; a full batch enqueues the next one, so a backlog drains without one
    long-running task. Closing is idempotent (each attempt is re-checked under its lock).
    """
    closed = attempt_close_expired(batch_size=BATCH_SIZE)
    if closed >= BATCH_SIZE:
        attempt_close_expired_task.delay()
    return closed
