"""The outbox (events recorded with their cause) and deliveries to a real local receiver."""

import json
import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from courses.models import Lesson
from courses.tests.factories import course_with_content
from enrollments.models import Enrollment
from enrollments.services import enrollment_create, lesson_complete
from lms import events
from webhooks import services, signing
from webhooks.errors import WebhookUrlRefused
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.tests.factories import (
    WebhookDeliveryFactory,
    WebhookEndpointFactory,
    WebhookEventFactory,
)
from webhooks.tests.receiver import Reply

# Real commits: the outbox hands deliveries to the task when the transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)


def publish_in_transaction(event_type=events.ENROLLMENT_CREATED, data=None):
    with transaction.atomic():
        events.publish(event_type, data or {"enrollment_id": str(uuid.uuid4())})


def make_due(delivery):
    """Skip the back-off: the retry is due now."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def deliver(endpoint):
    return services.webhook_endpoint_deliver(endpoint_id=endpoint.pk)


# --- The outbox ---------------------------------------------------------------------------
def test_an_event_gets_one_delivery_per_subscribed_active_endpoint():
    subscribed = WebhookEndpointFactory(events=[events.ENROLLMENT_CREATED])
    WebhookEndpointFactory(events=[events.ORDER_PAID])
    WebhookEndpointFactory(inactive=True)

    with transaction.atomic():
        events.publish(events.ENROLLMENT_CREATED, {"enrollment_id": "e-1"})
        assert WebhookDelivery.objects.count() == 1  # written inside the cause's transaction

    event = WebhookEvent.objects.get()
    assert event.type == events.ENROLLMENT_CREATED
    assert event.data == {"enrollment_id": "e-1"}
    assert list(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == [subscribed.pk]


def test_an_event_nobody_subscribes_to_is_not_recorded(django_assert_num_queries):
    WebhookEndpointFactory(events=[events.ORDER_PAID])

    with django_assert_num_queries(1):
        events.publish(events.ENROLLMENT_COMPLETED, {"enrollment_id": "e-1"})

    assert not WebhookEvent.objects.exists()


def test_the_outbox_rolls_back_with_its_cause():
    WebhookEndpointFactory()

    def cause() -> None:
        with transaction.atomic():
            events.publish(events.ENROLLMENT_CREATED, {"enrollment_id": "e-1"})
            raise RuntimeError("the cause failed")

    with pytest.raises(RuntimeError):
        cause()

    assert not WebhookEvent.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_enrolling_records_and_delivers_enrollment_created(receiver, student):
    endpoint = WebhookEndpointFactory(url=receiver.url, events=[events.ENROLLMENT_CREATED])
    course = course_with_content(published=True, lessons_per_module=2)

    enrollment, _ = enrollment_create(user=student, course=course, source="free")

    payload = json.loads(receiver.requests[0].body)
    assert payload["type"] == "enrollment.created"
    assert payload["data"] == {
        "enrollment_id": str(enrollment.pk),
        "user_id": str(student.pk),
        "course_id": str(course.pk),
        "course_slug": course.slug,
        "status": "active",
        "source": "free",
        "enrolled_at": enrollment.enrolled_at.isoformat(),
        "completed_at": None,
    }
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED


def test_completing_the_last_lesson_delivers_enrollment_completed(receiver, student):
    WebhookEndpointFactory(url=receiver.url, events=[events.ENROLLMENT_COMPLETED])
    course = course_with_content(published=True)
    enrollment_create(user=student, course=course, source="free")

    lesson_complete(user=student, lesson=Lesson.objects.get(module__course=course))

    payload = json.loads(receiver.requests[0].body)
    enrollment = Enrollment.objects.get(user=student, course=course)
    assert payload["type"] == "enrollment.completed"
    assert payload["data"]["status"] == "completed"
    assert payload["data"]["completed_at"] == enrollment.completed_at.isoformat()


# --- What a receiver gets -------------------------------------------------------------------
def test_a_delivery_is_signed_json_with_the_event_id_type_time_and_data(receiver):
    endpoint = WebhookEndpointFactory(url=receiver.url)
    publish_in_transaction(events.ORDER_PAID, {"order_id": "o-1", "amount": 4900})
    event = WebhookEvent.objects.get()

    request = receiver.requests[0]

    assert json.loads(request.body) == {
        "id": str(event.pk),
        "type": "order.paid",
        "occurred_at": event.occurred_at.isoformat(),
        "data": {"order_id": "o-1", "amount": 4900},
    }
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-LMS-Event-Id"] == str(event.pk)
    assert request.headers["X-LMS-Event-Type"] == "order.paid"
    assert signing.signature_verify(
        secret=endpoint.secret, header=request.headers["X-LMS-Signature"], body=request.body
    )


def test_the_signature_does_not_verify_with_another_secret(receiver):
    WebhookEndpointFactory(url=receiver.url)
    publish_in_transaction()

    request = receiver.requests[0]

    assert not signing.signature_verify(
        secret="whsec_someone_else", header=request.headers["X-LMS-Signature"], body=request.body
    )


def test_a_successful_attempt_is_logged_with_status_duration_and_excerpt(receiver):
    receiver.reply_with(Reply(status=202, body="thanks " * 500))
    WebhookEndpointFactory(url=receiver.url)

    publish_in_transaction()

    attempt = WebhookAttempt.objects.get()
    assert attempt.number == 1
    assert attempt.outcome == WebhookAttempt.Outcome.SUCCEEDED
    assert attempt.status_code == 202
    assert attempt.duration_ms >= 0
    assert attempt.response_excerpt == ("thanks " * 500)[:1000]
    delivery = attempt.delivery
    assert delivery.delivered_at is not None
    assert delivery.attempt_count == 1


# --- Retries --------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [500, 503, 408, 429])
def test_a_server_error_is_retried_with_back_off(receiver, status):
    receiver.reply_with(Reply(status=status, body="busy"))
    WebhookEndpointFactory(url=receiver.url)
    before = timezone.now()

    publish_in_transaction()

    delivery = WebhookDelivery.objects.get()
    attempt = delivery.attempts.get()
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert attempt.outcome == WebhookAttempt.Outcome.RETRY
    assert attempt.status_code == status
    assert attempt.response_excerpt == "busy"
    # The first retry waits 30 s with 50-100 % jitter.
    assert before + timedelta(seconds=15) <= delivery.next_attempt_at
    assert delivery.next_attempt_at <= timezone.now() + timedelta(seconds=30)


def test_the_back_off_grows_exponentially_up_to_an_hour():
    ceilings = [
        max(services._retry_delay(number).total_seconds() for _ in range(50))
        for number in (1, 2, 3, 10)
    ]

    assert 15 <= ceilings[0] <= 30
    assert 30 <= ceilings[1] <= 60
    assert 60 <= ceilings[2] <= 120
    assert 1800 <= ceilings[3] <= 3600


def test_a_retry_that_succeeds_delivers(receiver):
    receiver.reply_with(Reply(status=502))
    endpoint = WebhookEndpointFactory(url=receiver.url)
    publish_in_transaction()
    delivery = WebhookDelivery.objects.get()
    make_due(delivery)

    sent, more = deliver(endpoint)

    delivery.refresh_from_db()
    assert (sent, more) == (1, False)
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert list(delivery.attempts.values_list("number", "outcome")) == [
        (1, "retry"),
        (2, "succeeded"),
    ]
    assert len(receiver.requests) == 2
    assert (
        receiver.requests[0].headers["X-LMS-Event-Id"]
        == (receiver.requests[1].headers["X-LMS-Event-Id"])
    )


def test_a_retry_is_not_sent_before_it_is_due(receiver):
    receiver.reply_with(Reply(status=500))
    endpoint = WebhookEndpointFactory(url=receiver.url)
    publish_in_transaction()

    sent, _ = deliver(endpoint)

    assert sent == 0
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("status", [400, 401, 404, 410, 301, 302])
def test_a_client_error_or_redirect_fails_at_once(receiver, status):
    receiver.reply_with(Reply(status=status, headers={"Location": "http://127.0.0.1:1/x"}))
    WebhookEndpointFactory(url=receiver.url)

    publish_in_transaction()

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts.get().outcome == WebhookAttempt.Outcome.FAILED
    assert delivery.last_status_code == status
    assert len(receiver.requests) == 1  # the redirect was not followed


def test_a_timeout_is_retried(receiver, settings):
    settings.WEBHOOKS_TIMEOUT_SECONDS = 0.3
    receiver.reply_with(Reply(delay=1.5))
    WebhookEndpointFactory(url=receiver.url)

    publish_in_transaction()

    delivery = WebhookDelivery.objects.get()
    attempt = delivery.attempts.get()
    assert attempt.outcome == WebhookAttempt.Outcome.RETRY
    assert attempt.status_code is None
    assert "Timed out" in attempt.error
    assert attempt.duration_ms < 1500


def test_a_refused_connection_is_retried(receiver):
    receiver.stop()  # nothing listens on the port any more
    WebhookEndpointFactory(url=receiver.url)

    publish_in_transaction()

    attempt = WebhookAttempt.objects.get()
    assert attempt.outcome == WebhookAttempt.Outcome.RETRY
    assert attempt.error


def test_a_delivery_is_given_up_after_the_retry_window(receiver):
    receiver.reply_with(Reply(status=500), Reply(status=500))
    endpoint = WebhookEndpointFactory(url=receiver.url)
    publish_in_transaction()
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        deliver_until=timezone.now() + timedelta(seconds=5)
    )
    make_due(delivery)

    deliver(endpoint)

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts.last().outcome == WebhookAttempt.Outcome.FAILED


# --- Order per endpoint ---------------------------------------------------------------------
def test_deliveries_of_an_endpoint_are_sent_in_order_and_wait_for_a_failing_one(receiver):
    receiver.reply_with(Reply(status=503))
    endpoint = WebhookEndpointFactory(url=receiver.url)
    for number in range(3):
        publish_in_transaction(data={"number": number})
    assert len(receiver.requests) == 1  # the first failed: the two others wait behind it
    make_due(WebhookDelivery.objects.get(event__data__number=0))

    deliver(endpoint)

    received = [json.loads(request.body)["data"]["number"] for request in receiver.requests]
    assert received == [0, 0, 1, 2]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}


def test_a_second_sender_for_the_same_endpoint_stands_aside(receiver):
    endpoint = WebhookEndpointFactory(url=receiver.url)
    WebhookDeliveryFactory(endpoint=endpoint)
    token = services._lease_take(endpoint.pk)

    sent, _ = deliver(endpoint)

    assert token is not None
    assert sent == 0
    assert receiver.requests == []


def test_an_expired_lease_is_taken_over(receiver):
    endpoint = WebhookEndpointFactory(url=receiver.url)
    WebhookDeliveryFactory(endpoint=endpoint)
    services._lease_take(endpoint.pk)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    sent, _ = deliver(endpoint)

    assert sent == 1


# --- Endpoints, redelivery ------------------------------------------------------------------
def test_an_inactive_endpoint_is_not_sent_to_until_reactivated(receiver):
    endpoint = WebhookEndpointFactory(url=receiver.url, inactive=True)
    WebhookDeliveryFactory(endpoint=endpoint)

    deliver(endpoint)
    assert receiver.requests == []
    services.webhook_endpoint_update(endpoint=endpoint, is_active=True)

    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.SUCCEEDED


def test_redelivering_a_failed_delivery_sends_it_again_and_keeps_its_history(receiver):
    receiver.reply_with(Reply(status=410))
    WebhookEndpointFactory(url=receiver.url)
    publish_in_transaction()
    delivery = WebhookDelivery.objects.get()

    services.webhook_delivery_redeliver(delivery=delivery)

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert list(delivery.attempts.values_list("number", "outcome")) == [
        (1, "failed"),
        (2, "succeeded"),
    ]


def test_creating_an_endpoint_generates_a_secret_and_keeps_known_events_in_order():
    endpoint = services.webhook_endpoint_create(
        url="https://hooks.example.com/lms",
        events=[events.ORDER_PAID, events.ENROLLMENT_CREATED, events.ORDER_PAID],
    )

    assert endpoint.secret.startswith("whsec_")
    assert len(endpoint.secret) > 40
    assert endpoint.events == [events.ENROLLMENT_CREATED, events.ORDER_PAID]


def test_deleting_an_endpoint_removes_its_deliveries_but_keeps_the_events():
    delivery = WebhookDeliveryFactory()

    services.webhook_endpoint_delete(endpoint=delivery.endpoint)

    assert not WebhookDelivery.objects.exists()
    assert WebhookEvent.objects.filter(pk=delivery.event_id).exists()


# --- The SSRF guard (production rules) --------------------------------------------------------
@pytest.mark.parametrize(
    ("_case", "url"),
    [
        ("plain http", "http://hooks.example.com/lms"),
        ("loopback", "https://127.0.0.1/lms"),
        ("localhost", "https://localhost:8443/lms"),
        ("private", "https://10.1.2.3/lms"),
        ("private 192.168", "https://192.168.0.10/lms"),
        ("cloud metadata", "https://169.254.169.254/latest/meta-data"),
        ("shared address space", "https://100.64.0.1/lms"),
        ("ipv6 loopback", "https://[::1]/lms"),
        ("ipv4-mapped ipv6", "https://[::ffff:127.0.0.1]/lms"),
        ("ipv6 unique local", "https://[fd00::1]/lms"),
        ("unspecified", "https://0.0.0.0/lms"),
        ("credentials", "https://user:pass@hooks.example.com/lms"),
        ("internal name", "https://billing.internal/lms"),
        ("not http", "ftp://hooks.example.com/lms"),
    ],
)
def test_production_rules_refuse_urls_that_are_not_public_https(settings, _case, url):
    settings.WEBHOOKS_ALLOW_INSECURE_URLS = False

    with pytest.raises(WebhookUrlRefused) as error:
        services.webhook_endpoint_create(url=url, events=[events.ORDER_PAID])

    assert error.value.code == "webhook_url_refused"
    assert not WebhookEndpoint.objects.exists()


def test_production_rules_accept_a_public_https_url(settings):
    settings.WEBHOOKS_ALLOW_INSECURE_URLS = False

    endpoint = services.webhook_endpoint_create(
        url="https://93.184.215.14:8443/hooks", events=[events.ORDER_PAID]
    )

    assert endpoint.pk


def test_a_name_that_resolves_to_a_private_address_is_never_called(settings, receiver, monkeypatch):
    endpoint = WebhookEndpointFactory(url=receiver.url.replace("127.0.0.1", "hooks.example.com"))
    delivery = WebhookDeliveryFactory(endpoint=endpoint)
    settings.WEBHOOKS_ALLOW_INSECURE_URLS = False
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        url=f"https://hooks.example.com:{receiver.server.server_address[1]}/hooks"
    )
    # DNS is the system boundary: the name answers with the receiver's loopback address.
    monkeypatch.setattr(
        "socket.getaddrinfo",
        lambda host, port, *args, **kwargs: [(2, 1, 6, "", ("127.0.0.1", port))],
    )

    deliver(endpoint)

    delivery.refresh_from_db()
    assert receiver.requests == []
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert "non-public address" in delivery.last_error


# --- The sweep ----------------------------------------------------------------------------
def test_the_sweep_finds_endpoints_with_due_deliveries_only():
    due = WebhookDeliveryFactory()
    WebhookDeliveryFactory(next_attempt_at=timezone.now() + timedelta(minutes=5))
    WebhookDeliveryFactory(succeeded=True)
    WebhookDeliveryFactory(endpoint=WebhookEndpointFactory(inactive=True))

    assert services.webhook_endpoints_due() == [due.endpoint_id]


def test_an_event_recorded_outside_a_transaction_is_still_delivered(receiver):
    WebhookEndpointFactory(url=receiver.url)

    events.publish(events.SUBMISSION_GRADED, {"submission_id": "s-1"})

    assert json.loads(receiver.requests[0].body)["type"] == "submission.graded"


def test_an_event_factory_event_can_be_delivered_to_several_endpoints(receiver):
    event = WebhookEventFactory()
    first = WebhookDeliveryFactory(event=event, endpoint=WebhookEndpointFactory(url=receiver.url))
    second = WebhookDeliveryFactory(event=event, endpoint=WebhookEndpointFactory(url=receiver.url))

    deliver(first.endpoint)
    deliver(second.endpoint)

    assert len(receiver.requests) == 2
    assert {request.headers["X-LMS-Delivery-Id"] for request in receiver.requests} == {
        str(first.pk),
        str(second.pk),
    }
