"""Celery tasks: the certificate render (certificates queue), its periodic safety net, and the
weekly digest. Each takes ids only and hands the work to one service."""

import logging
import uuid
from datetime import date
from typing import Any

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from certificates import services
from lms import metrics

logger = logging.getLogger(__name__)

# Transient: the database or the storage (a file system or S3) was briefly unreachable.
# A broken template (TemplateSyntaxError) is permanent and fails at once.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, OSError)


class CertificateRenderTask(Task):
    def on_failure(
        self,
        exc: Exception,
        task_id: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        einfo: Any,
    ) -> None:
        # Every retry failed (or the error is permanent): keep the reason next to the
        # certificate, which stays pending for certificates_retry_pending_task.
        metrics.CERTIFICATES_FAILED.inc()
        certificate_id = kwargs.get("certificate_id") or (args[0] if args else None)
        if certificate_id is not None:
            services.certificate_record_render_failure(
                certificate_id=uuid.UUID(str(certificate_id)), error=f"{type(exc).__name__}: {exc}"
            )


@shared_task(
    base=CertificateRenderTask,
    name="certificates.tasks.certificate_render_task",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=5,
)
def certificate_render_task(certificate_id: str, force: bool = False) -> None:
    """Render, store and issue one certificate (idempotent: see services.certificate_render)."""
    services.certificate_render(certificate_id=uuid.UUID(certificate_id), force=force)


@shared_task(name="certificates.tasks.certificates_retry_pending_task")
def certificates_retry_pending_task() -> None:
    """Periodic: renders again what stayed pending, issues what a lost callback missed."""
    dispatched, issued = services.certificates_retry_pending()
    if dispatched or issued:
        logger.info(
            "Certificates: %s pending render(s) dispatched again, %s missed issued.",
            dispatched,
            issued,
        )


@shared_task(
    # Routed to the emails queue (CELERY_TASK_ROUTES): the batches run beside their emails.
    name="certificates.tasks.weekly_digest_send_task",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def weekly_digest_send_task(
    week_start: str | None = None, after_user_id: str | None = None
) -> None:
    """Periodic: one batch of weekly digests, then the next batch as a new task.

    A re-run (or a redelivery after a crash) sends nobody a second digest for the week.
    """
    week = (
        date.fromisoformat(week_start)
        if week_start
        else services.digest_week_start(timezone.localdate())
    )
    _, _, next_after = services.weekly_digest_send_batch(
        week_start=week,
        after_user_id=uuid.UUID(after_user_id) if after_user_id else None,
    )
    if next_after is not None:
        weekly_digest_send_task.delay(week_start=week.isoformat(), after_user_id=str(next_after))
