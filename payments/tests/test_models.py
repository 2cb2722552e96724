"""Constraints that hold whatever the code does."""

import pytest
from django.db import IntegrityError, transaction

from payments.models import Order
from payments.tests.factories import CouponFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_one_pending_order_per_learner_and_course(student, paid_course):
    OrderFactory(user=student, course=paid_course)

    with pytest.raises(IntegrityError), transaction.atomic():
        OrderFactory(user=student, course=paid_course)


def test_closed_orders_do_not_block_a_new_pending_one(student, paid_course):
    OrderFactory(user=student, course=paid_course, status="expired")

    OrderFactory(user=student, course=paid_course)

    assert Order.objects.count() == 2


def test_amount_is_list_price_minus_discount(paid_course):
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderFactory(course=paid_course, discount_amount=100, amount=4900)


def test_refund_cannot_exceed_the_amount(paid_course):
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderFactory(course=paid_course, paid=True, amount_refunded=5000)


def test_a_checkout_session_belongs_to_one_order(paid_course):
    OrderFactory(course=paid_course, provider_session_id="cs_same")

    with pytest.raises(IntegrityError), transaction.atomic():
        OrderFactory(course=paid_course, provider_session_id="cs_same")


def test_coupon_redemptions_never_exceed_the_limit():
    with pytest.raises(IntegrityError), transaction.atomic():
        CouponFactory(max_redemptions=1, redemption_count=2)


def test_a_percent_coupon_is_between_1_and_100():
    with pytest.raises(IntegrityError), transaction.atomic():
        CouponFactory(percent_off=120)


def test_an_amount_coupon_needs_its_currency():
    with pytest.raises(IntegrityError), transaction.atomic():
        CouponFactory(amount=True, currency="")


def test_order_transitions_never_leave_refunded():
    assert Order.TRANSITIONS[Order.Status.REFUNDED] == frozenset()
    assert all(Order.Status.PENDING not in targets for targets in Order.TRANSITIONS.values())
