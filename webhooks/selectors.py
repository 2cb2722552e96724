import uuid

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def webhook_endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.order_by("created_at", "pk")


def webhook_endpoint_get(*, pk: uuid.UUID) -> WebhookEndpoint:
    return get_object_or_404(WebhookEndpoint, pk=pk)


def webhook_delivery_list(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """An endpoint's deliveries, newest first, with their event and every attempt."""
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        .prefetch_related(Prefetch("attempts", queryset=WebhookAttempt.objects.order_by("number")))
        .order_by("-queued_at", "-pk")
    )


def webhook_delivery_get(*, endpoint: WebhookEndpoint, pk: uuid.UUID) -> WebhookDelivery:
    return get_object_or_404(webhook_delivery_list(endpoint=endpoint), pk=pk)
