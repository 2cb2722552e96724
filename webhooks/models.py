"""Outgoing webhooks: endpoints staff register, the events recorded for them, and deliveries.

An event published through `lms.events` is recorded once (WebhookEvent), with one
WebhookDelivery per subscribed endpoint, in the transaction that caused it (the outbox).
Every HTTP attempt of a delivery is kept as a WebhookAttempt.
"""

import secrets

from django.db import models
from django.db.models import Q

from lms import events
from lms.models import BaseModel

SECRET_PREFIX = "whsec_"  # noqa: S105 -- a prefix, not a secret


def webhook_secret_generate() -> str:
    """A random signing secret (256 bits), shown to staff so receivers can verify signatures."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class WebhookEndpoint(BaseModel):
    """A receiver URL with its signing secret and the event types it subscribes to."""

    url = models.URLField(max_length=2000, help_text="Where events are POSTed.")
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(
        max_length=128,
        default=webhook_secret_generate,
        help_text="Signs every delivery (HMAC-SHA256); the receiver keeps a copy.",
    )
    events = models.JSONField(default=list, help_text="The event types sent to this endpoint.")
    is_active = models.BooleanField(
        default=True, help_text="Inactive endpoints get no new events and nothing is sent."
    )
    # One sender at a time per endpoint keeps its deliveries in order: a worker holds this
    # lease (renewed per attempt) while it sends; an expired lease is free again.
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.url


class WebhookEvent(BaseModel):
    """One published event that at least one endpoint subscribed to. Its id is the event id."""

    type = models.CharField(max_length=50, choices=[(name, name) for name in events.EVENT_TYPES])
    occurred_at = models.DateTimeField()
    data = models.JSONField()

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["type", "-occurred_at"], name="webhooks_event_type_time")]

    def __str__(self) -> str:
        return f"{self.type} {self.pk}"


class WebhookDelivery(BaseModel):
    """An event on its way to one endpoint: pending until it succeeds or is given up."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    # Deliveries of one endpoint are sent in this order; a redelivery joins the end.
    queued_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    # Retries stop (the delivery fails) once the next attempt would come after this.
    deliver_until = models.DateTimeField()
    attempt_count = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-queued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event"], name="webhooks_one_delivery_per_endpoint"
            ),
            models.CheckConstraint(
                condition=~Q(status="succeeded") | Q(delivered_at__isnull=False),
                name="webhooks_succeeded_has_time",
            ),
        ]
        indexes = [
            models.Index(
                fields=["endpoint", "queued_at"],
                condition=Q(status="pending"),
                name="webhooks_pending_in_order",
            ),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhooks_pending_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint}"


class WebhookAttempt(BaseModel):
    """One HTTP attempt of a delivery: what came back and how long it took."""

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        RETRY = "retry", "Failed, will retry"
        FAILED = "failed", "Failed"

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField()
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["delivery", "number"], name="webhooks_attempt_number_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"
