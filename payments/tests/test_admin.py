"""The back office: orders (filters, search, read-only money, refund), coupons, events, revenue."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from courses.tests.factories import course_with_content
from payments.models import Coupon, Order
from payments.tests.factories import CouponFactory, OrderFactory

pytestmark = pytest.mark.django_db

ORDERS_URL = reverse("admin:payments_order_changelist")
COUPONS_URL = reverse("admin:payments_coupon_changelist")
EVENTS_URL = reverse("admin:payments_webhookevent_changelist")
REVENUE_URL = reverse("admin:payments_order_revenue")


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def listed(response):
    return {row.pk for row in response.context["cl"].result_list}


@pytest.fixture
def back_office(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("url", [ORDERS_URL, COUPONS_URL, EVENTS_URL, REVENUE_URL])
def test_instructors_do_not_see_payments(client, instructor, url):
    client.force_login(instructor)

    response = client.get(url)

    assert response.status_code == 403


def test_admins_list_orders_filtered_by_status(back_office, paid_course):
    paid = OrderFactory(course=paid_course, paid=True)
    OrderFactory(course=paid_course)

    response = back_office.get(ORDERS_URL, {"status__exact": "paid"})

    assert response.status_code == 200
    assert listed(response) == {paid.pk}


def test_admins_filter_orders_needing_review(back_office, paid_course):
    flagged = OrderFactory(course=paid_course, needs_review=True)
    OrderFactory(course=paid_course)

    response = back_office.get(ORDERS_URL, {"needs_review__exact": "1"})

    assert listed(response) == {flagged.pk}


def test_admins_search_orders_by_buyer_email_and_number(back_office, paid_course):
    order = OrderFactory(course=paid_course)
    OrderFactory(course=paid_course)

    by_email = back_office.get(ORDERS_URL, {"q": order.user.email})
    by_number = back_office.get(ORDERS_URL, {"q": order.number})

    assert listed(by_email) == {order.pk}
    assert listed(by_number) == {order.pk}


def test_order_page_is_read_only(back_office, paid_course):
    order = OrderFactory(course=paid_course, paid=True)
    url = reverse("admin:payments_order_change", args=[order.pk])

    page = back_office.get(url)
    back_office.post(url, {"amount": 1, "status": "refunded"})

    order.refresh_from_db()
    assert page.status_code == 200
    assert "49.00 USD" in page.content.decode()
    assert 'name="amount"' not in page.content.decode()
    assert (order.amount, order.status) == (4900, "paid")


def test_orders_cannot_be_added_or_deleted(back_office, paid_course):
    order = OrderFactory(course=paid_course)

    assert back_office.get(reverse("admin:payments_order_add")).status_code == 403
    assert (
        back_office.get(reverse("admin:payments_order_delete", args=[order.pk])).status_code == 403
    )


def test_refund_action_asks_stripe_per_order(back_office, paid_course, stripe_api):
    order = OrderFactory(course=paid_course, paid=True)

    response = back_office.post(
        ORDERS_URL, {"action": "refund_orders", "_selected_action": [str(order.pk)]}, follow=True
    )

    [params] = stripe_api.calls("POST", "/v1/refunds")
    assert params["payment_intent"] == order.provider_payment_intent_id
    assert any("refund re_test_" in message for message in messages_of(response))
    order.refresh_from_db()
    assert order.status == Order.Status.PAID  # until Stripe's refund event arrives


def test_refund_action_reports_orders_it_cannot_refund(back_office, paid_course, stripe_api):
    order = OrderFactory(course=paid_course)

    response = back_office.post(
        ORDERS_URL, {"action": "refund_orders", "_selected_action": [str(order.pk)]}, follow=True
    )

    assert stripe_api.refunds == []
    assert any("order_not_refundable" in message for message in messages_of(response))


def test_resolve_review_action_clears_the_flag(back_office, paid_course):
    order = OrderFactory(course=paid_course, needs_review=True, review_reason="Amount mismatch")

    back_office.post(ORDERS_URL, {"action": "resolve_review", "_selected_action": [str(order.pk)]})

    order.refresh_from_db()
    assert order.needs_review is False


def test_revenue_view_lists_money_per_course(back_office, paid_course):
    OrderFactory(course=paid_course, paid=True)
    OrderFactory(course=paid_course, paid=True, amount_refunded=900)
    other = course_with_content(published=True, paid=True, title="Other course")
    OrderFactory(course=other, status="refunded", amount_refunded=4900, refunded_at=timezone.now())

    response = back_office.get(REVENUE_URL)

    rows = {row["course__title"]: row for row in response.context["rows"]}
    assert response.status_code == 200
    assert (rows[paid_course.title]["gross"], rows[paid_course.title]["net"]) == (9800, 8900)
    assert rows["Other course"]["net"] == 0
    assert "89.00 USD" in response.content.decode()


def test_order_list_links_to_the_revenue_view(back_office):
    assert REVENUE_URL in back_office.get(ORDERS_URL).content.decode()


def test_admins_add_a_coupon_through_the_service(back_office, admin_user):
    response = back_office.post(
        reverse("admin:payments_coupon_add"),
        {"code": "spring", "kind": "percent", "percent_off": "15", "is_active": "on"},
    )

    coupon = Coupon.objects.get()
    assert response.status_code == 302
    assert (coupon.code, coupon.percent_off, coupon.created_by) == ("SPRING", 15, admin_user)


def test_admins_change_a_coupons_limit_but_not_its_discount(back_office):
    coupon = CouponFactory(percent_off=10)
    url = reverse("admin:payments_coupon_change", args=[coupon.pk])

    response = back_office.post(
        url, {"percent_off": "90", "max_redemptions": "3", "is_active": "on"}
    )

    coupon.refresh_from_db()
    assert response.status_code == 302
    assert (coupon.percent_off, coupon.max_redemptions) == (10, 3)


def test_admins_list_coupons_and_events(back_office):
    CouponFactory()

    assert back_office.get(COUPONS_URL).status_code == 200
    assert back_office.get(EVENTS_URL).status_code == 200
