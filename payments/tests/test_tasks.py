"""The periodic expiry of stale pending orders."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from payments import tasks
from payments.models import Coupon, Order
from payments.tests.factories import CouponFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_expiry_is_scheduled_for_beat():
    entry = django_settings.CELERY_BEAT_SCHEDULE["expire-stale-orders"]

    assert entry["task"] == tasks.orders_expire_stale_task.name


def test_expiry_task_expires_stale_orders_and_releases_their_coupon(student, paid_course):
    coupon = CouponFactory(max_redemptions=1, redemption_count=1)
    order = OrderFactory(
        user=student,
        course=paid_course,
        coupon=coupon,
        coupon_held=True,
        provider_session_id="",
        checkout_expires_at=timezone.now() - timedelta(hours=1),
    )

    result = tasks.orders_expire_stale_task.delay().get()

    order.refresh_from_db()
    assert result["expired"] == 1
    assert order.status == Order.Status.EXPIRED
    assert Coupon.objects.get(pk=coupon.pk).redemption_count == 0


def test_expiry_task_leaves_orders_flagged_for_review(student, paid_course):
    order = OrderFactory(
        user=student,
        course=paid_course,
        needs_review=True,
        checkout_expires_at=timezone.now() - timedelta(hours=1),
    )

    tasks.orders_expire_stale_task.delay().get()

    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_expiry_task_re_enqueues_itself_after_a_full_batch(student, monkeypatch, paid_course):
    monkeypatch.setattr(tasks, "BATCH", 2)
    for _ in range(3):
        OrderFactory(
            course=paid_course,
            provider_session_id="",
            checkout_expires_at=timezone.now() - timedelta(hours=1),
        )

    tasks.orders_expire_stale_task.delay().get()

    assert Order.objects.filter(status=Order.Status.EXPIRED).count() == 3
