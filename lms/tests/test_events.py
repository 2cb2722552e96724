"""lms.events: publish calls the subscribers at once, in the caller's transaction."""

import uuid
from datetime import UTC, datetime

import pytest
from django.db import transaction

from accounts.models import User
from accounts.tests.factories import UserFactory
from lms import events

# Installed subscribers (the webhook outbox) read the database.
pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    seen: list[events.Event] = []
    events.subscribe(seen.append)
    yield seen
    events.unsubscribe(seen.append)


def test_publish_calls_every_subscriber_with_the_event(received):
    events.publish(events.ORDER_PAID, {"order_id": "o-1", "amount": 4900, "currency": "USD"})

    [event] = received
    assert event.type == "order.paid"
    assert event.data == {"order_id": "o-1", "amount": 4900, "currency": "USD"}
    assert isinstance(event.id, uuid.UUID)
    assert event.occurred_at.tzinfo is not None


def test_ids_and_times_become_json_strings(received):
    order_id = uuid.uuid4()
    paid_at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    events.publish(events.ORDER_PAID, {"order_id": order_id, "paid_at": paid_at})

    assert received[0].data == {"order_id": str(order_id), "paid_at": "2026-01-02T03:04:05+00:00"}


def test_an_unknown_event_type_is_refused(received):
    with pytest.raises(events.UnknownEventType):
        events.publish("order.lost", {})

    assert received == []


def test_data_that_is_not_json_is_refused(received):
    with pytest.raises(TypeError):
        events.publish(events.ORDER_PAID, {"order": object()})


def test_subscribing_twice_calls_once(received):
    events.subscribe(received.append)

    events.publish(events.ORDER_PAID, {})

    assert len(received) == 1


def test_a_failing_subscriber_rolls_back_the_cause():
    def failing(event: events.Event) -> None:
        raise RuntimeError("outbox unavailable")

    def cause() -> None:
        with transaction.atomic():
            UserFactory(email="cause@example.com")
            events.publish(events.ENROLLMENT_CREATED, {})

    events.subscribe(failing)
    try:
        with pytest.raises(RuntimeError):
            cause()
    finally:
        events.unsubscribe(failing)

    assert not User.objects.filter(email="cause@example.com").exists()
