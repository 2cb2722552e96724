"""The admin API for webhook endpoints and their deliveries, and the request that causes an
event never waiting for (or failing because of) a receiver."""

import json
import uuid

import pytest
from django.urls import reverse
from kombu.exceptions import OperationalError

from courses.tests.factories import course_with_content
from lms import events
from lms.celery import app as celery_app
from webhooks import tasks
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.tests.factories import (
    WebhookDeliveryFactory,
    WebhookEndpointFactory,
)
from webhooks.tests.receiver import Reply

pytestmark = pytest.mark.django_db

LIST_URL = reverse("webhooks_api:webhook-endpoint-list")
ROLES = [
    ("_anonymous", "anonymous", 401),
    ("_student", "student", 403),
    ("_instructor", "instructor", 403),
    ("_admin", "admin_user", 200),
]


def detail_url(endpoint):
    return reverse("webhooks_api:webhook-endpoint-detail", args=[endpoint.pk])


def deliveries_url(endpoint):
    return reverse("webhooks_api:webhook-endpoint-deliveries", args=[endpoint.pk])


def redeliver_url(delivery):
    return reverse(
        "webhooks_api:webhook-delivery-redeliver", args=[delivery.endpoint_id, delivery.pk]
    )


@pytest.mark.parametrize(("_case", "role_user", "expected"), ROLES, indirect=["role_user"])
def test_listing_endpoints_is_for_admins(auth_client, role_user, _case, expected):
    WebhookEndpointFactory()

    response = auth_client(role_user).get(LIST_URL)

    assert response.status_code == expected


@pytest.mark.parametrize(
    ("_case", "role_user", "expected"),
    [*ROLES[:3], ("_admin", "admin_user", 201)],
    indirect=["role_user"],
)
def test_creating_an_endpoint_is_for_admins(auth_client, role_user, _case, expected):
    response = auth_client(role_user).post(
        LIST_URL, {"url": "https://hooks.example.com/lms", "events": ["order.paid"]}
    )

    assert response.status_code == expected
    assert WebhookEndpoint.objects.count() == (1 if expected == 201 else 0)


@pytest.mark.parametrize(
    ("_case", "role_user", "method", "expected"),
    [
        *[(case, role, "get", status) for case, role, status in ROLES],
        *[(case, role, "patch", status) for case, role, status in ROLES],
        *[(case, role, "delete", status if status != 200 else 204) for case, role, status in ROLES],
    ],
    indirect=["role_user"],
)
def test_an_endpoint_is_read_changed_and_deleted_by_admins_only(
    auth_client, role_user, _case, method, expected
):
    endpoint = WebhookEndpointFactory()

    response = getattr(auth_client(role_user), method)(
        detail_url(endpoint), {"description": "CRM"} if method == "patch" else None
    )

    assert response.status_code == expected


@pytest.mark.parametrize(("_case", "role_user", "expected"), ROLES, indirect=["role_user"])
def test_deliveries_are_for_admins(auth_client, role_user, _case, expected):
    delivery = WebhookDeliveryFactory()

    response = auth_client(role_user).get(deliveries_url(delivery.endpoint))

    assert response.status_code == expected


def test_creating_an_endpoint_shows_its_secret_once(auth_client, admin_user):
    client = auth_client(admin_user)

    created = client.post(
        LIST_URL,
        {
            "url": "https://hooks.example.com/lms",
            "events": ["enrollment.created", "order.paid"],
            "description": "CRM",
        },
    )
    shown = client.get(detail_url(WebhookEndpoint.objects.get()))

    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["events"] == ["enrollment.created", "order.paid"]
    assert body["is_active"] is True
    assert "secret" not in shown.json()
    assert shown.json()["url"] == "https://hooks.example.com/lms"


def test_creating_an_endpoint_with_its_own_secret(auth_client, admin_user):
    secret = "a-secret-the-receiver-chose-123456"

    response = auth_client(admin_user).post(
        LIST_URL,
        {"url": "https://hooks.example.com/lms", "events": ["order.paid"], "secret": secret},
    )

    assert response.json()["secret"] == secret
    assert WebhookEndpoint.objects.get().secret == secret


@pytest.mark.parametrize(
    ("_case", "payload", "field"),
    [
        ("unknown event", {"url": "https://a.example.com/", "events": ["order.lost"]}, "events"),
        ("no events", {"url": "https://a.example.com/", "events": []}, "events"),
        ("not a url", {"url": "hooks", "events": ["order.paid"]}, "url"),
        (
            "short secret",
            {"url": "https://a.example.com/", "events": ["order.paid"], "secret": "short"},
            "secret",
        ),
    ],
)
def test_creating_an_endpoint_validates_the_input(auth_client, admin_user, _case, payload, field):
    response = auth_client(admin_user).post(LIST_URL, payload)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]
    assert not WebhookEndpoint.objects.exists()


def test_a_private_url_is_refused_in_production(auth_client, admin_user, settings):
    settings.WEBHOOKS_ALLOW_INSECURE_URLS = False

    response = auth_client(admin_user).post(
        LIST_URL, {"url": "https://169.254.169.254/latest", "events": ["order.paid"]}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "webhook_url_refused"
    assert "url" in response.json()["fields"]


def test_patching_an_endpoint_changes_only_what_is_sent(auth_client, admin_user):
    endpoint = WebhookEndpointFactory(events=["order.paid"], description="old")

    response = auth_client(admin_user).patch(
        detail_url(endpoint), {"events": ["order.refunded"], "is_active": False}
    )

    endpoint.refresh_from_db()
    assert response.status_code == 200
    assert endpoint.events == ["order.refunded"]
    assert endpoint.is_active is False
    assert endpoint.description == "old"


def test_patching_the_secret_rotates_it(auth_client, admin_user):
    endpoint = WebhookEndpointFactory()

    response = auth_client(admin_user).patch(
        detail_url(endpoint), {"secret": "whsec_rotated_secret_000000000000"}
    )

    endpoint.refresh_from_db()
    assert response.status_code == 200
    assert "secret" not in response.json()
    assert endpoint.secret == "whsec_rotated_secret_000000000000"


def test_deleting_an_endpoint(auth_client, admin_user):
    endpoint = WebhookEndpointFactory()

    response = auth_client(admin_user).delete(detail_url(endpoint))

    assert response.status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_an_unknown_endpoint_is_404(auth_client, admin_user):
    response = auth_client(admin_user).get(
        reverse("webhooks_api:webhook-endpoint-detail", args=[uuid.uuid4()])
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_deliveries_show_the_event_and_every_attempt(auth_client, admin_user):
    delivery = WebhookDeliveryFactory()
    WebhookAttempt.objects.create(
        delivery=delivery, number=1, outcome="retry", status_code=503, duration_ms=12
    )

    response = auth_client(admin_user).get(deliveries_url(delivery.endpoint))

    row = response.json()["results"][0]
    assert row["id"] == str(delivery.pk)
    assert row["event"]["type"] == "enrollment.created"
    assert row["event"]["data"] == delivery.event.data
    assert row["status"] == "pending"
    assert row["attempts"] == [
        {
            "number": 1,
            "attempted_at": row["attempts"][0]["attempted_at"],
            "outcome": "retry",
            "status_code": 503,
            "duration_ms": 12,
            "response_excerpt": "",
            "error": "",
        }
    ]


def test_deliveries_filter_by_status(auth_client, admin_user):
    failed = WebhookDeliveryFactory(failed=True)
    WebhookDeliveryFactory(endpoint=failed.endpoint)

    response = auth_client(admin_user).get(deliveries_url(failed.endpoint), {"status": "failed"})

    assert [row["id"] for row in response.json()["results"]] == [str(failed.pk)]


@pytest.mark.parametrize("count", [5, 50])
def test_listing_endpoints_takes_the_same_queries_for_5_and_50(
    auth_client, admin_user, django_assert_num_queries, count
):
    WebhookEndpointFactory.create_batch(count)
    client = auth_client(admin_user)

    with django_assert_num_queries(2):  # count, page
        response = client.get(LIST_URL, {"page_size": 100})

    assert response.json()["count"] == count


@pytest.mark.parametrize("count", [5, 50])
def test_listing_deliveries_takes_the_same_queries_for_5_and_50(
    auth_client, admin_user, django_assert_num_queries, count
):
    endpoint = WebhookEndpointFactory()
    for delivery in WebhookDeliveryFactory.create_batch(count, endpoint=endpoint):
        WebhookAttempt.objects.create(
            delivery=delivery, number=1, outcome="failed", status_code=400, duration_ms=3
        )
    client = auth_client(admin_user)

    with django_assert_num_queries(4):  # endpoint, count, page with events, attempts
        response = client.get(deliveries_url(endpoint), {"page_size": 100})

    assert response.json()["count"] == count


@pytest.mark.django_db(transaction=True)
def test_redelivering_through_the_api(auth_client, admin_user, receiver):
    delivery = WebhookDeliveryFactory(
        endpoint=WebhookEndpointFactory(url=receiver.url), failed=True
    )

    response = auth_client(admin_user).post(redeliver_url(delivery))

    delivery.refresh_from_db()
    assert response.status_code == 202
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert len(receiver.requests) == 1


@pytest.mark.parametrize(("_case", "role_user", "expected"), ROLES[:3], indirect=["role_user"])
def test_redelivering_is_for_admins(auth_client, role_user, _case, expected):
    delivery = WebhookDeliveryFactory(failed=True)

    response = auth_client(role_user).post(redeliver_url(delivery))

    delivery.refresh_from_db()
    assert response.status_code == expected
    assert delivery.status == WebhookDelivery.Status.FAILED


# --- A receiver never blocks or breaks the request that caused the event ---------------------
@pytest.fixture
def tasks_go_to_the_broker():
    """As in production: tasks are sent to the (in-memory) broker, nothing runs them."""
    was_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = was_eager


def enroll(client, course):
    return client.post(reverse("enrollments_api:course-enroll", args=[course.pk]))


@pytest.mark.django_db(transaction=True)
def test_the_request_does_not_wait_for_the_receiver(
    auth_client, student, receiver, tasks_go_to_the_broker
):
    receiver.default = Reply(status=500, delay=1)
    endpoint = WebhookEndpointFactory(url=receiver.url, events=[events.ENROLLMENT_CREATED])
    course = course_with_content(published=True)

    response = enroll(auth_client(student), course)

    assert response.status_code == 201
    assert receiver.requests == []  # the delivery was queued, not sent during the request
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.attempt_count == 0
    tasks.webhook_endpoint_deliver_task.apply(args=[str(endpoint.pk)])  # the worker's turn
    delivery.refresh_from_db()
    assert delivery.attempts.get().status_code == 500
    assert delivery.status == WebhookDelivery.Status.PENDING


@pytest.mark.django_db(transaction=True)
def test_a_failing_receiver_does_not_break_the_request_when_tasks_run_eagerly(
    auth_client, student, receiver
):
    receiver.default = Reply(status=500)
    WebhookEndpointFactory(url=receiver.url, events=[events.ENROLLMENT_CREATED])
    course = course_with_content(published=True)

    response = enroll(auth_client(student), course)

    assert response.status_code == 201
    assert WebhookAttempt.objects.get().outcome == WebhookAttempt.Outcome.RETRY


@pytest.mark.django_db(transaction=True)
def test_a_broker_outage_does_not_break_the_request_and_the_sweep_sends_later(
    auth_client, student, receiver, monkeypatch
):
    endpoint = WebhookEndpointFactory(url=receiver.url, events=[events.ENROLLMENT_CREATED])
    course = course_with_content(published=True)

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    with monkeypatch.context() as patch:
        patch.setattr(tasks.webhook_endpoint_deliver_task, "delay", broker_down)
        response = enroll(auth_client(student), course)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert response.status_code == 201
    assert delivery.status == WebhookDelivery.Status.PENDING
    tasks.webhook_deliveries_dispatch_due_task.apply()

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert json.loads(receiver.requests[0].body)["type"] == "enrollment.created"
