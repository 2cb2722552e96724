from celery import shared_task

from accounts.services import (
    account_tokens_flush_expired,
    password_reset_send,
    refresh_tokens_flush_expired,
)


@shared_task(name="accounts.tasks.flush_expired_tokens_task")
def flush_expired_tokens_task() -> int:
    """Periodic (see CELERY_BEAT_SCHEDULE): drop refresh-token records that expired, and the
    single-use account tokens (verification, reset, MFA challenge) expired for a day."""
    return refresh_tokens_flush_expired() + account_tokens_flush_expired()


@shared_task(name="accounts.tasks.password_reset_send_task")
def password_reset_send_task(email: str) -> bool:
    """Mail the reset link, if the address has an active account (see password_reset_request)."""
    return password_reset_send(email=email)
