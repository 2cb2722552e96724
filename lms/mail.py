"""Templated email for every app: render now, send from the `emails` queue after the commit."""

import smtplib
from functools import partial
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

from lms import metrics


def send_templated_email(
    *, to: list[str], subject: str, template: str, context: dict[str, Any]
) -> None:
    """Render templates/emails/<template>.txt and .html and send them once the transaction commits.

    Nothing is sent if the surrounding transaction rolls back.
    """
    context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    transaction.on_commit(
        partial(
            send_email_task.delay,
            to=to,
            subject=subject,
            text_body=render_to_string(f"emails/{template}.txt", context),
            html_body=render_to_string(f"emails/{template}.html", context),
        )
    )


@shared_task(
    name="lms.mail.send_email_task",
    # Transient failures only: a refused recipient or sender will not get better by retrying.
    autoretry_for=(
        smtplib.SMTPServerDisconnected,
        smtplib.SMTPConnectError,
        ConnectionError,
        TimeoutError,
    ),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def send_email_task(*, to: list[str], subject: str, text_body: str, html_body: str) -> None:
    message = EmailMultiAlternatives(subject=subject, body=text_body, to=to)
    message.attach_alternative(html_body, "text/html")
    try:
        message.send()
    except (smtplib.SMTPException, OSError):
        metrics.EMAILS.labels(outcome="failed").inc()  # each failed try, retried or not
        raise
    metrics.EMAILS.labels(outcome="sent").inc()
