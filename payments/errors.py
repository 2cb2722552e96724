from lms.exceptions import ApplicationError


class PaymentsUnavailable(ApplicationError):
    status_code = 503
    default_code = "payments_unavailable"
    default_message = "Payments are not available right now."


class PaymentProviderError(ApplicationError):
    """The provider refused the request (a permanent error: retrying will not help)."""

    status_code = 502
    default_code = "payment_provider_error"
    default_message = "The payment provider refused the request."


class PaymentProviderUnreachable(PaymentProviderError):
    """A transient failure (network, rate limit, provider 5xx): worth retrying."""

    default_code = "payment_provider_unreachable"
    default_message = "The payment provider could not be reached. Try again in a moment."


class InvalidWebhookSignature(ApplicationError):
    default_code = "invalid_signature"
    default_message = "The webhook signature is missing, invalid or too old."


class InvalidWebhookPayload(ApplicationError):
    default_code = "invalid_payload"
    default_message = "The webhook body is not a valid event."


class CourseIsFree(ApplicationError):
    default_code = "course_is_free"
    default_message = "This course is free: enrol without checkout."


class AlreadyEnrolled(ApplicationError):
    status_code = 409
    default_code = "already_enrolled"
    default_message = "You are already enrolled in this course."


class OrderNotRefundable(ApplicationError):
    status_code = 409
    default_code = "order_not_refundable"
    default_message = "Only a paid order with money left to refund can be refunded."


class RefundAmountInvalid(ApplicationError):
    default_code = "refund_amount_invalid"
    default_message = "The refund amount must be between 1 and what is left to refund."

    def __init__(self, *, remaining: int) -> None:
        message = f"The refund amount must be between 1 and {remaining} (minor units)."
        super().__init__(message, fields={"amount": [message]})


class OrderStatusConflict(ApplicationError):
    status_code = 409
    default_code = "order_status_conflict"

    def __init__(self, *, current: str, wanted: str) -> None:
        super().__init__(f"An order cannot go from {current} to {wanted}.")
        self.current = current
        self.wanted = wanted


class CouponCodeTaken(ApplicationError):
    status_code = 409
    default_code = "coupon_code_taken"
    default_message = "Another coupon already uses this code."

    def __init__(self) -> None:
        super().__init__(fields={"code": [self.default_message]})


class CouponRefused(ApplicationError):
    """Base of the reasons a coupon is refused at checkout; each has its own code."""

    def __init__(self) -> None:
        super().__init__(fields={"coupon": [self.default_message]})


class CouponNotFound(CouponRefused):
    default_code = "coupon_not_found"
    default_message = "No coupon has this code."


class CouponInactive(CouponRefused):
    default_code = "coupon_inactive"
    default_message = "This coupon has been switched off."


class CouponNotYetValid(CouponRefused):
    default_code = "coupon_not_yet_valid"
    default_message = "This coupon is not valid yet."


class CouponExpired(CouponRefused):
    default_code = "coupon_expired"
    default_message = "This coupon has expired."


class CouponExhausted(CouponRefused):
    status_code = 409
    default_code = "coupon_exhausted"
    default_message = "This coupon has been used as many times as it may be."


class CouponNotApplicable(CouponRefused):
    default_code = "coupon_not_applicable"
    default_message = "This coupon is not valid for this course."


class CouponCurrencyMismatch(CouponRefused):
    default_code = "coupon_currency_mismatch"
    default_message = "This coupon is in another currency than the course price."
