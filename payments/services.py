"""Checkout, provider events, refunds, coupons, reconciliation and expiry of orders.

Lock order: an order row first, then (through the enrolment services) the course row, then
the enrolment row; nothing here locks a course before an order, so these paths cannot
deadlock with each other or with plain enrolments. Provider calls are never made while a
row lock is held.
"""

import logging
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from accounts.selectors import user_check_email_verified
from accounts.services import security_event_record
from courses.models import Course
from enrollments.errors import CourseArchived, CourseFull, CourseNotPublished, EnrollmentClosed
from enrollments.models import Enrollment
from enrollments.selectors import enrollment_for_learner
from enrollments.services import enrollment_cancel, enrollment_create
from lms import events
from lms.exceptions import ApplicationError
from lms.mail import send_templated_email
from payments.errors import (
    AlreadyEnrolled,
    CouponCodeTaken,
    CouponCurrencyMismatch,
    CouponExhausted,
    CouponExpired,
    CouponInactive,
    CouponNotApplicable,
    CouponNotFound,
    CouponNotYetValid,
    CourseIsFree,
    OrderNotRefundable,
    OrderStatusConflict,
    PaymentProviderError,
    PaymentsUnavailable,
    RefundAmountInvalid,
)
from payments.models import Coupon, Order, WebhookEvent
from payments.money import format_money
from payments.providers import (
    PROVIDER_CLASSES,
    ChargeRefund,
    CheckoutRequest,
    CheckoutSession,
    PaymentEvent,
    PaymentEventKind,
    PaymentProvider,
    RefundResult,
    get_provider,
)

logger = logging.getLogger(__name__)

NO_PROVIDER = "none"  # orders fully paid by a coupon never reach a provider
# Stripe refuses a checkout that closes sooner than 30 minutes after its creation.
MIN_CHECKOUT_MINUTES = 31
MAX_CHECKOUT_MINUTES = 24 * 60
# How long after its checkout closed a pending order is left for the provider's last events.
EXPIRY_GRACE = timedelta(minutes=10)

Result = WebhookEvent.Result


@dataclass(frozen=True)
class CheckoutResult:
    order: Order
    checkout_url: str
    created: bool


@dataclass(frozen=True)
class EventOutcome:
    result: str
    order: Order | None = None
    detail: str = ""


@dataclass(frozen=True)
class ReconcileOutcome:
    order_id: uuid.UUID
    number: str
    before: str
    after: str
    detail: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


# --- Coupons ------------------------------------------------------------------------------


def coupon_normalize_code(code: str) -> str:
    return code.strip().upper()


def coupon_create(
    *,
    code: str,
    kind: str,
    percent_off: int | None = None,
    amount_off: int | None = None,
    currency: str = "",
    course: Course | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    max_redemptions: int | None = None,
    is_active: bool = True,
    created_by: User | None = None,
) -> Coupon:
    """Create a coupon; the code is stored upper-case and must be unused (409 otherwise)."""
    code = coupon_normalize_code(code)
    if Coupon.objects.filter(code=code).exists():
        raise CouponCodeTaken()
    coupon = Coupon(
        code=code,
        kind=kind,
        percent_off=percent_off if kind == Coupon.Kind.PERCENT else None,
        amount_off=amount_off if kind == Coupon.Kind.AMOUNT else None,
        currency=currency.upper() if kind == Coupon.Kind.AMOUNT else "",
        course=course,
        valid_from=valid_from,
        valid_until=valid_until,
        max_redemptions=max_redemptions,
        is_active=is_active,
        created_by=created_by,
    )
    coupon_validate(coupon)
    try:
        with transaction.atomic():
            coupon.save()
    except IntegrityError:  # the same code created concurrently
        raise CouponCodeTaken() from None
    return coupon


COUPON_EDITABLE_FIELDS = ("is_active", "valid_from", "valid_until", "max_redemptions")


@transaction.atomic
def coupon_update(*, coupon: Coupon, fields: dict[str, Any]) -> Coupon:
    """Change a coupon's switch, window or limit (its discount is fixed: make a new coupon).

    The limit cannot drop below the redemptions already counted.
    """
    unknown = set(fields) - set(COUPON_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in unknown})
    coupon = Coupon.objects.select_for_update().get(pk=coupon.pk)
    for name, value in fields.items():
        setattr(coupon, name, value)
    coupon_validate(coupon)
    coupon.save(update_fields=[*fields, "updated_at"])
    return coupon


def coupon_validate(coupon: Coupon) -> None:
    """Field checks shared by the API and the admin (ValidationError naming the field)."""
    errors: dict[str, str] = {}
    if coupon.kind == Coupon.Kind.PERCENT and coupon.percent_off is None:
        errors["percent_off"] = "A percent coupon needs percent_off (1 to 100)."
    if coupon.kind == Coupon.Kind.AMOUNT:
        if not coupon.amount_off:
            errors["amount_off"] = "An amount coupon needs amount_off (minor units, at least 1)."
        if not coupon.currency:
            errors["currency"] = "An amount coupon needs the currency of its amount."
        elif coupon.course is not None and coupon.course.currency != coupon.currency:
            errors["currency"] = "The currency must be the course's currency."
    if coupon.valid_from and coupon.valid_until and coupon.valid_from >= coupon.valid_until:
        errors["valid_until"] = "The coupon must end after it starts."
    if (
        coupon.max_redemptions is not None
        and coupon.pk is not None
        and coupon.max_redemptions < coupon.redemption_count
    ):
        errors["max_redemptions"] = (
            f"It is already redeemed {coupon.redemption_count} times; the limit cannot be lower."
        )
    if errors:
        raise ValidationError(errors)
    coupon.full_clean(validate_unique=False, validate_constraints=False)


def coupon_get_for_checkout(*, code: str, course: Course, now: datetime) -> Coupon:
    """The coupon this code names, if it may be used for `course` now (else one refusal code).

    The redemption limit is checked here to fail fast; the conditional update in
    `_coupon_take` is what guarantees it under concurrency.
    """
    coupon = Coupon.objects.filter(code=coupon_normalize_code(code)).first()
    if coupon is None:
        raise CouponNotFound()
    if not coupon.is_active:
        raise CouponInactive()
    if coupon.valid_from and now < coupon.valid_from:
        raise CouponNotYetValid()
    if coupon.valid_until and now >= coupon.valid_until:
        raise CouponExpired()
    if coupon.course_id is not None and coupon.course_id != course.pk:
        raise CouponNotApplicable()
    if coupon.kind == Coupon.Kind.AMOUNT and coupon.currency != course.currency:
        raise CouponCurrencyMismatch()
    if coupon.max_redemptions is not None and coupon.redemption_count >= coupon.max_redemptions:
        raise CouponExhausted()
    return coupon


def coupon_discount(*, coupon: Coupon, price: int) -> int:
    """The discount on `price` (minor units), never more than the price.

    Percent discounts round half up to the minor unit.
    """
    if coupon.kind == Coupon.Kind.PERCENT:
        discount = (price * (coupon.percent_off or 0) + 50) // 100
    else:
        discount = coupon.amount_off or 0
    return min(discount, price)


def _coupon_take(coupon_id: uuid.UUID) -> bool:
    """Count one redemption unless the limit is reached; one conditional UPDATE, race-free."""
    within_limit = Q(max_redemptions__isnull=True) | Q(redemption_count__lt=F("max_redemptions"))
    return bool(
        Coupon.objects.filter(within_limit, pk=coupon_id).update(
            redemption_count=F("redemption_count") + 1, updated_at=timezone.now()
        )
    )


def _coupon_release(coupon_id: uuid.UUID) -> None:
    Coupon.objects.filter(pk=coupon_id, redemption_count__gt=0).update(
        redemption_count=F("redemption_count") - 1, updated_at=timezone.now()
    )


# --- Order status: the one place it changes ------------------------------------------------


def _order_lock(pk: uuid.UUID) -> Order:
    return Order.objects.select_for_update(of=("self",)).select_related("course", "user").get(pk=pk)


def _order_flag(order: Order, reason: str) -> None:
    """Mark for a person to look at (the admin filters on it). Caller holds the order lock."""
    order.needs_review = True
    order.review_reason = reason[:255]
    order.save(update_fields=["needs_review", "review_reason", "updated_at"])
    logger.warning("Order %s flagged for review: %s", order.number, reason)


def _order_transition(order: Order, status: str, *, now: datetime) -> None:
    """Move an order to `status` if Order.TRANSITIONS allows it, else OrderStatusConflict.

    Keeps the timestamps and the coupon's redemption count in step with the status. The
    caller holds the order's row lock.
    """
    if not order.can_become(status):
        raise OrderStatusConflict(current=order.status, wanted=status)
    order.status = status
    fields = ["status", "updated_at"]
    if status == Order.Status.PAID:
        order.paid_at = now
        fields.append("paid_at")
    elif status == Order.Status.REFUNDED:
        order.refunded_at = now
        fields.append("refunded_at")
    else:
        order.closed_at = now
        fields.append("closed_at")
    if order.coupon_id is not None:
        if status in (Order.Status.FAILED, Order.Status.EXPIRED, Order.Status.CANCELLED):
            if order.coupon_held:
                _coupon_release(order.coupon_id)
                order.coupon_held = False
                fields.append("coupon_held")
        elif status == Order.Status.PAID and not order.coupon_held:
            # Paid after its checkout had closed: the money is in, so the coupon counts
            # again; past its limit a person decides (refund, or let it be).
            if _coupon_take(order.coupon_id):
                order.coupon_held = True
                fields.append("coupon_held")
            else:
                order.needs_review = True
                order.review_reason = "Paid late with a coupon that has reached its limit."
                fields += ["needs_review", "review_reason"]
    order.save(update_fields=fields)
    if status in (Order.Status.PAID, Order.Status.REFUNDED):
        _order_event_publish(order)


def _order_event_publish(order: Order) -> None:
    """order.paid / order.refunded for webhooks and metrics, in the transition's transaction."""
    paid = order.status == Order.Status.PAID
    events.publish(
        events.ORDER_PAID if paid else events.ORDER_REFUNDED,
        {
            "order_id": order.pk,
            "order_number": order.number,
            "user_id": order.user_id,
            "course_id": order.course_id,
            "course_slug": order.course.slug,
            "amount": order.amount if paid else order.amount_refunded or order.amount,
            "currency": order.currency,
            "coupon_code": order.coupon.code if order.coupon is not None else None,
            "paid_at": order.paid_at,
            "refunded_at": order.refunded_at,
        },
    )


# --- Checkout -----------------------------------------------------------------------------


def _check_purchasable(*, user: User, course: Course, now: datetime) -> None:
    if course.is_free:
        raise CourseIsFree()
    if course.status == Course.Status.DRAFT:
        raise CourseNotPublished()
    if course.status == Course.Status.ARCHIVED:
        raise CourseArchived()
    if not course.is_open_for_enrollment(now):
        raise EnrollmentClosed()
    enrollment = enrollment_for_learner(user=user, course=course)
    if enrollment is not None and enrollment.is_active:
        raise AlreadyEnrolled()
    if course.seat_capacity is not None and course.enrollment_count >= course.seat_capacity:
        raise CourseFull()


def _checkout_minutes() -> int:
    return max(MIN_CHECKOUT_MINUTES, min(MAX_CHECKOUT_MINUTES, settings.PAYMENTS_CHECKOUT_MINUTES))


def _is_reusable(
    order: Order, *, course: Course, amount: int, coupon: Coupon | None, now: datetime
) -> bool:
    """An open pending order for the same price and coupon, whose checkout stays usable."""
    if order.needs_review or order.list_amount != course.price_amount:
        return False
    if order.currency != course.currency or order.amount != amount:
        return False
    if order.coupon_id != (coupon.pk if coupon else None):
        return False
    if order.checkout_expires_at is None:
        return False
    # A checkout page still open for a while, or (no page yet) one Stripe would still accept.
    margin = timedelta(minutes=5 if order.provider_session_id else MIN_CHECKOUT_MINUTES)
    return order.checkout_expires_at - now >= margin


def _pending_order_locked(*, user: User, course: Course) -> tuple[Order | None, str]:
    """Lock the user's pending order for the course, if any. Caller is in a transaction."""
    pending = (
        Order.objects.select_for_update(of=("self",))
        .filter(user=user, course=course, status=Order.Status.PENDING)
        .first()
    )
    return pending, pending.provider_session_id if pending else ""


def _new_order(
    *,
    user: User,
    course: Course,
    coupon: Coupon | None,
    discount: int,
    provider: str,
    now: datetime,
) -> Order:
    if coupon is not None and not _coupon_take(coupon.pk):
        raise CouponExhausted()
    order = Order(
        user=user,
        course=course,
        list_amount=course.price_amount,
        discount_amount=discount,
        amount=course.price_amount - discount,
        currency=course.currency,
        coupon=coupon,
        coupon_held=coupon is not None,
        provider=provider,
        checkout_expires_at=now + timedelta(minutes=_checkout_minutes()),
    )
    order.full_clean(validate_unique=False, validate_constraints=False)
    order.save()
    return order


def _order_open(
    *,
    user: User,
    course: Course,
    coupon: Coupon | None,
    discount: int,
    provider: str,
    now: datetime,
) -> tuple[Order, bool, str]:
    """The pending order to pay: reused, or new (cancelling a stale or different one).

    Returns (order, created, checkout session id of a cancelled order to close).
    """
    amount = course.price_amount - discount
    for attempt in range(2):
        try:
            with transaction.atomic():
                pending, stale_session = _pending_order_locked(user=user, course=course)
                if pending is not None and _is_reusable(
                    pending, course=course, amount=amount, coupon=coupon, now=now
                ):
                    return pending, False, ""
                if pending is not None:
                    _order_transition(pending, Order.Status.CANCELLED, now=now)
                order = _new_order(
                    user=user,
                    course=course,
                    coupon=coupon,
                    discount=discount,
                    provider=provider,
                    now=now,
                )
                return order, True, stale_session
        except IntegrityError:
            # A concurrent checkout by the same learner created the pending order first
            # (one pending order per learner and course): use that one.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _format_url(template: str, order: Order) -> str:
    return template.replace("{ORDER_ID}", str(order.pk)).replace("{COURSE_SLUG}", order.course.slug)


def _checkout_request(order: Order) -> CheckoutRequest:
    assert order.checkout_expires_at is not None  # noqa: S101  (set by _new_order)
    return CheckoutRequest(
        order_id=str(order.pk),
        order_number=order.number,
        amount=order.amount,
        currency=order.currency,
        product_name=order.course.title,
        customer_email=order.user.email,
        success_url=_format_url(settings.STRIPE_SUCCESS_URL, order),
        cancel_url=_format_url(settings.STRIPE_CANCEL_URL, order),
        expires_at=order.checkout_expires_at,
        # Derived from the order: a retried request (lost answer, double click, a reused
        # order) gets the same session back instead of a second one.
        idempotency_key=f"lms-checkout-{order.pk}",
        metadata={"course_id": str(order.course_id), "user_id": str(order.user_id)},
    )


@transaction.atomic
def _order_attach_session(order: Order, session: CheckoutSession) -> Order:
    order = _order_lock(order.pk)
    if not order.provider_session_id:
        order.provider_session_id = session.id
        order.checkout_url = session.url
        order.checkout_expires_at = session.expires_at or order.checkout_expires_at
        order.save(
            update_fields=[
                "provider_session_id",
                "checkout_url",
                "checkout_expires_at",
                "updated_at",
            ]
        )
    return order


def _close_session_quietly(provider: PaymentProvider, session_id: str) -> None:
    """Close the checkout page of a cancelled order; it expires by itself if this fails."""
    if not session_id:
        return
    try:
        provider.expire_session(session_id)
    except PaymentProviderError as error:
        logger.info("Could not expire checkout session %s: %s", session_id, error.message)


def order_checkout(
    *, user: User, course: Course, coupon_code: str = "", now: datetime | None = None
) -> CheckoutResult:
    """Start buying a paid course: a pending order and the provider's checkout page.

    An open pending order of the learner for the course is reused (same price and coupon).
    A coupon that leaves nothing to pay completes the order and enrols at once, without
    the provider. Provider calls happen outside any transaction.
    """
    now = now or timezone.now()
    user_check_email_verified(user=user)
    _check_purchasable(user=user, course=course, now=now)
    coupon = (
        coupon_get_for_checkout(code=coupon_code, course=course, now=now) if coupon_code else None
    )
    discount = coupon_discount(coupon=coupon, price=course.price_amount) if coupon else 0
    if discount == course.price_amount:
        return _order_complete_without_payment(
            user=user, course=course, coupon=coupon, discount=discount, now=now
        )
    provider = get_provider()
    if not provider.is_configured():
        raise PaymentsUnavailable()
    order, created, stale_session = _order_open(
        user=user, course=course, coupon=coupon, discount=discount, provider=provider.name, now=now
    )
    _close_session_quietly(provider, stale_session)
    if not order.provider_session_id:
        session = provider.create_checkout(_checkout_request(order))
        order = _order_attach_session(order, session)
    return CheckoutResult(order=order, checkout_url=order.checkout_url, created=created)


def _order_complete_without_payment(
    *, user: User, course: Course, coupon: Coupon | None, discount: int, now: datetime
) -> CheckoutResult:
    """A coupon covers the whole price: the order is paid at once and the learner enrolled.

    Nothing was charged, so a refused enrolment (course full, ...) rolls everything back.
    """
    stale_session = ""
    with transaction.atomic():
        pending, stale_session = _pending_order_locked(user=user, course=course)
        if pending is not None:
            _order_transition(pending, Order.Status.CANCELLED, now=now)
        order = _new_order(
            user=user,
            course=course,
            coupon=coupon,
            discount=discount,
            provider=NO_PROVIDER,
            now=now,
        )
        _order_transition(order, Order.Status.PAID, now=now)
        enrollment, _ = enrollment_create(
            user=user, course=course, source=Enrollment.Source.PURCHASE
        )
        order.enrollment = enrollment
        order.checkout_expires_at = None
        order.save(update_fields=["enrollment", "checkout_expires_at", "updated_at"])
        _send_receipt(order)
    if stale_session and pending is not None:
        _close_session_quietly(get_provider(pending.provider), stale_session)
    return CheckoutResult(order=order, checkout_url="", created=True)


# --- Provider events (webhooks and reconciliation share this path) -------------------------


def _send_receipt(order: Order) -> None:
    send_templated_email(
        to=[order.user.email],
        subject=f"Your receipt for {order.course.title} (order {order.number})",
        template="payment_receipt",
        context={
            "full_name": order.user.full_name,
            "order_number": order.number,
            "course_title": order.course.title,
            "course_url": f"{settings.SITE_URL}/courses/{order.course.slug}/",
            "list_price": format_money(order.list_amount, order.currency),
            "discount": format_money(order.discount_amount, order.currency)
            if order.discount_amount
            else "",
            "coupon_code": order.coupon.code if order.coupon else "",
            "total": format_money(order.amount, order.currency),
            "paid_at": order.paid_at,
            "is_enrolled": order.enrollment_id is not None,
        },
    )


def _order_enrol(order: Order) -> None:
    """Enrol the buyer (source purchase). The payment stays recorded if enrolment is refused."""
    try:
        with transaction.atomic():  # a savepoint: only the enrolment is undone on refusal
            enrollment, created = enrollment_create(
                user=order.user, course=order.course, source=Enrollment.Source.PURCHASE
            )
    except ApplicationError as error:
        _order_flag(order, f"Paid but not enrolled: {error.code}.")
        return
    order.enrollment = enrollment
    order.save(update_fields=["enrollment", "updated_at"])
    if not created:
        _order_flag(order, "Paid while already enrolled (a second purchase?).")


def _deferred_refunds(payment_intent_id: str, provider: str) -> list[WebhookEvent]:
    if not payment_intent_id:
        return []
    return list(
        WebhookEvent.objects.select_for_update()
        .filter(provider=provider, payment_intent_id=payment_intent_id, result=Result.DEFERRED)
        .order_by("provider_created_at", "created_at")
    )


def _stored_refund(event: WebhookEvent) -> ChargeRefund:
    return ChargeRefund(**(event.refund_state or {}))


def _refund_state_of(events: list[WebhookEvent]) -> tuple[int, bool]:
    """The cumulative refunded amount and full-refund flag reported by refund events."""
    refunds = [_stored_refund(event) for event in events]
    amount = max((refund.amount_refunded for refund in refunds), default=0)
    return amount, any(refund.is_fully_refunded for refund in refunds)


def _order_mark_paid(order: Order, session: CheckoutSession, *, now: datetime) -> EventOutcome:
    """The provider reports the money taken: paid, enrolled and receipted, in one transaction.

    Caller holds the order lock.
    """
    if order.status == Order.Status.PAID:
        return EventOutcome(Result.IGNORED, order, "Already paid.")
    if order.status == Order.Status.REFUNDED:
        return EventOutcome(Result.IGNORED, order, "Already refunded; not enrolled again.")
    if session.payment_intent_id and not order.provider_payment_intent_id:
        order.provider_payment_intent_id = session.payment_intent_id
        order.save(update_fields=["provider_payment_intent_id", "updated_at"])
    if session.amount != order.amount or session.currency != order.currency:
        reason = (
            f"Amount mismatch: the provider reports {session.amount} {session.currency}, "
            f"the order is {order.amount} {order.currency}. Nobody was enrolled."
        )
        _order_flag(order, reason)
        return EventOutcome(Result.FLAGGED, order, reason)
    deferred = _deferred_refunds(order.provider_payment_intent_id, order.provider)
    refunded, fully_refunded = _refund_state_of(deferred)
    if fully_refunded or refunded >= order.amount:
        # Refunded before the payment itself was reported: never enrol.
        _order_transition(order, Order.Status.REFUNDED, now=now)
        order.amount_refunded = order.amount
        order.save(update_fields=["amount_refunded", "updated_at"])
        _deferred_mark_applied(deferred, order)
        return EventOutcome(Result.PROCESSED, order, "Refunded before its payment: not enrolled.")
    _order_transition(order, Order.Status.PAID, now=now)
    if refunded:
        order.amount_refunded = refunded
        order.save(update_fields=["amount_refunded", "updated_at"])
    _deferred_mark_applied(deferred, order)
    _order_enrol(order)
    _send_receipt(order)
    return EventOutcome(Result.PROCESSED, order, "Paid and enrolled.")


def _deferred_mark_applied(events: list[WebhookEvent], order: Order) -> None:
    WebhookEvent.objects.filter(pk__in=[event.pk for event in events]).update(
        result=Result.PROCESSED,
        order=order,
        detail="Applied once its payment arrived.",
        updated_at=timezone.now(),
    )


def _order_close(order: Order, status: str, *, now: datetime) -> EventOutcome:
    if order.status == status:
        return EventOutcome(Result.IGNORED, order, f"Already {status}.")
    if not order.can_become(status):
        return EventOutcome(Result.IGNORED, order, f"The order is {order.status}; left as it is.")
    _order_transition(order, status, now=now)
    return EventOutcome(Result.PROCESSED, order, f"Order {status}.")


def _order_for_session(event: PaymentEvent) -> Order | None:
    session = event.session
    if session is None:
        return None
    try:
        order_id = uuid.UUID(session.order_id)
    except ValueError:
        order_id = None
    orders = Order.objects.select_for_update(of=("self",)).select_related("course", "user")
    order = orders.filter(provider=event.provider, pk=order_id).first() if order_id else None
    if order is None and session.id:
        order = orders.filter(provider=event.provider, provider_session_id=session.id).first()
    return order


def _apply_checkout_event(event: PaymentEvent, *, now: datetime) -> EventOutcome:
    session = event.session
    assert session is not None  # noqa: S101  (checkout kinds carry their session)
    order = _order_for_session(event)
    if order is None:
        return EventOutcome(Result.UNKNOWN_ORDER, None, "No order for this checkout session.")
    if order.provider_session_id and order.provider_session_id != session.id:
        reason = f"Event for checkout session {session.id}, not the order's own."
        _order_flag(order, reason)
        return EventOutcome(Result.FLAGGED, order, reason)
    if not order.provider_session_id:  # the answer to create_checkout was lost
        order.provider_session_id = session.id
        order.save(update_fields=["provider_session_id", "updated_at"])
    if event.kind in (PaymentEventKind.CHECKOUT_COMPLETED, PaymentEventKind.PAYMENT_SUCCEEDED):
        if session.is_paid:
            return _order_mark_paid(order, session, now=now)
        if session.payment_intent_id and not order.provider_payment_intent_id:
            order.provider_payment_intent_id = session.payment_intent_id
            order.save(update_fields=["provider_payment_intent_id", "updated_at"])
        return EventOutcome(Result.PROCESSED, order, "Checkout done; the payment is processing.")
    if event.kind == PaymentEventKind.PAYMENT_FAILED:
        return _order_close(order, Order.Status.FAILED, now=now)
    return _order_close(order, Order.Status.EXPIRED, now=now)


def _order_apply_refund(order: Order, refund: ChargeRefund, *, now: datetime) -> EventOutcome:
    """Record the refunded amount; a full refund refunds the order and removes access.

    Refund events carry the cumulative amount, so an older one arriving late changes
    nothing. Caller holds the order lock.
    """
    if refund.currency and refund.currency != order.currency:
        reason = f"Refund in {refund.currency} for an order in {order.currency}."
        _order_flag(order, reason)
        return EventOutcome(Result.FLAGGED, order, reason)
    if order.status == Order.Status.REFUNDED:
        return EventOutcome(Result.IGNORED, order, "Already refunded.")
    if refund.charge_id and not order.provider_charge_id:
        order.provider_charge_id = refund.charge_id
        order.save(update_fields=["provider_charge_id", "updated_at"])
    refunded = min(max(order.amount_refunded, refund.amount_refunded), order.amount)
    if refund.is_fully_refunded or refunded >= order.amount:
        _order_transition(order, Order.Status.REFUNDED, now=now)
        order.amount_refunded = order.amount
        order.save(update_fields=["amount_refunded", "updated_at"])
        _order_revoke_access(order)
        return EventOutcome(Result.PROCESSED, order, "Refunded; access removed.")
    if refunded == order.amount_refunded:
        return EventOutcome(Result.IGNORED, order, "No new refund.")
    order.amount_refunded = refunded
    order.save(update_fields=["amount_refunded", "updated_at"])
    return EventOutcome(Result.PROCESSED, order, "Partly refunded; access kept.")


def _order_revoke_access(order: Order) -> None:
    """End the enrolment this order paid for, unless another paid order still pays for it."""
    if order.enrollment_id is None:
        return
    other_payment = (
        Order.objects.filter(user_id=order.user_id, course_id=order.course_id, status="paid")
        .exclude(pk=order.pk)
        .exists()
    )
    if other_payment:
        return
    enrollment = Enrollment.objects.get(pk=order.enrollment_id)
    if enrollment.status != Enrollment.Status.REFUNDED:
        enrollment_cancel(enrollment=enrollment, status=Enrollment.Status.REFUNDED)


def _apply_refund_event(event: PaymentEvent, *, now: datetime) -> EventOutcome:
    refund = event.refund
    assert refund is not None  # noqa: S101  (refund kinds carry the charge)
    order = None
    if refund.payment_intent_id:
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("course", "user")
            .filter(provider=event.provider, provider_payment_intent_id=refund.payment_intent_id)
            .first()
        )
    if order is None:
        # Its payment has not been reported yet: applied when it is (or by the periodic sweep).
        return EventOutcome(Result.DEFERRED, None, "Waiting for its payment to be reported.")
    return _order_apply_refund(order, refund, now=now)


@transaction.atomic
def payment_event_apply(*, event: PaymentEvent, now: datetime | None = None) -> EventOutcome:
    """Apply a verified provider event to its order: the path of webhooks and reconciliation.

    Safe to apply twice: every change is a status transition checked under the order's row
    lock, so a repeated or late event is a no-op and a refunded order is never reopened.
    """
    now = now or timezone.now()
    if event.session is not None and event.kind != PaymentEventKind.OTHER:
        return _apply_checkout_event(event, now=now)
    if event.kind == PaymentEventKind.CHARGE_REFUNDED:
        return _apply_refund_event(event, now=now)
    return EventOutcome(Result.IGNORED, None, f"Event type {event.type} is not used.")


@transaction.atomic
def webhook_event_receive(*, event: PaymentEvent) -> tuple[WebhookEvent, bool]:
    """Store a verified event once by its id and apply it, in one transaction.

    Returns (stored event, whether it was new). A duplicate delivery finds the stored row
    (on PostgreSQL, a concurrent one waits on the unique index until the first commits)
    and changes nothing. If applying fails unexpectedly, nothing is stored and the provider
    delivers the event again.
    """
    stored, created = WebhookEvent.objects.get_or_create(
        provider=event.provider,
        event_id=event.id,
        defaults={
            "type": event.type[:100],
            "payload": event.payload,
            "provider_created_at": event.created_at,
            "result": Result.PROCESSED,
            "payment_intent_id": event.refund.payment_intent_id if event.refund else "",
            "refund_state": asdict(event.refund) if event.refund else None,
        },
    )
    if not created:
        return stored, False
    outcome = payment_event_apply(event=event)
    stored.result = outcome.result
    stored.order = outcome.order
    stored.detail = outcome.detail[:255]
    stored.save(update_fields=["result", "order", "detail", "updated_at"])
    return stored, True


# --- Refunds and review -------------------------------------------------------------------


def _provider_of(order: Order) -> PaymentProvider:
    if order.provider not in PROVIDER_CLASSES:
        raise OrderNotRefundable("Nothing was charged for this order.")
    provider = get_provider(order.provider)
    if not provider.is_configured():
        raise PaymentsUnavailable()
    return provider


def order_refund(
    *,
    order: Order,
    requested_by: User,
    amount: int | None = None,
    request: HttpRequest | None = None,
) -> RefundResult:
    """Ask the provider to refund `amount` (None: everything left) of a paid order.

    The order changes when the provider's refund event arrives (`charge.refunded`), the
    one path that marks orders refunded and removes access. The idempotency key is derived
    from the order's refunded amount so far: a repeated click refunds once.
    """
    provider = _provider_of(order)
    order = Order.objects.get(pk=order.pk)
    refundable = order.status == Order.Status.PAID or (
        order.needs_review and order.status != Order.Status.REFUNDED
    )
    if not refundable or not order.provider_payment_intent_id:
        raise OrderNotRefundable()
    remaining = order.amount - order.amount_refunded
    if amount is not None and not 1 <= amount <= remaining:
        raise RefundAmountInvalid(remaining=remaining)
    if remaining <= 0 and not order.needs_review:
        raise OrderNotRefundable()
    result = provider.refund(
        payment_intent_id=order.provider_payment_intent_id,
        amount=amount,
        idempotency_key=f"lms-refund-{order.pk}-{order.amount_refunded}-{amount or 'rest'}",
        metadata={"order_id": str(order.pk), "requested_by": str(requested_by.pk)},
    )
    # The audit log: about the buyer's account; the admin is recorded as the actor.
    security_event_record(
        kind="refund",
        user=order.user,
        request=request,
        metadata={
            "order_id": str(order.pk),
            "order_number": order.number,
            "refund_id": result.id,
            "refund_status": result.status,
            "amount": result.amount,
            "currency": result.currency,
            "requested_by": str(requested_by.pk),
        },
    )
    logger.info(
        "Refund %s of %s requested for order %s by %s",
        result.id,
        format_money(result.amount, result.currency),
        order.number,
        requested_by.email,
    )
    return result


@transaction.atomic
def order_review_resolve(*, order: Order) -> Order:
    """Clear the review flag once a person has dealt with the order."""
    order = _order_lock(order.pk)
    order.needs_review = False
    order.save(update_fields=["needs_review", "updated_at"])
    return order


# --- Reconciliation and expiry ------------------------------------------------------------


def _event_for_session(provider: str, session: CheckoutSession) -> PaymentEvent | None:
    """The event a webhook would have delivered for the session's current state."""
    if session.is_paid:
        kind = PaymentEventKind.CHECKOUT_COMPLETED
    elif session.status == "expired":
        kind = PaymentEventKind.CHECKOUT_EXPIRED
    else:
        return None
    return PaymentEvent(
        provider=provider,
        id=f"reconcile:{session.id}",
        type=f"reconcile.{kind}",
        kind=kind,
        created_at=None,
        payload={},
        session=session,
    )


def order_reconcile(
    *, order: Order, provider: PaymentProvider | None = None, now: datetime | None = None
) -> ReconcileOutcome:
    """Ask the provider about a pending order's checkout and apply what it reports.

    Uses `payment_event_apply`, the webhook's path. Raises PaymentProviderError when the
    provider cannot answer.
    """
    before = order.status
    if not order.provider_session_id:
        return ReconcileOutcome(order.pk, order.number, before, before, "No checkout session.")
    provider = provider or get_provider(order.provider)
    session = provider.fetch_session(order.provider_session_id)
    event = _event_for_session(provider.name, session)
    if event is None:
        detail = f"Checkout still {session.status or 'open'} ({session.payment_status})."
        return ReconcileOutcome(order.pk, order.number, before, before, detail)
    outcome = payment_event_apply(event=event, now=now)
    after = Order.objects.values_list("status", flat=True).get(pk=order.pk)
    return ReconcileOutcome(order.pk, order.number, before, after, outcome.detail)


@dataclass
class ExpiryReport:
    seen: int = 0
    expired: int = 0
    reconciled: int = 0
    skipped: int = 0
    deferred_applied: int = 0


@transaction.atomic
def _order_expire(order_id: uuid.UUID, *, now: datetime) -> bool:
    order = _order_lock(order_id)
    if order.status != Order.Status.PENDING:
        return False
    _order_transition(order, Order.Status.EXPIRED, now=now)
    return True


def orders_expire_stale(*, now: datetime | None = None, limit: int = 200) -> ExpiryReport:
    """Close pending orders whose checkout closed more than EXPIRY_GRACE ago.

    An order with a checkout session is reconciled with the provider first, so a payment
    whose webhook is late is recorded instead of expired; one the provider cannot answer
    for now is skipped until the next run. Orders flagged for review are left to a person.
    """
    now = now or timezone.now()
    report = ExpiryReport(deferred_applied=webhook_events_apply_deferred(now=now))
    stale = list(
        Order.objects.filter(
            status=Order.Status.PENDING,
            needs_review=False,
            checkout_expires_at__lt=now - EXPIRY_GRACE,
        ).order_by("checkout_expires_at")[:limit]
    )
    report.seen = len(stale)
    for order in stale:
        if order.provider_session_id and order.provider in PROVIDER_CLASSES:
            provider = get_provider(order.provider)
            if provider.is_configured():
                try:
                    outcome = order_reconcile(order=order, provider=provider, now=now)
                except PaymentProviderError:
                    report.skipped += 1
                    continue
                if outcome.changed:
                    report.reconciled += 1
                    continue
        if _order_expire(order.pk, now=now):
            report.expired += 1
    return report


def webhook_events_apply_deferred(*, now: datetime | None = None) -> int:
    """Apply refund events stored before their payment, whose order is now known.

    `_order_mark_paid` applies them as the payment arrives; this sweep catches the two
    arriving at the same moment, when neither transaction saw the other.
    """
    now = now or timezone.now()
    applied = 0
    pending = WebhookEvent.objects.filter(result=Result.DEFERRED).exclude(payment_intent_id="")
    for event_id in pending.values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            stored = WebhookEvent.objects.select_for_update().get(pk=event_id)
            order = (
                Order.objects.select_for_update(of=("self",))
                .select_related("course", "user")
                .filter(
                    provider=stored.provider,
                    provider_payment_intent_id=stored.payment_intent_id,
                )
                .first()
            )
            if stored.result != Result.DEFERRED or order is None:
                continue
            if order.status in (Order.Status.PAID, Order.Status.REFUNDED):
                outcome = _order_apply_refund(order, _stored_refund(stored), now=now)
                stored.result = outcome.result
                stored.detail = outcome.detail[:255]
            else:
                stored.result = Result.PROCESSED
                stored.detail = "Its order was never paid."
            stored.order = order
            stored.save(update_fields=["result", "detail", "order", "updated_at"])
            applied += 1
    return applied
