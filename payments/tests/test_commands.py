"""manage.py reconcile_payments."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from enrollments.models import Enrollment
from payments.models import Order
from payments.services import order_checkout
from payments.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def _reconcile(*args: str) -> str:
    out = StringIO()
    call_command("reconcile_payments", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def order(student, paid_course):
    return order_checkout(user=student, course=paid_course).order


def test_reconcile_applies_payments_and_reports_them(student, order, stripe_api):
    stripe_api.pay(order.provider_session_id)

    output = _reconcile()

    order.refresh_from_db()
    assert f"{order.number}: pending -> paid (Paid and enrolled.)" in output
    assert "1 pending order(s) checked, 1 changed, 0 not checked." in output
    assert order.status == Order.Status.PAID
    assert Enrollment.objects.get(user=student).source == "purchase"


def test_reconcile_expires_checkouts_stripe_expired(order, stripe_api):
    stripe_api.sessions[order.provider_session_id]["status"] = "expired"

    output = _reconcile()

    order.refresh_from_db()
    assert f"{order.number}: pending -> expired" in output
    assert order.status == Order.Status.EXPIRED


def test_reconcile_reports_open_checkouts_unchanged(order):
    output = _reconcile()

    assert f"{order.number}: unchanged, pending (Checkout still open (unpaid).)" in output


def test_reconcile_since_skips_older_orders(order, stripe_api):
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(days=3))
    stripe_api.pay(order.provider_session_id)

    output = _reconcile("--since", "2d")

    order.refresh_from_db()
    assert "0 pending order(s) checked" in output
    assert order.status == Order.Status.PENDING


@pytest.mark.parametrize("since", ["12h", "30m", "2020-01-01", "2020-01-01T10:00:00Z"])
def test_reconcile_accepts_durations_and_dates(order, since):
    assert "1 pending order(s) checked" in _reconcile("--since", since)


def test_reconcile_rejects_a_bad_since():
    with pytest.raises(CommandError, match="--since 'yesterday'"):
        _reconcile("--since", "yesterday")


def test_reconcile_exits_non_zero_when_stripe_does_not_answer(order, stripe_api):
    for _ in range(3):
        stripe_api.fail_next.append((500, {"type": "api_error"}))

    with pytest.raises(CommandError, match="1 order"):
        _reconcile()

    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_reconcile_without_a_secret_key_checks_nothing(settings, student, paid_course):
    OrderFactory(user=student, course=paid_course)
    settings.STRIPE_SECRET_KEY = ""

    with pytest.raises(CommandError):
        _reconcile()
