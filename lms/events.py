"""Domain events: a service announces what happened; subscribers react in the same transaction.

`publish(event_type, data)` calls every subscriber synchronously, inside the caller's
transaction. That is what makes the outgoing-webhook outbox atomic with its cause: the outbox
rows are written (or rolled back) together with the enrolment, order or certificate that the
event describes. A subscriber that needs the commit (a metric, a task) uses
`transaction.on_commit` itself. An exception in a subscriber propagates to the publisher, so
keep subscribers to quick database writes.

The payload is plain JSON: ids as strings, money as integer minor units plus an ISO 4217
currency, times as ISO 8601 strings (UUIDs and datetimes are converted here).

Subscribers register at start-up (an AppConfig.ready() or a module imported by lms/celery.py)
with `subscribe(handler)`. This module imports no app.
"""

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.utils import timezone

ENROLLMENT_CREATED = "enrollment.created"
ENROLLMENT_COMPLETED = "enrollment.completed"
CERTIFICATE_ISSUED = "certificate.issued"
ORDER_PAID = "order.paid"
ORDER_REFUNDED = "order.refunded"
SUBMISSION_GRADED = "submission.graded"

EVENT_TYPES = (
    ENROLLMENT_CREATED,
    ENROLLMENT_COMPLETED,
    CERTIFICATE_ISSUED,
    ORDER_PAID,
    ORDER_REFUNDED,
    SUBMISSION_GRADED,
)


@dataclass(frozen=True)
class Event:
    """One occurrence: a unique id (receivers de-duplicate on it), its type, time and data."""

    type: str
    data: dict[str, Any]
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    occurred_at: datetime = field(default_factory=timezone.now)


Handler = Callable[[Event], None]

_subscribers: list[Handler] = []


class UnknownEventType(ValueError):
    pass


def subscribe(handler: Handler) -> None:
    """Call `handler(event)` for every event published from now on (once, however often)."""
    if handler not in _subscribers:
        _subscribers.append(handler)


def unsubscribe(handler: Handler) -> None:
    if handler in _subscribers:
        _subscribers.remove(handler)


def subscribers() -> list[Handler]:
    return list(_subscribers)


def _to_json(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not allowed in event data")


def publish(event_type: str, data: dict[str, Any]) -> None:
    """Announce an event to every subscriber, now, inside the caller's transaction.

    Call it from the service that caused the event, inside its `transaction.atomic()` block,
    after the change is saved. Raises UnknownEventType for a type not in EVENT_TYPES and
    TypeError for data that is not JSON (floats and Decimals are JSON, but money must be
    integer minor units).
    """
    if event_type not in EVENT_TYPES:
        raise UnknownEventType(f"Unknown event type {event_type!r}; add it to EVENT_TYPES.")
    event = Event(type=event_type, data=json.loads(json.dumps(data, default=_to_json)))
    for handler in list(_subscribers):
        handler(event)
