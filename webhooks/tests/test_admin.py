"""The webhooks back office: admins only; endpoints saved through the services; deliveries
read-only with their attempts and a redeliver action."""

import pytest
from django.urls import reverse

from lms import events
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.tests.factories import WebhookDeliveryFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db

ENDPOINTS_URL = reverse("admin:webhooks_webhookendpoint_changelist")
ADD_URL = reverse("admin:webhooks_webhookendpoint_add")
DELIVERIES_URL = reverse("admin:webhooks_webhookdelivery_changelist")


@pytest.mark.parametrize(
    ("_case", "role_user", "expected"),
    [("_instructor", "instructor", 403), ("_admin", "admin_user", 200)],
    indirect=["role_user"],
)
def test_only_admins_see_the_webhooks_admin(client, role_user, _case, expected):
    client.force_login(role_user)

    assert client.get(ENDPOINTS_URL).status_code == expected
    assert client.get(DELIVERIES_URL).status_code == expected


def test_an_admin_adds_an_endpoint_with_a_generated_secret(client, admin_user):
    client.force_login(admin_user)
    form = client.get(ADD_URL).context["adminform"].form

    response = client.post(
        ADD_URL,
        {
            "url": "https://hooks.example.com/lms",
            "description": "CRM",
            "events": [events.ORDER_PAID, events.ENROLLMENT_CREATED],
            "secret": form["secret"].value(),
            "is_active": "on",
        },
    )

    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302
    assert endpoint.events == [events.ENROLLMENT_CREATED, events.ORDER_PAID]
    assert endpoint.secret.startswith("whsec_")


def test_the_admin_form_refuses_a_private_url_in_production(client, admin_user, settings):
    settings.WEBHOOKS_ALLOW_INSECURE_URLS = False
    client.force_login(admin_user)

    response = client.post(
        ADD_URL,
        {
            "url": "https://127.0.0.1/hooks",
            "events": [events.ORDER_PAID],
            "secret": "whsec_0123456789abcdef0123",
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    assert "public address" in str(response.context["adminform"].form.errors["url"])
    assert not WebhookEndpoint.objects.exists()


def test_a_delivery_page_shows_every_attempt(client, admin_user):
    delivery = WebhookDeliveryFactory()
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=1,
        outcome="retry",
        status_code=503,
        duration_ms=87,
        response_excerpt="upstream unavailable",
    )
    client.force_login(admin_user)

    response = client.get(reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk]))

    assert response.status_code == 200
    assert b"upstream unavailable" in response.content
    assert b"503" in response.content


@pytest.mark.django_db(transaction=True)
def test_the_redeliver_action_sends_again(client, admin_user, receiver):
    delivery = WebhookDeliveryFactory(
        endpoint=WebhookEndpointFactory(url=receiver.url), failed=True
    )
    client.force_login(admin_user)

    response = client.post(
        DELIVERIES_URL, {"action": "redeliver", "_selected_action": [str(delivery.pk)]}
    )

    delivery.refresh_from_db()
    assert response.status_code == 302
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert len(receiver.requests) == 1
