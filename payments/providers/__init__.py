"""The payment provider interface: what orders need from a provider, in provider-neutral terms.

Orders, coupons and enrolments only ever see these types. A provider (Stripe today; a regional
one such as MyFatoorah or Paymob later) implements `PaymentProvider` in its own module, is
listed in PROVIDER_CLASSES, and gets a webhook URL of its own. `PAYMENTS_PROVIDER` (settings)
names the one checkout uses.
"""

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

PROVIDER_CLASSES = {
    "stripe": "payments.providers.stripe_provider.StripeProvider",
}


@dataclass(frozen=True)
class CheckoutRequest:
    """A hosted checkout page for one order. `idempotency_key` is stable per order."""

    order_id: str
    order_number: str
    amount: int
    currency: str
    product_name: str
    customer_email: str
    success_url: str
    cancel_url: str
    expires_at: datetime
    idempotency_key: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckoutSession:
    """The provider's checkout session as orders see it (currency upper-case)."""

    id: str
    url: str
    status: str  # open | complete | expired
    payment_status: str  # paid | unpaid | no_payment_required
    amount: int | None
    currency: str
    order_id: str  # our reference, as sent in CheckoutRequest.order_id
    payment_intent_id: str = ""
    expires_at: datetime | None = None

    @property
    def is_paid(self) -> bool:
        return self.payment_status == "paid"


@dataclass(frozen=True)
class ChargeRefund:
    """The refund state of a charge: `amount_refunded` is cumulative."""

    charge_id: str
    payment_intent_id: str
    amount: int
    amount_refunded: int
    currency: str
    is_fully_refunded: bool


@dataclass(frozen=True)
class RefundResult:
    id: str
    status: str
    amount: int
    currency: str


class PaymentEventKind(enum.StrEnum):
    CHECKOUT_COMPLETED = "checkout_completed"
    PAYMENT_SUCCEEDED = "payment_succeeded"
    PAYMENT_FAILED = "payment_failed"
    CHECKOUT_EXPIRED = "checkout_expired"
    CHARGE_REFUNDED = "charge_refunded"
    OTHER = "other"


@dataclass(frozen=True)
class PaymentEvent:
    """A verified provider event. `session` is set for checkout kinds, `refund` for refunds."""

    provider: str
    id: str
    type: str
    kind: PaymentEventKind
    created_at: datetime | None
    payload: dict[str, Any]
    session: CheckoutSession | None = None
    refund: ChargeRefund | None = None


class PaymentProvider(Protocol):
    name: str

    def is_configured(self) -> bool:
        """Can create checkouts and refunds (has its API credentials)."""

    def accepts_webhooks(self) -> bool:
        """Can verify incoming webhooks (has its signing secret)."""

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession: ...

    def parse_webhook(self, *, payload: bytes, headers: Mapping[str, str]) -> PaymentEvent:
        """Verify the signature over the raw body and parse it (InvalidWebhookSignature)."""

    def fetch_session(self, session_id: str) -> CheckoutSession: ...

    def expire_session(self, session_id: str) -> None: ...

    def refund(
        self,
        *,
        payment_intent_id: str,
        amount: int | None,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> RefundResult:
        """Refund `amount` (None: everything left) of the payment."""


def get_provider(name: str | None = None) -> PaymentProvider:
    """The provider called `name`, or the one checkout uses (settings.PAYMENTS_PROVIDER)."""
    name = name or settings.PAYMENTS_PROVIDER
    provider_class = import_string(PROVIDER_CLASSES[name])
    provider: PaymentProvider = provider_class.from_settings()
    return provider
