"""Checkout, provider events, refunds, coupons, reconciliation and expiry (service layer)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.tests.factories import UserFactory
from courses.tests.factories import course_with_content
from enrollments.models import Enrollment
from enrollments.services import enrollment_create
from lms.exceptions import ApplicationError
from payments import services
from payments.models import Coupon, Order, WebhookEvent
from payments.providers import get_provider
from payments.tests.conftest import (
    charge_object,
    completed_event,
    event,
    refunded_event,
    session_object,
)
from payments.tests.factories import CouponFactory, OrderFactory

pytestmark = pytest.mark.django_db


def _checkout(user, course, coupon: str = "", **kwargs):
    return services.order_checkout(user=user, course=course, coupon_code=coupon, **kwargs)


def _receive(body):
    """Through the real provider: signature checks are the API tests' business."""
    parsed = get_provider("stripe")._event(body)
    return services.webhook_event_receive(event=parsed)


def _pay(order, **fields):
    return _receive(completed_event(order, **fields))


def _enrollment(user, course) -> Enrollment | None:
    return Enrollment.objects.filter(user=user, course=course).first()


# --- Checkout -----------------------------------------------------------------------------


def test_checkout_creates_a_pending_order_and_a_stripe_session(student, paid_course, stripe_api):
    result = _checkout(student, paid_course)

    order = result.order
    assert result.created is True
    assert order.status == Order.Status.PENDING
    assert (order.list_amount, order.discount_amount, order.amount) == (4900, 0, 4900)
    assert order.currency == "USD"
    assert order.provider == "stripe"
    assert result.checkout_url == f"https://checkout.stripe.test/c/pay/{order.provider_session_id}"
    [params] = stripe_api.calls("POST", "/v1/checkout/sessions")
    assert params["mode"] == "payment"
    assert params["client_reference_id"] == str(order.pk)
    assert params["customer_email"] == student.email
    assert params["metadata"]["order_id"] == str(order.pk)
    assert params["payment_intent_data"]["metadata"]["order_id"] == str(order.pk)
    assert params["line_items"]["0"]["price_data"] == {
        "currency": "usd",
        "unit_amount": "4900",
        "product_data": {"name": paid_course.title},
    }
    assert params["success_url"] == (
        f"https://app.test/orders/{order.pk}/?session={{CHECKOUT_SESSION_ID}}"
    )
    assert params["cancel_url"] == f"https://app.test/courses/{paid_course.slug}/"
    assert int(params["expires_at"]) == int(order.checkout_expires_at.timestamp())


def test_checkout_sends_an_idempotency_key_derived_from_the_order(student, paid_course, stripe_api):
    order = _checkout(student, paid_course).order

    [headers] = stripe_api.headers_of("POST", "/v1/checkout/sessions")
    assert headers["Idempotency-Key"] == f"lms-checkout-{order.pk}"


def test_checkout_reuses_the_open_pending_order(student, paid_course, stripe_api):
    first = _checkout(student, paid_course)

    second = _checkout(student, paid_course)

    assert second.created is False
    assert second.order.pk == first.order.pk
    assert second.checkout_url == first.checkout_url
    assert Order.objects.count() == 1
    assert len(stripe_api.calls("POST", "/v1/checkout/sessions")) == 1


def test_checkout_replaces_a_pending_order_whose_page_closed(student, paid_course, stripe_api):
    first = _checkout(student, paid_course).order
    Order.objects.filter(pk=first.pk).update(checkout_expires_at=timezone.now())

    second = _checkout(student, paid_course)

    first.refresh_from_db()
    assert second.created is True
    assert first.status == Order.Status.CANCELLED
    assert second.order.status == Order.Status.PENDING


def test_checkout_with_another_coupon_cancels_the_open_order_and_closes_its_page(
    student, paid_course, stripe_api
):
    first = _checkout(student, paid_course).order
    CouponFactory(code="HALF", percent_off=50)

    second = _checkout(student, paid_course, coupon="half").order

    first.refresh_from_db()
    assert first.status == Order.Status.CANCELLED
    assert second.amount == 2450
    assert stripe_api.sessions[first.provider_session_id]["status"] == "expired"


def test_checkout_of_a_free_course_is_refused(student):
    course = course_with_content(published=True)

    with pytest.raises(ApplicationError) as error:
        _checkout(student, course)

    assert error.value.code == "course_is_free"
    assert Order.objects.count() == 0


def test_checkout_when_already_enrolled_is_refused(student, paid_course, stripe_api):
    enrollment_create(user=student, course=paid_course, source="admin")

    with pytest.raises(ApplicationError) as error:
        _checkout(student, paid_course)

    assert (error.value.code, error.value.status_code) == ("already_enrolled", 409)
    assert Order.objects.count() == 0
    assert stripe_api.requests == []


def test_checkout_needs_a_verified_email_when_required(student, paid_course, settings):
    settings.ACCOUNTS_REQUIRE_VERIFIED_EMAIL = True

    with pytest.raises(ApplicationError) as error:
        _checkout(student, paid_course)

    assert error.value.code == "email_not_verified"
    assert Order.objects.count() == 0


def test_checkout_without_a_secret_key_is_unavailable(student, paid_course, settings, stripe_api):
    settings.STRIPE_SECRET_KEY = ""

    with pytest.raises(ApplicationError) as error:
        _checkout(student, paid_course)

    assert (error.value.code, error.value.status_code) == ("payments_unavailable", 503)
    assert Order.objects.count() == 0
    assert stripe_api.requests == []


@pytest.mark.parametrize(
    ("course_fields", "code"),
    [
        pytest.param({"archived": True}, "course_archived", id="_case archived"),
        pytest.param(
            {"published": True, "enrollment_closes_at": timezone.now() - timedelta(days=1)},
            "enrollment_closed",
            id="_case window closed",
        ),
    ],
)
def test_checkout_refuses_courses_not_taking_enrolments(student, course_fields, code):
    course = course_with_content(paid=True, **course_fields)

    with pytest.raises(ApplicationError) as error:
        _checkout(student, course)

    assert error.value.code == code
    assert Order.objects.count() == 0


def test_checkout_of_a_full_course_is_refused(student, other_student):
    course = course_with_content(published=True, paid=True, seat_capacity=1)
    enrollment_create(user=other_student, course=course, source="admin")
    course.refresh_from_db()

    with pytest.raises(ApplicationError) as error:
        _checkout(student, course)

    assert error.value.code == "course_full"


def test_checkout_provider_refusal_leaves_a_retryable_order(student, paid_course, stripe_api):
    stripe_api.fail_next.append(
        (400, {"type": "invalid_request_error", "code": "amount_too_small"})
    )

    with pytest.raises(ApplicationError) as error:
        _checkout(student, paid_course)
    retried = _checkout(student, paid_course)

    assert (error.value.code, error.value.status_code) == ("payment_provider_error", 502)
    assert retried.created is False
    assert retried.order.provider_session_id.startswith("cs_test_")
    assert Order.objects.count() == 1


def test_checkout_provider_outage_is_reported_as_unreachable(student, paid_course, stripe_api):
    for _ in range(3):  # the first call and the library's two retries
        stripe_api.fail_next.append((500, {"type": "api_error"}))

    with pytest.raises(ApplicationError) as error:
        _checkout(student, paid_course)

    assert error.value.code == "payment_provider_unreachable"


# --- Coupons ------------------------------------------------------------------------------


def test_percent_coupon_discount_rounds_half_up():
    coupon = CouponFactory.build(percent_off=15)

    assert services.coupon_discount(coupon=coupon, price=999) == 150


def test_amount_coupon_never_discounts_more_than_the_price():
    coupon = CouponFactory.build(amount=True, amount_off=10_000)

    assert services.coupon_discount(coupon=coupon, price=4900) == 4900


def test_checkout_with_a_coupon_charges_the_discounted_amount(student, paid_course, stripe_api):
    coupon = CouponFactory(code="SPRING", percent_off=20)

    order = _checkout(student, paid_course, coupon=" spring ").order

    coupon.refresh_from_db()
    assert (order.list_amount, order.discount_amount, order.amount) == (4900, 980, 3920)
    assert order.coupon == coupon
    assert coupon.redemption_count == 1
    [params] = stripe_api.calls("POST", "/v1/checkout/sessions")
    assert params["line_items"]["0"]["price_data"]["unit_amount"] == "3920"


@pytest.mark.parametrize(
    ("coupon_fields", "code"),
    [
        pytest.param({"is_active": False}, "coupon_inactive", id="_case switched off"),
        pytest.param(
            {"valid_from": timezone.now() + timedelta(days=1)},
            "coupon_not_yet_valid",
            id="_case not started",
        ),
        pytest.param(
            {"valid_until": timezone.now() - timedelta(seconds=1)},
            "coupon_expired",
            id="_case expired",
        ),
        pytest.param(
            {"max_redemptions": 2, "redemption_count": 2}, "coupon_exhausted", id="_case used up"
        ),
        pytest.param(
            {"amount": True, "currency": "EUR"},
            "coupon_currency_mismatch",
            id="_case other currency",
        ),
    ],
)
def test_checkout_refuses_a_coupon_with_one_code_per_reason(
    student, paid_course, stripe_api, coupon_fields, code
):
    CouponFactory(code="NOPE", **coupon_fields)

    with pytest.raises(ApplicationError) as error:
        _checkout(student, paid_course, coupon="NOPE")

    assert error.value.code == code
    assert error.value.fields == {"coupon": [error.value.message]}
    assert Order.objects.count() == 0
    assert stripe_api.requests == []


def test_checkout_refuses_an_unknown_coupon(student, paid_course):
    with pytest.raises(ApplicationError) as error:
        _checkout(student, paid_course, coupon="NOSUCH")

    assert error.value.code == "coupon_not_found"


def test_checkout_refuses_a_coupon_of_another_course(student, paid_course):
    CouponFactory(code="OTHER", course=course_with_content(published=True, paid=True))

    with pytest.raises(ApplicationError) as error:
        _checkout(student, paid_course, coupon="OTHER")

    assert error.value.code == "coupon_not_applicable"


def test_a_full_coupon_enrols_without_stripe(student, paid_course, stripe_api):
    CouponFactory(code="FREE100", percent_off=100)

    result = _checkout(student, paid_course, coupon="FREE100")

    order = result.order
    assert result.checkout_url == ""
    assert order.status == Order.Status.PAID
    assert (order.amount, order.provider) == (0, "none")
    assert order.enrollment.status == Enrollment.Status.ACTIVE
    assert order.enrollment.source == Enrollment.Source.PURCHASE
    assert stripe_api.requests == []


def test_a_full_coupon_works_without_a_secret_key(student, paid_course, settings):
    settings.STRIPE_SECRET_KEY = ""
    CouponFactory(code="FREE100", percent_off=100)

    order = _checkout(student, paid_course, coupon="FREE100").order

    assert order.status == Order.Status.PAID


def test_a_full_coupon_for_a_full_course_consumes_nothing(student, other_student):
    course = course_with_content(published=True, paid=True, seat_capacity=1)
    coupon = CouponFactory(code="FREE100", percent_off=100)
    services.order_checkout(user=other_student, course=course, coupon_code="FREE100")

    with pytest.raises(ApplicationError) as error:
        _checkout(student, course, coupon="FREE100")

    coupon.refresh_from_db()
    assert error.value.code == "course_full"
    assert coupon.redemption_count == 1
    assert Order.objects.filter(user=student).count() == 0


def test_an_expired_checkout_gives_its_coupon_redemption_back(student, paid_course):
    coupon = CouponFactory(code="ONCE", max_redemptions=1)
    order = _checkout(student, paid_course, coupon="ONCE").order

    _receive(
        event(
            "checkout.session.expired",
            session_object(order, status="expired", payment_status="unpaid"),
        )
    )

    coupon.refresh_from_db()
    order.refresh_from_db()
    assert order.status == Order.Status.EXPIRED
    assert coupon.redemption_count == 0
    assert order.coupon_held is False


def test_coupon_create_stores_the_code_upper_case():
    coupon = services.coupon_create(code="summer-25", kind="percent", percent_off=25)

    assert coupon.code == "SUMMER-25"


def test_coupon_create_refuses_a_taken_code():
    CouponFactory(code="TAKEN")

    with pytest.raises(ApplicationError) as error:
        services.coupon_create(code="taken", kind="percent", percent_off=10)

    assert (error.value.code, error.value.status_code) == ("coupon_code_taken", 409)


def test_coupon_update_cannot_lower_the_limit_below_redemptions():
    coupon = CouponFactory(max_redemptions=5, redemption_count=3)

    with pytest.raises(ValidationError) as error:
        services.coupon_update(coupon=coupon, fields={"max_redemptions": 2})

    assert "max_redemptions" in error.value.message_dict


# --- Webhook events -----------------------------------------------------------------------


@pytest.fixture
def order(student, paid_course):
    return _checkout(student, paid_course).order


def test_completed_checkout_marks_paid_and_enrols_with_purchase_source(student, order):
    stored, created = _pay(order)

    order.refresh_from_db()
    enrollment = _enrollment(student, order.course)
    assert (created, stored.result) == (True, "processed")
    assert order.status == Order.Status.PAID
    assert order.paid_at is not None
    assert order.provider_payment_intent_id == f"pi_{order.provider_session_id}"
    assert order.enrollment == enrollment
    assert (enrollment.status, enrollment.source) == ("active", "purchase")


def test_payment_sends_a_receipt(student, order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _pay(order)

    receipt = next(message for message in mail.outbox if "receipt" in message.subject)
    assert receipt.to == [student.email]
    assert order.number in receipt.subject
    assert "49.00 USD" in receipt.body
    assert "49.00 USD" in receipt.alternatives[0][0]


def test_the_same_event_twice_is_stored_and_applied_once(student, order):
    body = completed_event(order)

    _pay_first = _receive(body)
    stored, created = _receive(body)

    assert created is False
    assert stored.pk == _pay_first[0].pk
    assert WebhookEvent.objects.count() == 1
    assert Enrollment.objects.filter(user=student).count() == 1


def test_completed_and_async_succeeded_enrol_once(student, order):
    _pay(order)

    stored, _ = _receive(event("checkout.session.async_payment_succeeded", session_object(order)))

    assert stored.result == "ignored"
    assert Enrollment.objects.filter(user=student).count() == 1


def test_completed_while_payment_processing_waits_for_async_success(student, order):
    unpaid = completed_event(order, payment_status="unpaid")

    _receive(unpaid)
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert _enrollment(student, order.course) is None

    _receive(event("checkout.session.async_payment_succeeded", session_object(order)))
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert _enrollment(student, order.course).status == "active"


def test_async_payment_failure_fails_the_order(student, order):
    failed = session_object(order, payment_status="unpaid")

    _receive(event("checkout.session.async_payment_failed", failed))

    order.refresh_from_db()
    assert order.status == Order.Status.FAILED
    assert _enrollment(student, order.course) is None


def test_amount_mismatch_flags_the_order_and_enrols_nobody(student, order):
    stored, _ = _pay(order, amount=100)

    order.refresh_from_db()
    assert stored.result == "flagged"
    assert order.status == Order.Status.PENDING
    assert order.needs_review is True
    assert "Amount mismatch" in order.review_reason
    assert _enrollment(student, order.course) is None


def test_currency_mismatch_flags_the_order_and_enrols_nobody(student, order):
    stored, _ = _pay(order, currency="eur")

    order.refresh_from_db()
    assert stored.result == "flagged"
    assert order.needs_review is True
    assert _enrollment(student, order.course) is None


def test_an_event_for_an_unknown_order_is_stored_and_changes_nothing(order):
    stray = completed_event(order)
    stray["data"]["object"]["client_reference_id"] = "not-ours"
    stray["data"]["object"]["id"] = "cs_someone_else"

    stored, _ = _receive(stray)

    order.refresh_from_db()
    assert stored.result == "unknown_order"
    assert order.status == Order.Status.PENDING


def test_an_unused_event_type_is_stored_as_ignored():
    stored, _ = _receive(event("customer.created", {"id": "cus_1", "object": "customer"}))

    assert (stored.result, stored.type) == ("ignored", "customer.created")


def test_late_payment_after_expiry_is_honoured(student, order):
    _receive(
        event(
            "checkout.session.expired",
            session_object(order, status="expired", payment_status="unpaid"),
        )
    )

    _pay(order)

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert _enrollment(student, order.course).status == "active"


def test_expiry_after_payment_changes_nothing(student, order):
    _pay(order)

    stored, _ = _receive(event("checkout.session.expired", session_object(order)))

    order.refresh_from_db()
    assert stored.result == "ignored"
    assert order.status == Order.Status.PAID


def test_full_refund_refunds_the_order_and_removes_access(student, order):
    _pay(order)
    order.refresh_from_db()

    stored, _ = _receive(refunded_event(payment_intent=order.provider_payment_intent_id))

    order.refresh_from_db()
    assert stored.result == "processed"
    assert order.status == Order.Status.REFUNDED
    assert order.amount_refunded == 4900
    assert order.provider_charge_id == f"ch_{order.provider_payment_intent_id}"
    assert _enrollment(student, order.course).status == Enrollment.Status.REFUNDED


def test_partial_refund_is_recorded_and_keeps_access(student, order):
    _pay(order)
    order.refresh_from_db()

    _receive(refunded_event(payment_intent=order.provider_payment_intent_id, refunded_amount=1000))

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.amount_refunded == 1000
    assert _enrollment(student, order.course).status == Enrollment.Status.ACTIVE


def test_an_older_partial_refund_arriving_late_changes_nothing(student, order):
    _pay(order)
    order.refresh_from_db()
    intent = order.provider_payment_intent_id
    _receive(refunded_event(payment_intent=intent, refunded_amount=2000))

    stored, _ = _receive(refunded_event(payment_intent=intent, refunded_amount=1000))

    order.refresh_from_db()
    assert stored.result == "ignored"
    assert order.amount_refunded == 2000


def test_a_refunded_order_is_never_resurrected(student, order):
    _pay(order)
    order.refresh_from_db()
    _receive(refunded_event(payment_intent=order.provider_payment_intent_id))

    stored, _ = _receive(completed_event(order))  # a replay under a new event id

    order.refresh_from_db()
    assert stored.result == "ignored"
    assert order.status == Order.Status.REFUNDED
    assert _enrollment(student, order.course).status == Enrollment.Status.REFUNDED


def test_refund_before_completed_never_enrols(student, order):
    intent = f"pi_{order.provider_session_id}"
    early, _ = _receive(refunded_event(payment_intent=intent))

    late, _ = _pay(order)

    order.refresh_from_db()
    early.refresh_from_db()
    assert early.result == "processed"
    assert early.order == order
    assert late.result == "processed"
    assert order.status == Order.Status.REFUNDED
    assert order.paid_at is None
    assert _enrollment(student, order.course) is None


def test_partial_refund_before_completed_is_kept(student, order):
    intent = f"pi_{order.provider_session_id}"
    _receive(refunded_event(payment_intent=intent, refunded_amount=900))

    _pay(order)

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.amount_refunded == 900
    assert _enrollment(student, order.course).status == Enrollment.Status.ACTIVE


def test_payment_for_a_course_that_filled_up_is_kept_and_flagged(student, other_student):
    course = course_with_content(published=True, paid=True, seat_capacity=1)
    order = _checkout(student, course).order
    enrollment_create(user=other_student, course=course, source="admin")

    _pay(order)

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.needs_review is True
    assert order.review_reason == "Paid but not enrolled: course_full."
    assert _enrollment(student, course) is None


def test_full_refund_keeps_access_another_paid_order_pays_for(student, paid_course):
    first = OrderFactory(user=student, course=paid_course, paid=True)
    enrollment, _ = enrollment_create(user=student, course=paid_course, source="purchase")
    second = OrderFactory(user=student, course=paid_course, paid=True, enrollment=enrollment)

    _receive(refunded_event(payment_intent=second.provider_payment_intent_id))

    second.refresh_from_db()
    enrollment.refresh_from_db()
    assert first.status == Order.Status.PAID
    assert second.status == Order.Status.REFUNDED
    assert enrollment.status == Enrollment.Status.ACTIVE


def test_late_payment_with_a_used_up_coupon_is_kept_and_flagged(student, other_student):
    course = course_with_content(published=True, paid=True)
    CouponFactory(code="ONCE", max_redemptions=1)
    order = _checkout(student, course, coupon="ONCE").order
    _receive(
        event(
            "checkout.session.expired",
            session_object(order, status="expired", payment_status="unpaid"),
        )
    )
    _checkout(other_student, course, coupon="ONCE")

    _pay(order)

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.needs_review is True
    assert Coupon.objects.get(code="ONCE").redemption_count == 1


# --- Refunds ------------------------------------------------------------------------------


def test_refund_asks_stripe_with_an_idempotency_key(admin_user, order, stripe_api):
    _pay(order)
    order.refresh_from_db()

    refund = services.order_refund(order=order, requested_by=admin_user)

    [params] = stripe_api.calls("POST", "/v1/refunds")
    [headers] = stripe_api.headers_of("POST", "/v1/refunds")
    assert params["payment_intent"] == order.provider_payment_intent_id
    assert "amount" not in params
    assert headers["Idempotency-Key"] == f"lms-refund-{order.pk}-0-rest"
    assert (refund.status, refund.amount, refund.currency) == ("succeeded", 4900, "USD")


def test_refund_leaves_the_order_to_the_refund_event(admin_user, order):
    _pay(order)
    order.refresh_from_db()

    services.order_refund(order=order, requested_by=admin_user)

    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_refund_twice_is_one_refund_at_stripe(admin_user, order, stripe_api):
    _pay(order)
    order.refresh_from_db()

    first = services.order_refund(order=order, requested_by=admin_user)
    second = services.order_refund(order=order, requested_by=admin_user)

    assert first.id == second.id
    assert len(stripe_api.refunds) == 1


def test_partial_refund_sends_the_amount(admin_user, order, stripe_api):
    _pay(order)
    order.refresh_from_db()

    services.order_refund(order=order, requested_by=admin_user, amount=1000)

    [params] = stripe_api.calls("POST", "/v1/refunds")
    assert params["amount"] == "1000"


def test_refund_of_more_than_is_left_is_refused(admin_user, order, stripe_api):
    _pay(order)
    order.refresh_from_db()

    with pytest.raises(ApplicationError) as error:
        services.order_refund(order=order, requested_by=admin_user, amount=4901)

    assert error.value.code == "refund_amount_invalid"
    assert stripe_api.refunds == []


def test_refund_of_a_pending_order_is_refused(admin_user, order, stripe_api):
    with pytest.raises(ApplicationError) as error:
        services.order_refund(order=order, requested_by=admin_user)

    assert (error.value.code, error.value.status_code) == ("order_not_refundable", 409)
    assert stripe_api.refunds == []


def test_refund_of_a_coupon_paid_order_is_refused(admin_user, student, paid_course):
    CouponFactory(code="FREE100", percent_off=100)
    order = _checkout(student, paid_course, coupon="FREE100").order

    with pytest.raises(ApplicationError) as error:
        services.order_refund(order=order, requested_by=admin_user)

    assert error.value.code == "order_not_refundable"


# --- Reconciliation and expiry ------------------------------------------------------------


def test_reconcile_applies_a_payment_stripe_reports(student, order, stripe_api):
    stripe_api.pay(order.provider_session_id)

    outcome = services.order_reconcile(order=order)

    order.refresh_from_db()
    assert (outcome.before, outcome.after) == ("pending", "paid")
    assert order.status == Order.Status.PAID
    assert _enrollment(student, order.course).status == "active"


def test_reconcile_leaves_an_open_checkout_alone(order):
    outcome = services.order_reconcile(order=order)

    assert outcome.changed is False
    assert outcome.detail == "Checkout still open (unpaid)."


def test_expiry_expires_stale_orders_stripe_reports_expired(order, stripe_api):
    stripe_api.sessions[order.provider_session_id]["status"] = "expired"

    report = services.orders_expire_stale(now=order.checkout_expires_at + timedelta(hours=1))

    order.refresh_from_db()
    assert (report.reconciled, report.expired) == (1, 0)
    assert order.status == Order.Status.EXPIRED


def test_expiry_records_a_payment_whose_webhook_is_late(student, order, stripe_api):
    stripe_api.pay(order.provider_session_id)

    services.orders_expire_stale(now=order.checkout_expires_at + timedelta(hours=1))

    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_expiry_skips_orders_stripe_cannot_answer_for(order, stripe_api):
    for _ in range(3):
        stripe_api.fail_next.append((503, {"type": "api_error"}))

    report = services.orders_expire_stale(now=order.checkout_expires_at + timedelta(hours=1))

    order.refresh_from_db()
    assert report.skipped == 1
    assert order.status == Order.Status.PENDING


def test_expiry_leaves_orders_within_their_checkout_time(order):
    report = services.orders_expire_stale()

    assert report.seen == 0


def test_expiry_closes_orders_that_never_got_a_checkout_page(student, paid_course):
    order = OrderFactory(
        user=student,
        course=paid_course,
        provider_session_id="",
        checkout_expires_at=timezone.now() - timedelta(hours=2),
    )

    report = services.orders_expire_stale()

    order.refresh_from_db()
    assert report.expired == 1
    assert order.status == Order.Status.EXPIRED


def test_deferred_refund_sweep_applies_refunds_whose_payment_arrived(student, order):
    intent = f"pi_{order.provider_session_id}"
    early, _ = _receive(refunded_event(payment_intent=intent))
    # The payment committed without seeing the refund (concurrent deliveries).
    WebhookEvent.objects.filter(pk=early.pk).update(result="deferred")
    Order.objects.filter(pk=order.pk).update(
        status="paid", paid_at=timezone.now(), provider_payment_intent_id=intent
    )

    applied = services.webhook_events_apply_deferred()

    order.refresh_from_db()
    assert applied == 1
    assert order.status == Order.Status.REFUNDED


def test_charge_object_helper_marks_full_refunds():
    assert charge_object(payment_intent="pi_1")["refunded"] is True


def test_other_users_cannot_reach_each_others_orders(student, paid_course):
    other = UserFactory()
    mine = _checkout(student, paid_course).order

    theirs = _checkout(other, paid_course).order

    assert mine.pk != theirs.pk


def test_checkout_after_a_price_change_replaces_the_pending_order(student, paid_course):
    first = _checkout(student, paid_course).order
    paid_course.price_amount = 5900
    paid_course.save()

    second = _checkout(student, paid_course)

    first.refresh_from_db()
    assert second.created is True
    assert second.order.amount == 5900
    assert first.status == Order.Status.CANCELLED
