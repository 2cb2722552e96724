from django.apps import AppConfig


def _pending_deliveries() -> float:
    from webhooks.models import WebhookDelivery

    return WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).count()


class WebhooksConfig(AppConfig):
    """Outgoing webhooks: endpoints, the event outbox, signed deliveries with retries."""

    name = "webhooks"
    verbose_name = "Outgoing webhooks"

    def ready(self) -> None:
        from lms import events, metrics
        from webhooks.services import webhook_event_record

        # Every domain event is recorded for its subscribed endpoints in the transaction that
        # caused it (the outbox).
        events.subscribe(webhook_event_record)
        metrics.register_scrape_gauge(
            "lms_webhook_deliveries_pending",
            "Webhook deliveries not yet delivered or given up.",
            _pending_deliveries,
        )
