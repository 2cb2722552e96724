from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import UserFactory
from courses.tests.factories import CourseFactory
from payments.models import Coupon, Order


class CouponFactory(DjangoModelFactory):
    """A 20 % coupon for every course; `amount=True` for 10.00 USD off."""

    class Meta:
        model = Coupon

    code = factory.Sequence(lambda n: f"SAVE{n:03d}")
    kind = Coupon.Kind.PERCENT
    percent_off = 20

    class Params:
        amount = factory.Trait(
            kind=Coupon.Kind.AMOUNT, percent_off=None, amount_off=1000, currency="USD"
        )


class OrderFactory(DjangoModelFactory):
    """A pending Stripe order for a paid course; `paid=True` with a payment intent."""

    class Meta:
        model = Order

    user = factory.SubFactory(UserFactory)
    course = factory.SubFactory(CourseFactory, published=True, paid=True)
    list_amount = factory.LazyAttribute(lambda order: order.course.price_amount)
    discount_amount = 0
    amount = factory.LazyAttribute(lambda order: order.list_amount - order.discount_amount)
    currency = factory.LazyAttribute(lambda order: order.course.currency)
    provider = "stripe"
    provider_session_id = factory.Sequence(lambda n: f"cs_test_factory_{n}")
    checkout_url = factory.LazyAttribute(
        lambda order: f"https://checkout.stripe.test/{order.provider_session_id}"
    )
    checkout_expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=1))

    class Params:
        paid = factory.Trait(
            status=Order.Status.PAID,
            paid_at=factory.LazyFunction(timezone.now),
            provider_payment_intent_id=factory.Sequence(lambda n: f"pi_test_factory_{n}"),
        )
