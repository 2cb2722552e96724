import uuid
from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from lms import events
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent


class WebhookEndpointFactory(DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    url = factory.Sequence(lambda n: f"https://hooks{n}.example.com/lms")
    events = factory.LazyFunction(lambda: list(events.EVENT_TYPES))
    secret = factory.Sequence(lambda n: f"whsec_test_secret_{n:08d}_abcdefghijklmnop")

    class Params:
        inactive = factory.Trait(is_active=False)


class WebhookEventFactory(DjangoModelFactory):
    class Meta:
        model = WebhookEvent

    id = factory.LazyFunction(uuid.uuid4)
    type = events.ENROLLMENT_CREATED
    occurred_at = factory.LazyFunction(timezone.now)
    data = factory.LazyFunction(lambda: {"enrollment_id": str(uuid.uuid4())})


class WebhookDeliveryFactory(DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    endpoint = factory.SubFactory(WebhookEndpointFactory)
    event = factory.SubFactory(WebhookEventFactory)
    queued_at = factory.LazyFunction(timezone.now)
    next_attempt_at = factory.LazyAttribute(lambda delivery: delivery.queued_at)
    deliver_until = factory.LazyAttribute(lambda delivery: delivery.queued_at + timedelta(hours=24))

    class Params:
        failed = factory.Trait(status=WebhookDelivery.Status.FAILED, attempt_count=1)
        succeeded = factory.Trait(
            status=WebhookDelivery.Status.SUCCEEDED,
            attempt_count=1,
            delivered_at=factory.LazyFunction(timezone.now),
        )
