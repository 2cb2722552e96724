"""Registering webhook endpoints, recording events for them (the outbox) and delivering them.

Delivery order: one sender at a time per endpoint (a lease on the endpoint row, taken with a
conditional UPDATE, so no transaction stays open during HTTP calls), which sends the
endpoint's pending deliveries oldest first and stops at the first one that must wait for a
retry, so a receiver sees an endpoint's events in the order they were recorded.
"""

import json
import logging
import random
import time
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from lms import events, metrics
from webhooks import signing, transport
from webhooks.errors import WebhookUrlRefused
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

logger = logging.getLogger(__name__)

RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 60 * 60
# Statuses worth retrying besides 5xx: the receiver timed out or asked us to slow down.
RETRYABLE_CLIENT_STATUSES = (408, 429)
USER_AGENT = "LMS-Webhooks/1.0"


# --- Endpoints ----------------------------------------------------------------------------
def webhook_url_check(url: str) -> None:
    try:
        transport.url_check(url, allow_insecure=settings.WEBHOOKS_ALLOW_INSECURE_URLS)
    except transport.DestinationRefused as error:
        raise WebhookUrlRefused(str(error)) from error


def _events_clean(event_types: Iterable[str]) -> list[str]:
    """The subscribed types, known ones only, each once, in the canonical order."""
    return [name for name in events.EVENT_TYPES if name in set(event_types)]


def webhook_endpoint_create(
    *,
    url: str,
    events: Iterable[str],
    secret: str = "",
    description: str = "",
    is_active: bool = True,
) -> WebhookEndpoint:
    """Register a receiver; a signing secret is generated when none is given."""
    webhook_url_check(url)
    endpoint = WebhookEndpoint(
        url=url, events=_events_clean(events), description=description, is_active=is_active
    )
    if secret:
        endpoint.secret = secret
    endpoint.full_clean()
    endpoint.save()
    return endpoint


def webhook_endpoint_update(*, endpoint: WebhookEndpoint, **changes: Any) -> WebhookEndpoint:
    """Change url, events, secret, description or is_active. Reactivating an endpoint sends
    the deliveries that waited for it (those still within their retry window)."""
    if "url" in changes:
        webhook_url_check(changes["url"])
    if "events" in changes:
        changes["events"] = _events_clean(changes["events"])
    reactivated = changes.get("is_active") is True and not endpoint.is_active
    for name, value in changes.items():
        setattr(endpoint, name, value)
    endpoint.full_clean()
    endpoint.save(update_fields=[*changes, "updated_at"])
    if reactivated:
        _dispatch_on_commit(endpoint.pk)
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Remove the endpoint with its deliveries and their attempts (events stay recorded)."""
    endpoint.delete()


# --- The outbox ---------------------------------------------------------------------------
def webhook_event_record(event: events.Event) -> None:
    """The lms.events subscriber: record the event once, with a delivery per subscribed
    active endpoint, in the publisher's transaction; their sending starts after the commit.

    Costs one query when no endpoint subscribes to the event.
    """
    endpoint_ids = [
        pk
        for pk, subscribed in WebhookEndpoint.objects.filter(is_active=True).values_list(
            "pk", "events"
        )
        if event.type in subscribed
    ]
    if not endpoint_ids:
        return
    now = timezone.now()
    window = timedelta(hours=settings.WEBHOOKS_RETRY_WINDOW_HOURS)
    with transaction.atomic():
        record = WebhookEvent.objects.create(
            id=event.id, type=event.type, occurred_at=event.occurred_at, data=event.data
        )
        WebhookDelivery.objects.bulk_create(
            WebhookDelivery(
                endpoint_id=pk,
                event=record,
                queued_at=now,
                next_attempt_at=now,
                deliver_until=now + window,
            )
            for pk in endpoint_ids
        )
    for pk in endpoint_ids:
        _dispatch_on_commit(pk)


def _dispatch(endpoint_id: uuid.UUID) -> None:
    from webhooks.tasks import webhook_endpoint_deliver_task  # tasks import this module

    try:
        webhook_endpoint_deliver_task.delay(str(endpoint_id))
    except BrokerError:
        # The cause is committed; the per-minute sweep sends the delivery once the broker is
        # back. The request that caused the event must not fail for it.
        logger.warning("Webhook delivery for endpoint %s not queued", endpoint_id, exc_info=True)


def _dispatch_on_commit(endpoint_id: uuid.UUID) -> None:
    # robust: whatever the (eager, in development) task does, the committed request that
    # caused the event is not turned into an error.
    transaction.on_commit(partial(_dispatch, endpoint_id), robust=True)


def webhook_delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again (whatever its status): it joins the end of its endpoint's queue
    with a fresh retry window; earlier attempts stay in its history."""
    now = timezone.now()
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.queued_at = now
    delivery.next_attempt_at = now
    delivery.deliver_until = now + timedelta(hours=settings.WEBHOOKS_RETRY_WINDOW_HOURS)
    delivery.save(
        update_fields=["status", "queued_at", "next_attempt_at", "deliver_until", "updated_at"]
    )
    _dispatch_on_commit(delivery.endpoint_id)
    return delivery


# --- Sending ------------------------------------------------------------------------------
def _lease_seconds() -> float:
    # Longer than one attempt can take, so a live sender never loses its lease mid-request.
    return settings.WEBHOOKS_TIMEOUT_SECONDS * 3 + 30


def _lease_take(endpoint_id: uuid.UUID, token: uuid.UUID | None = None) -> uuid.UUID | None:
    """Take (or, with `token`, renew) the endpoint's sending lease; None when someone else
    holds it or the endpoint is inactive or gone."""
    now = timezone.now()
    free = Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)
    new_token = token or uuid.uuid4()
    taken = (
        WebhookEndpoint.objects.filter(pk=endpoint_id, is_active=True)
        .filter(Q(lease_token=token) if token else free)
        .update(lease_token=new_token, lease_expires_at=now + timedelta(seconds=_lease_seconds()))
    )
    return new_token if taken else None


def _lease_release(endpoint_id: uuid.UUID, token: uuid.UUID) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint_id, lease_token=token).update(
        lease_token=None, lease_expires_at=None
    )


def _head(endpoint_id: uuid.UUID) -> WebhookDelivery | None:
    """The endpoint's oldest pending delivery: the only one that may be sent next."""
    return (
        WebhookDelivery.objects.select_related("event", "endpoint")
        .filter(endpoint_id=endpoint_id, status=WebhookDelivery.Status.PENDING)
        .order_by("queued_at", "created_at", "pk")
        .first()
    )


def _head_is_due(endpoint_id: uuid.UUID, now: datetime) -> bool:
    head = _head(endpoint_id)
    return head is not None and head.endpoint.is_active and head.next_attempt_at <= now


def webhook_body(event: WebhookEvent) -> bytes:
    """The JSON a receiver gets: the event id, type, time and data."""
    payload = {
        "id": str(event.pk),
        "type": event.type,
        "occurred_at": event.occurred_at.isoformat(),
        "data": event.data,
    }
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def _retry_delay(attempt_number: int) -> timedelta:
    """Exponential back-off (30 s, 1 min, 2 min, ... up to 1 h) with jitter (50-100 %), so
    retries of many deliveries spread out."""
    ceiling = min(RETRY_BASE_SECONDS * 2 ** (attempt_number - 1), RETRY_MAX_SECONDS)
    return timedelta(seconds=ceiling * random.uniform(0.5, 1.0))  # noqa: S311 -- not crypto


def _send(delivery: WebhookDelivery) -> tuple[int | None, str, str, bool | None]:
    """One HTTP attempt: (status code, response excerpt, error, success or None to retry)."""
    body = webhook_body(delivery.event)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.EVENT_ID_HEADER: str(delivery.event_id),
        signing.EVENT_TYPE_HEADER: delivery.event.type,
        signing.DELIVERY_ID_HEADER: str(delivery.pk),
        signing.TIMESTAMP_HEADER: str(timestamp),
        signing.SIGNATURE_HEADER: signing.signature_header(
            secret=delivery.endpoint.secret, timestamp=timestamp, body=body
        ),
    }
    try:
        response = transport.post(
            url=delivery.endpoint.url,
            body=body,
            headers=headers,
            timeout=settings.WEBHOOKS_TIMEOUT_SECONDS,
            allow_insecure=settings.WEBHOOKS_ALLOW_INSECURE_URLS,
        )
    except transport.DestinationRefused as error:
        return None, "", str(error), False
    except transport.TransportError as error:
        return None, "", str(error), None
    status = response.status_code
    if 200 <= status < 300:
        return status, response.body_excerpt, "", True
    if status >= 500 or status in RETRYABLE_CLIENT_STATUSES:
        return status, response.body_excerpt, f"HTTP {status}", None
    # 3xx (redirects are never followed) and other 4xx will not change by retrying.
    return status, response.body_excerpt, f"HTTP {status}", False


def webhook_delivery_attempt(*, delivery: WebhookDelivery) -> WebhookAttempt:
    """Send one delivery once and record the attempt: succeeded, retry later, or failed.

    Precondition: the caller holds the endpoint's lease. No transaction is open while the
    receiver is called.
    """
    started = time.monotonic()
    status_code, excerpt, error, succeeded = _send(delivery)
    duration = time.monotonic() - started
    now = timezone.now()
    number = delivery.attempt_count + 1
    retry_at = now + _retry_delay(number)
    if succeeded:
        outcome = WebhookAttempt.Outcome.SUCCEEDED
    elif succeeded is None and retry_at <= delivery.deliver_until:
        outcome = WebhookAttempt.Outcome.RETRY
    else:
        outcome = WebhookAttempt.Outcome.FAILED
    with transaction.atomic():
        attempt = WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            outcome=outcome,
            status_code=status_code,
            duration_ms=int(duration * 1000),
            response_excerpt=excerpt,
            error=error[:500],
        )
        delivery.attempt_count = number
        delivery.last_status_code = status_code
        delivery.last_error = error[:500]
        if outcome == WebhookAttempt.Outcome.SUCCEEDED:
            delivery.status = WebhookDelivery.Status.SUCCEEDED
            delivery.delivered_at = now
        elif outcome == WebhookAttempt.Outcome.RETRY:
            delivery.next_attempt_at = retry_at
        else:
            delivery.status = WebhookDelivery.Status.FAILED
        delivery.save(
            update_fields=[
                "attempt_count",
                "last_status_code",
                "last_error",
                "status",
                "delivered_at",
                "next_attempt_at",
                "updated_at",
            ]
        )
    metrics.WEBHOOK_DELIVERIES.labels(outcome=outcome).inc()
    metrics.WEBHOOK_DELIVERY_DURATION.observe(duration)
    logger.info(
        "Webhook %s of event %s to %s: attempt %s %s (%s) in %sms",
        delivery.pk,
        delivery.event_id,
        delivery.endpoint.url,
        number,
        outcome,
        status_code or error,
        attempt.duration_ms,
        extra={"webhook_outcome": outcome, "status": status_code},
    )
    return attempt


def _send_due_in_order(endpoint_id: uuid.UUID, token: uuid.UUID, limit: int) -> int:
    """Send the endpoint's due deliveries, oldest first, until one has to wait. Lease held."""
    sent = 0
    while sent < limit:
        head = _head(endpoint_id)
        if head is None or not head.endpoint.is_active or head.next_attempt_at > timezone.now():
            break
        if _lease_take(endpoint_id, token) is None:
            break  # the lease expired and another sender took over
        attempt = webhook_delivery_attempt(delivery=head)
        sent += 1
        if attempt.outcome == WebhookAttempt.Outcome.RETRY:
            break  # later deliveries wait behind this one: order per endpoint
    return sent


def webhook_endpoint_deliver(*, endpoint_id: uuid.UUID, limit: int = 100) -> tuple[int, bool]:
    """Send what is due for one endpoint, in order. Returns (attempts made, more is due now).

    Safe to call concurrently: only the holder of the endpoint's lease sends; the others
    return at once. After releasing the lease the holder looks again, so a delivery recorded
    while it was sending (whose own task was turned away) is not left behind.
    """
    sent = 0
    while sent < limit:
        token = _lease_take(endpoint_id)
        if token is None:
            return sent, False
        try:
            batch = _send_due_in_order(endpoint_id, token, limit - sent)
        finally:
            _lease_release(endpoint_id, token)
        sent += batch
        if batch == 0 or not _head_is_due(endpoint_id, timezone.now()):
            return sent, False
    return sent, True


def webhook_endpoints_due(*, now: datetime | None = None) -> list[uuid.UUID]:
    """Active endpoints with a delivery whose (next) attempt is due and no live sender."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=now,
            endpoint__is_active=True,
        )
        .filter(Q(endpoint__lease_expires_at__isnull=True) | Q(endpoint__lease_expires_at__lt=now))
        .order_by()
        .values_list("endpoint_id", flat=True)
        .distinct()
    )
