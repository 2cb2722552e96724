from rest_framework import serializers

from lms import events
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

EVENT_TYPE_HELP = "Event types to receive: " + ", ".join(events.EVENT_TYPES) + "."


class WebhookEndpointOutputSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.CharField(), help_text=EVENT_TYPE_HELP)

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "events", "is_active", "created_at", "updated_at"]
        read_only_fields = fields


class WebhookEndpointCreatedOutputSerializer(WebhookEndpointOutputSerializer):
    """The new endpoint with its signing secret: the only response that shows the secret."""

    class Meta(WebhookEndpointOutputSerializer.Meta):
        fields = [*WebhookEndpointOutputSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointCreateInputSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=2000)
    events = serializers.MultipleChoiceField(
        choices=events.EVENT_TYPES, allow_empty=False, help_text=EVENT_TYPE_HELP
    )
    secret = serializers.CharField(
        min_length=24,
        max_length=128,
        required=False,
        write_only=True,
        help_text="The signing secret; generated when left out (the response shows it once).",
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False, default=True)


class WebhookEndpointUpdateInputSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=2000, required=False)
    events = serializers.MultipleChoiceField(
        choices=events.EVENT_TYPES, allow_empty=False, required=False, help_text=EVENT_TYPE_HELP
    )
    secret = serializers.CharField(
        min_length=24,
        max_length=128,
        required=False,
        write_only=True,
        help_text="A new signing secret (rotation); receivers must switch to it.",
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class WebhookEventOutputSerializer(serializers.ModelSerializer):
    data = serializers.DictField(help_text="The event's payload, as sent to the receiver.")

    class Meta:
        model = WebhookEvent
        fields = ["id", "type", "occurred_at", "data"]
        read_only_fields = fields


class WebhookAttemptOutputSerializer(serializers.ModelSerializer):
    attempted_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = WebhookAttempt
        fields = [
            "number",
            "attempted_at",
            "outcome",
            "status_code",
            "duration_ms",
            "response_excerpt",
            "error",
        ]
        read_only_fields = fields


class WebhookDeliveryOutputSerializer(serializers.ModelSerializer):
    event = WebhookEventOutputSerializer(read_only=True)
    attempts = WebhookAttemptOutputSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "status",
            "attempt_count",
            "last_status_code",
            "last_error",
            "queued_at",
            "next_attempt_at",
            "deliver_until",
            "delivered_at",
            "attempts",
        ]
        read_only_fields = fields
