"""The buying pages: the buy form's checkout, the hand-over to Stripe (faked at the HTTP layer
by conftest.FakeStripe), the order (return) page and my orders."""

import os
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from courses.tests.factories import CourseFactory, course_with_content
from enrollments.models import Enrollment
from enrollments.services import enrollment_create
from enrollments.tests.factories import EnrollmentFactory
from lms import settings as project_settings
from payments.models import Order
from payments.tests.conftest import completed_event, post_event
from payments.tests.factories import CouponFactory, OrderFactory

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "student", "other_student", "instructor", "other_instructor", "admin_user"]


def _expect(**outcomes) -> list:
    return [pytest.param(role, outcomes[role], id=f"_case {role}") for role in ROLES]


def _text(response) -> str:
    return response.content.decode()


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _buy(client: Client, course, **data):
    return client.post(f"/courses/{course.slug}/buy/", data)


def _order_url(order: Order) -> str:
    return f"/orders/{order.pk}/"


@pytest.fixture
def pending_order(student, paid_course) -> Order:
    return OrderFactory(user=student, course=paid_course)


# --- The buy form on the course page ---------------------------------------------------------


def test_the_course_page_of_a_paid_course_has_the_buy_form(page_client, student, paid_course):
    body = _text(page_client(student).get(f"/courses/{paid_course.slug}/"))

    assert f'action="/courses/{paid_course.slug}/buy/"' in body
    assert '<label for="id_coupon">Coupon code' in body
    assert "Buy now" in body
    assert "Enrol for free" not in body


def test_visitors_are_asked_to_log_in_to_buy(client, paid_course):
    body = _text(client.get(f"/courses/{paid_course.slug}/"))

    assert f'href="/accounts/login/?next=/courses/{paid_course.slug}/">Log in to buy</a>' in body
    assert "Buy now" not in body


def test_a_full_paid_course_offers_no_buy_form(page_client, student):
    course = course_with_content(published=True, paid=True, seat_capacity=1, enrollment_count=1)

    body = _text(page_client(student).get(f"/courses/{course.slug}/"))

    assert "Every seat in this course is taken." in body
    assert "Buy now" not in body


# --- Checkout --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous="/accounts/login/",
        student="pay",
        other_student="pay",
        instructor="pay",  # as in the API: the owner sees no buy form, but may buy
        other_instructor="pay",
        admin_user="pay",
    ),
    indirect=["role_user"],
)
def test_checkout_per_role(page_client, paid_course, role_user, expected):
    response = _buy(page_client(role_user), paid_course)

    assert response.status_code == 302
    if expected == "pay":
        order = Order.objects.get(user=role_user)
        assert response["Location"] == f"/orders/{order.pk}/pay/"
    else:
        assert response["Location"].startswith(f"{expected}?next=")
        assert not Order.objects.exists()


def test_buying_opens_a_pending_order_with_a_stripe_checkout(
    page_client, student, paid_course, stripe_api
):
    _buy(page_client(student), paid_course)

    order = Order.objects.get()
    assert (order.status, order.amount, order.currency) == ("pending", 4900, "USD")
    assert order.checkout_url == f"https://checkout.stripe.test/c/pay/{order.provider_session_id}"
    sessions = stripe_api.calls("POST", "/v1/checkout/sessions")
    assert len(sessions) == 1
    assert sessions[0]["success_url"].startswith(f"https://app.test/orders/{order.pk}/")


def test_the_pay_page_hands_over_to_the_checkout_page(page_client, student, paid_course):
    client = page_client(student)
    _buy(client, paid_course)
    order = Order.objects.get()

    response = client.get(f"/orders/{order.pk}/pay/")

    body = _text(response)
    assert f'<meta http-equiv="refresh" content="0; url={order.checkout_url}">' in body
    assert f'href="{order.checkout_url}">Continue to the payment page</a>' in body
    assert "no-store" in response["Cache-Control"]
    assert "form-action 'self'" in response["Content-Security-Policy"]


def test_buying_again_returns_to_the_same_open_checkout(
    page_client, student, paid_course, stripe_api
):
    client = page_client(student)
    first = _buy(client, paid_course)

    second = _buy(client, paid_course)

    assert first["Location"] == second["Location"]
    assert Order.objects.count() == 1
    assert len(stripe_api.calls("POST", "/v1/checkout/sessions")) == 1


def test_buying_with_a_coupon_charges_the_discounted_price(page_client, student, paid_course):
    CouponFactory(code="SPRING20", percent_off=20)

    _buy(page_client(student), paid_course, coupon=" spring20 ")

    order = Order.objects.get()
    assert (order.list_amount, order.discount_amount, order.amount) == (4900, 980, 3920)


def test_a_coupon_for_the_whole_price_enrols_at_once(page_client, student, paid_course, stripe_api):
    CouponFactory(code="FREEBIE", percent_off=100)

    response = _buy(page_client(student), paid_course, coupon="FREEBIE")

    order = Order.objects.get()
    assert response["Location"] == _order_url(order)
    assert order.status == Order.Status.PAID
    assert Enrollment.objects.get(user=student, course=paid_course).source == "purchase"
    assert stripe_api.requests == []


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        pytest.param("bad_coupon", "No coupon has this code.", id="_case unknown coupon"),
        pytest.param(
            "long_coupon", "A coupon code has at most 40 characters.", id="_case long coupon"
        ),
        pytest.param(
            "enrolled", "You are already enrolled in this course.", id="_case already enrolled"
        ),
        pytest.param(
            "no_key",
            "Payments are not available right now. Please try later.",
            id="_case no secret key",
        ),
        pytest.param(
            "unverified",
            "Verify your email address before you buy: follow the link in the email we sent "
            "you, or ask for a new one on your profile page.",
            id="_case email not verified",
        ),
        pytest.param("closed", "Enrolment for this course is closed.", id="_case enrolment closed"),
    ],
)
def test_checkout_refusals_are_messages_on_the_course_page(
    page_client, student, paid_course, settings, setup, message
):
    data = {}
    if setup == "bad_coupon":
        data = {"coupon": "NOSUCH"}
    elif setup == "long_coupon":
        data = {"coupon": "X" * 41}
    elif setup == "enrolled":
        enrollment_create(user=student, course=paid_course, source="admin")
    elif setup == "no_key":
        settings.STRIPE_SECRET_KEY = ""
    elif setup == "unverified":
        settings.ACCOUNTS_REQUIRE_VERIFIED_EMAIL = True
    elif setup == "closed":
        paid_course.enrollment_closes_at = timezone.now() - timedelta(days=1)
        paid_course.save(update_fields=["enrollment_closes_at"])

    response = page_client(student).post(f"/courses/{paid_course.slug}/buy/", data, follow=True)

    assert response.redirect_chain == [(f"/courses/{paid_course.slug}/", 302)]
    assert _messages(response) == [message]
    assert not Order.objects.exists()


def test_a_stripe_refusal_is_a_message(page_client, student, paid_course, stripe_api):
    stripe_api.fail_next.append((400, {"type": "invalid_request_error", "code": "x"}))

    response = _buy(page_client(student), paid_course)

    assert response["Location"] == f"/courses/{paid_course.slug}/"
    assert not Order.objects.filter(status="paid").exists()


def test_checkout_of_a_free_course_says_to_enrol(page_client, student):
    course = course_with_content(published=True)

    response = page_client(student).post(f"/courses/{course.slug}/buy/", follow=True)

    assert _messages(response) == ["This course is free: enrol without paying."]


def test_checkout_of_a_draft_is_not_found(page_client, student):
    course = course_with_content(paid=True)

    response = _buy(page_client(student), course)

    assert response.status_code == 404


def test_checkout_by_get_shows_the_course_page(page_client, student, paid_course):
    response = page_client(student).get(f"/courses/{paid_course.slug}/buy/")

    assert response["Location"] == f"/courses/{paid_course.slug}/"
    assert not Order.objects.exists()


def test_checkout_needs_the_csrf_token(student, paid_course):
    client = Client(enforce_csrf_checks=True)
    client.force_login(student)

    response = _buy(client, paid_course)

    assert response.status_code == 403
    assert not Order.objects.exists()


@pytest.mark.skipif(
    "STRIPE_SUCCESS_URL" in os.environ or "STRIPE_CANCEL_URL" in os.environ,
    reason="the environment sets the return URLs",
)
def test_stripe_sends_the_buyer_back_to_the_order_page_by_default():
    site = project_settings.SITE_URL
    success_url, cancel_url = (
        project_settings.STRIPE_SUCCESS_URL,
        project_settings.STRIPE_CANCEL_URL,
    )

    assert (success_url, cancel_url) == (
        f"{site}/orders/{{ORDER_ID}}/",
        f"{site}/orders/{{ORDER_ID}}/?checkout=cancelled",
    )


# --- The pay page ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param({"paid": True}, id="_case paid"),
        pytest.param(
            {"checkout_expires_at": timezone.now() - timedelta(minutes=1)}, id="_case expired"
        ),
        pytest.param({"checkout_url": "http://insecure.example/pay"}, id="_case not https"),
    ],
)
def test_the_pay_page_of_a_closed_checkout_shows_the_order(page_client, student, setup):
    order = OrderFactory(user=student, **setup)

    response = page_client(student).get(f"/orders/{order.pk}/pay/")

    assert response["Location"] == _order_url(order)


def test_the_pay_page_of_someone_elses_order_is_not_found(
    page_client, other_student, pending_order
):
    response = page_client(other_student).get(f"/orders/{pending_order.pk}/pay/")

    assert response.status_code == 404


# --- The order page (the return page) --------------------------------------------------------


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=302,
        student=200,
        other_student=404,
        instructor=404,  # the course's owner: orders are the buyer's
        other_instructor=404,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_order_page_per_role(page_client, pending_order, role_user, expected):
    response = page_client(role_user).get(_order_url(pending_order))

    assert response.status_code == expected
    if expected == 302:
        assert response["Location"] == f"/accounts/login/?next={_order_url(pending_order)}"


def test_an_unknown_order_is_not_found(page_client, student):
    response = page_client(student).get("/orders/00000000-0000-0000-0000-000000000000/")

    assert response.status_code == 404


def test_a_pending_order_waits_for_the_confirmation_and_checks_by_itself(
    page_client, student, pending_order
):
    response = page_client(student).get(_order_url(pending_order))

    body = _text(response)
    assert "Waiting for the payment confirmation" in body
    nonce = re.search(r'<script nonce="([^"]+)">', body).group(1)
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
    assert f"/api/v1/orders/{pending_order.pk}/" in body
    assert f'href="/orders/{pending_order.pk}/pay/">Not paid yet?' in body
    assert "no-store" in response["Cache-Control"]


def test_back_from_a_cancelled_checkout_nothing_is_charged(page_client, student, pending_order):
    response = page_client(student).get(_order_url(pending_order), {"checkout": "cancelled"})

    body = _text(response)
    assert "You left the payment page" in body
    assert "Nothing was charged." in body
    assert f'href="/orders/{pending_order.pk}/pay/">Return to the payment page</a>' in body
    assert "<script" not in body


def test_the_signed_webhook_turns_the_return_page_into_access(
    page_client, api_client, student, paid_course, stripe_api
):
    client = page_client(student)
    _buy(client, paid_course)
    order = Order.objects.get()
    stripe_api.pay(order.provider_session_id)

    post_event(api_client, completed_event(order))
    response = client.get(_order_url(order))

    body = _text(response)
    assert "You're enrolled!" in body
    assert f'href="/courses/{paid_course.slug}/">Go to the course</a>' in body
    assert "<script" not in body
    assert Enrollment.objects.get(user=student, course=paid_course).is_active


def test_a_paid_order_without_an_enrolment_says_the_team_will_help(page_client, student):
    order = OrderFactory(user=student, paid=True, needs_review=True)

    body = _text(page_client(student).get(_order_url(order)))

    assert "Payment received" in body
    assert "our team has been told" in body


@pytest.mark.parametrize(
    ("status", "heading"),
    [
        pytest.param("failed", "The payment did not go through", id="_case failed"),
        pytest.param("expired", "The payment page expired", id="_case expired"),
        pytest.param("cancelled", "This order was cancelled", id="_case cancelled"),
    ],
)
def test_an_order_without_payment_says_nothing_was_charged(page_client, student, status, heading):
    order = OrderFactory(user=student, status=status, closed_at=timezone.now())

    body = _text(page_client(student).get(_order_url(order)))

    assert heading in body
    assert "Nothing was charged." in body
    assert "/pay/" not in body


def test_a_refunded_order_says_so_with_the_amount(page_client, student):
    order = OrderFactory(
        user=student,
        paid=True,
        status="refunded",
        refunded_at=timezone.now(),
        amount_refunded=4900,
    )

    body = _text(page_client(student).get(_order_url(order)))

    assert "This order was refunded" in body
    assert "<dt>Refunded</dt><dd>49.00 USD</dd>" in body


def test_the_receipt_shows_the_amounts_from_minor_units(page_client, student):
    course = CourseFactory(published=True, price_amount=123456, currency="EUR")
    coupon = CouponFactory(
        code="TENOFF", kind="amount", percent_off=None, amount_off=1000, currency="EUR"
    )
    enrollment = EnrollmentFactory(user=student, course=course, source="purchase")
    order = OrderFactory(
        user=student,
        course=course,
        coupon=coupon,
        discount_amount=1000,
        paid=True,
        enrollment=enrollment,
    )

    body = _text(page_client(student).get(_order_url(order)))

    assert f'<dd data-testid="order-number">{order.number}</dd>' in body
    assert "<dt>Price</dt><dd>1,234.56 EUR</dd>" in body
    assert "<dt>Coupon TENOFF</dt><dd>\N{MINUS SIGN}10.00 EUR</dd>" in body
    assert '<dd class="total" data-testid="order-total">1,224.56 EUR</dd>' in body


def test_a_zero_decimal_currency_has_no_cents(page_client, student):
    course = CourseFactory(published=True, price_amount=5000, currency="JPY")
    order = OrderFactory(user=student, course=course)

    body = _text(page_client(student).get(_order_url(order)))

    assert '<dd class="total" data-testid="order-total">5,000 JPY</dd>' in body


# --- My orders ---------------------------------------------------------------------------------


def test_my_orders_sends_visitors_to_log_in(client):
    response = client.get("/orders/")

    assert response["Location"] == "/accounts/login/?next=/orders/"


@pytest.mark.parametrize(
    "role_user", ["student", "other_student", "instructor", "admin_user"], indirect=True
)
def test_my_orders_lists_only_the_signed_in_buyers_orders(page_client, student, role_user):
    OrderFactory(user=student, course=CourseFactory(title="The student's course", paid=True))

    body = _text(page_client(role_user).get("/orders/"))

    assert ("The student&#x27;s course" in body) == (role_user == student)


def test_my_orders_shows_each_receipt_newest_first(page_client, student):
    older = OrderFactory(user=student, paid=True)
    newer = OrderFactory(user=student)
    Order.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=2))

    response = page_client(student).get("/orders/")

    assert [row["order"] for row in response.context["orders"]] == [newer, older]
    body = _text(response)
    assert f'href="/orders/{older.pk}/"' in body
    assert '<span class="badge status-paid">Paid</span>' in body
    assert '<td class="number" data-label="Total">49.00 USD</td>' in body


def test_my_orders_without_orders_points_to_the_catalog(page_client, student):
    body = _text(page_client(student).get("/orders/"))

    assert "You have not bought any course yet." in body


def test_my_orders_has_pages(page_client, student):
    course = CourseFactory(published=True, paid=True)
    for _ in range(21):
        OrderFactory(user=student, course=course, status="expired", closed_at=timezone.now())

    first = page_client(student).get("/orders/")
    second = page_client(student).get("/orders/", {"page": 2})

    assert len(first.context["orders"]) == 20
    assert len(second.context["orders"]) == 1
    assert 'href="?page=2"' in _text(first)


@pytest.mark.parametrize("orders", [5, 50])
def test_my_orders_query_count_is_flat(page_client, student, django_assert_num_queries, orders):
    for number in range(orders):
        coupon = CouponFactory() if number % 2 else None
        OrderFactory(user=student, coupon=coupon, paid=number % 3 == 0)
    client = page_client(student)

    with django_assert_num_queries(4):  # session, user, count, the page of orders
        response = client.get("/orders/")

    assert response.status_code == 200
