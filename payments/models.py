"""Orders, coupons and the payment provider's webhook events. Writes go through payments.services.

Money is always an integer amount in minor units with its ISO 4217 currency.
"""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q

from courses.currencies import CURRENCY_CHOICES
from courses.models import Course
from enrollments.models import Enrollment
from lms.models import BaseModel

ORDER_NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone
COUPON_CODE_PATTERN = r"^[A-Z0-9][A-Z0-9_-]{2,39}$"


def order_number() -> str:
    """A short readable reference for receipts and support (the primary key stays a UUID)."""
    return "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(10))


class Coupon(BaseModel):
    """A discount code: percent or fixed amount off, optionally for one course only."""

    class Kind(models.TextChoices):
        PERCENT = "percent", "Percent off"
        AMOUNT = "amount", "Amount off"

    code = models.CharField(
        max_length=40,
        unique=True,
        validators=[
            RegexValidator(
                COUPON_CODE_PATTERN,
                "3 to 40 characters: upper-case letters, digits, '-' and '_'.",
            )
        ],
        help_text="Stored in upper case; customers may type it in any case.",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    percent_off = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="1 to 100, for percent coupons.",
    )
    amount_off = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="In minor units (cents), for amount coupons."
    )
    currency = models.CharField(
        max_length=3, choices=CURRENCY_CHOICES, blank=True, help_text="For amount coupons."
    )
    course = models.ForeignKey(
        Course,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="coupons",
        help_text="Leave empty for a coupon valid on every paid course.",
    )
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    max_redemptions = models.PositiveIntegerField(
        null=True, blank=True, help_text="Leave empty for unlimited redemptions."
    )
    # Orders holding the coupon: pending and paid ones. An expired, failed or cancelled
    # checkout gives its redemption back. Moved only by F() updates in payments.services.
    redemption_count = models.PositiveIntegerField(default=0, editable=False)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        kind="percent",
                        percent_off__gte=1,
                        percent_off__lte=100,
                        amount_off__isnull=True,
                    )
                    | (
                        Q(kind="amount", amount_off__gte=1, percent_off__isnull=True)
                        & ~Q(currency="")
                    )
                ),
                name="payments_coupon_discount_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(max_redemptions__isnull=True)
                | Q(redemption_count__lte=F("max_redemptions")),
                name="payments_coupon_redemptions_within_limit",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_from__lt=F("valid_until")),
                name="payments_coupon_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Order(BaseModel):
    """One purchase of one course by one learner.

    Status moves only through payments.services (`_order_transition`, checked against
    TRANSITIONS under the order's row lock).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"

    # The legal moves. A checkout that closed without money (expired, cancelled, failed)
    # still becomes paid if the provider later reports the money taken: a payment is never
    # dropped. Refunded is final: nothing resurrects a refunded order. Pending -> refunded is
    # a refund reported before the payment itself (events out of order).
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PENDING: frozenset(
            {Status.PAID, Status.FAILED, Status.EXPIRED, Status.CANCELLED, Status.REFUNDED}
        ),
        Status.EXPIRED: frozenset({Status.PAID, Status.REFUNDED}),
        Status.CANCELLED: frozenset({Status.PAID, Status.REFUNDED}),
        Status.FAILED: frozenset({Status.PAID, Status.REFUNDED}),
        Status.PAID: frozenset({Status.REFUNDED}),
        Status.REFUNDED: frozenset(),
    }

    number = models.CharField(max_length=12, unique=True, default=order_number, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="orders")
    list_amount = models.PositiveBigIntegerField(help_text="The course price at checkout.")
    discount_amount = models.PositiveBigIntegerField(default=0)
    amount = models.PositiveBigIntegerField(help_text="What is charged: list price - discount.")
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    amount_refunded = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    coupon = models.ForeignKey(
        Coupon, null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    # Whether this order counts in its coupon's redemption_count: from checkout until the
    # checkout closes without money (expired, failed, cancelled); taken again if paid late.
    coupon_held = models.BooleanField(default=False, editable=False)
    provider = models.CharField(
        max_length=20, help_text="The payment provider, or 'none' when nothing was charged."
    )
    provider_session_id = models.CharField(max_length=255, blank=True)
    provider_payment_intent_id = models.CharField(max_length=255, blank=True)
    provider_charge_id = models.CharField(max_length=255, blank=True)
    checkout_url = models.URLField(max_length=2000, blank=True)
    checkout_expires_at = models.DateTimeField(null=True, blank=True)
    enrollment = models.ForeignKey(
        Enrollment, null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(
        null=True, blank=True, help_text="When it failed, expired or was cancelled."
    )
    needs_review = models.BooleanField(default=False)
    review_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "course"],
                condition=Q(status="pending"),
                name="payments_order_one_pending_per_course",
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_session_id"],
                condition=~Q(provider_session_id=""),
                name="payments_order_unique_session",
            ),
            models.CheckConstraint(
                condition=Q(amount=F("list_amount") - F("discount_amount")),
                name="payments_order_amount_is_list_minus_discount",
            ),
            models.CheckConstraint(
                condition=Q(amount_refunded__lte=F("amount")),
                name="payments_order_refund_within_amount",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_at__isnull=False),
                name="payments_order_paid_has_time",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["pending", "paid", "failed", "expired", "cancelled", "refunded"]
                ),
                name="payments_order_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "checkout_expires_at"], name="payments_order_stale"),
            models.Index(fields=["course", "status"], name="payments_order_course_status"),
            models.Index(fields=["provider_payment_intent_id"], name="payments_order_intent"),
        ]

    def __str__(self) -> str:
        return self.number

    def can_become(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.status]


class WebhookEvent(BaseModel):
    """Every verified provider event, stored once by its id (the exactly-once guard)."""

    class Result(models.TextChoices):
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored (no change)"
        FLAGGED = "flagged", "Order flagged for review"
        DEFERRED = "deferred", "Waiting for its payment"
        UNKNOWN_ORDER = "unknown_order", "No matching order"

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    provider_created_at = models.DateTimeField(null=True, blank=True)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    # Set on refund events, so one that arrives before its payment can be applied later:
    # the payment's id and the provider-neutral refund state (payments.providers.ChargeRefund).
    payment_intent_id = models.CharField(max_length=255, blank=True)
    refund_state = models.JSONField(null=True, blank=True)
    result = models.CharField(max_length=20, choices=Result.choices)
    detail = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="payments_event_once_per_id"
            ),
        ]
        indexes = [
            models.Index(
                fields=["payment_intent_id"],
                condition=Q(result="deferred"),
                name="payments_event_deferred",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
