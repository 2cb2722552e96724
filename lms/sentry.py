"""Error reporting to Sentry, on when SENTRY_DSN is set (lms/settings.py calls sentry_init).

No personal data is sent by default (no user emails, IP addresses, cookies or request
bodies beyond Sentry's own scrubbing), and every event is scrubbed twice before it leaves:
Sentry's EventScrubber blanks known sensitive keys everywhere in the event (recursively),
and before_send runs the same redaction as the logs (lms/redaction.py) over every string,
so a token inside an exception message or a local variable is blanked too.
"""

from typing import Any

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.redis import RedisIntegration
from sentry_sdk.scrubber import DEFAULT_DENYLIST, DEFAULT_PII_DENYLIST, EventScrubber

from lms.redaction import redact_value

EXTRA_DENYLIST = [
    "card",
    "card_number",
    "cvc",
    "cvv",
    "exp_month",
    "exp_year",
    "otp",
    "code",
    "backup_code",
    "backup_codes",
    "new_password",
    "old_password",
    "current_password",
    "refresh",
    "access",
    "access_token",
    "refresh_token",
    "challenge",
    "signature",
    "stripe_signature",
    "http_authorization",
    "http_cookie",
    "http_stripe_signature",
]


def scrub_event(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """before_send / before_send_transaction: the log redaction over the whole event."""
    return redact_value(event)


def scrub_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    return redact_value(crumb)


def sentry_init(
    *,
    dsn: str,
    environment: str,
    release: str | None,
    traces_sample_rate: float,
    send_default_pii: bool = False,
    **options: Any,
) -> None:
    """Turn on the Django, Celery and Redis integrations; `options` go to sentry_sdk.init."""
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[
            DjangoIntegration(),
            CeleryIntegration(monitor_beat_tasks=False),
            RedisIntegration(),
        ],
        traces_sample_rate=traces_sample_rate,
        send_default_pii=send_default_pii,
        event_scrubber=EventScrubber(
            denylist=[*DEFAULT_DENYLIST, *EXTRA_DENYLIST],
            pii_denylist=DEFAULT_PII_DENYLIST,
            recursive=True,
            send_default_pii=send_default_pii,
        ),
        before_send=scrub_event,
        before_send_transaction=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        # Request bodies are never attached (passwords, card data); headers are scrubbed.
        max_request_body_size="never",
        **options,
    )
