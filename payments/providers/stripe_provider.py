"""Stripe as a PaymentProvider: Checkout Sessions, signed webhooks, refunds.

Outbound calls go through the stripe library's `requests` client to `STRIPE_API_BASE`, with an
explicit timeout and the library's own network retries (safe: every write carries an
idempotency key). Stripe speaks lower-case currencies; orders use upper-case ISO 4217.
"""

import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import stripe
from django.conf import settings

from payments.errors import (
    InvalidWebhookPayload,
    InvalidWebhookSignature,
    PaymentProviderError,
    PaymentProviderUnreachable,
)
from payments.providers import (
    ChargeRefund,
    CheckoutRequest,
    CheckoutSession,
    PaymentEvent,
    PaymentEventKind,
    RefundResult,
)

logger = logging.getLogger(__name__)

# Seconds for connecting and reading; Stripe answers well within this.
TIMEOUT_SECONDS = (5, 30)
NETWORK_RETRIES = 2
SIGNATURE_TOLERANCE_SECONDS = 300

EVENT_KINDS = {
    "checkout.session.completed": PaymentEventKind.CHECKOUT_COMPLETED,
    "checkout.session.async_payment_succeeded": PaymentEventKind.PAYMENT_SUCCEEDED,
    "checkout.session.async_payment_failed": PaymentEventKind.PAYMENT_FAILED,
    "checkout.session.expired": PaymentEventKind.CHECKOUT_EXPIRED,
    "charge.refunded": PaymentEventKind.CHARGE_REFUNDED,
}

T = TypeVar("T")


def _timestamp(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def _id_of(value: Any) -> str:
    """An id from a field that is either an id or an expanded object."""
    if isinstance(value, Mapping):
        return str(value.get("id") or "")
    return str(value or "")


def session_from_data(data: Mapping[str, Any]) -> CheckoutSession:
    return CheckoutSession(
        id=str(data["id"]),
        url=str(data.get("url") or ""),
        status=str(data.get("status") or ""),
        payment_status=str(data.get("payment_status") or ""),
        amount=data.get("amount_total"),
        currency=str(data.get("currency") or "").upper(),
        order_id=str(
            data.get("client_reference_id") or (data.get("metadata") or {}).get("order_id") or ""
        ),
        payment_intent_id=_id_of(data.get("payment_intent")),
        expires_at=_timestamp(data.get("expires_at")),
    )


def refund_from_charge(data: Mapping[str, Any]) -> ChargeRefund:
    return ChargeRefund(
        charge_id=str(data["id"]),
        payment_intent_id=_id_of(data.get("payment_intent")),
        amount=int(data.get("amount") or 0),
        amount_refunded=int(data.get("amount_refunded") or 0),
        currency=str(data.get("currency") or "").upper(),
        is_fully_refunded=bool(data.get("refunded")),
    )


class StripeProvider:
    name = "stripe"

    def __init__(self, *, secret_key: str, webhook_secret: str, api_base: str) -> None:
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        self.api_base = api_base.rstrip("/")

    @classmethod
    def from_settings(cls) -> "StripeProvider":
        return cls(
            secret_key=settings.STRIPE_SECRET_KEY,
            webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
            api_base=settings.STRIPE_API_BASE,
        )

    def is_configured(self) -> bool:
        return bool(self.secret_key)

    def accepts_webhooks(self) -> bool:
        return bool(self.webhook_secret)

    def _client(self) -> stripe.StripeClient:
        return stripe.StripeClient(
            self.secret_key,
            base_addresses={"api": self.api_base},
            http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
            max_network_retries=NETWORK_RETRIES,
        )

    def _call(self, call: Callable[[stripe.StripeClient], T]) -> T:
        try:
            return call(self._client())
        except (stripe.APIConnectionError, stripe.RateLimitError) as error:
            logger.warning("Stripe unreachable: %s", error)
            raise PaymentProviderUnreachable() from error
        except stripe.StripeError as error:
            if error.http_status is None or error.http_status >= 500:
                logger.warning("Stripe failed: %s", error)
                raise PaymentProviderUnreachable() from error
            logger.warning("Stripe refused: %r", error)
            raise PaymentProviderError(
                f"The payment provider refused the request ({error.code or error.http_status})."
            ) from error

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        metadata = {"order_id": request.order_id, "order_number": request.order_number}
        metadata |= request.metadata
        params: dict[str, Any] = {
            "mode": "payment",
            "client_reference_id": request.order_id,
            "customer_email": request.customer_email,
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": request.amount,
                        "product_data": {"name": request.product_name[:250]},
                    },
                }
            ],
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "expires_at": int(request.expires_at.timestamp()),
        }
        session = self._call(
            lambda client: client.v1.checkout.sessions.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": request.idempotency_key},
            )
        )
        return session_from_data(session.to_dict())

    def fetch_session(self, session_id: str) -> CheckoutSession:
        session = self._call(lambda client: client.v1.checkout.sessions.retrieve(session_id))
        return session_from_data(session.to_dict())

    def expire_session(self, session_id: str) -> None:
        self._call(lambda client: client.v1.checkout.sessions.expire(session_id))

    def refund(
        self,
        *,
        payment_intent_id: str,
        amount: int | None,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> RefundResult:
        params: dict[str, Any] = {"payment_intent": payment_intent_id, "metadata": metadata}
        if amount is not None:
            params["amount"] = amount
        refund = self._call(
            lambda client: client.v1.refunds.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        )
        return RefundResult(
            id=refund.id,
            status=str(refund.status or ""),
            amount=int(refund.amount),
            currency=str(refund.currency).upper(),
        )

    def parse_webhook(self, *, payload: bytes, headers: Mapping[str, str]) -> PaymentEvent:
        try:
            stripe.Webhook.construct_event(
                payload,
                headers.get("Stripe-Signature"),
                self.webhook_secret,
                tolerance=SIGNATURE_TOLERANCE_SECONDS,
            )
        except stripe.SignatureVerificationError as error:
            raise InvalidWebhookSignature() from error
        except (ValueError, UnicodeDecodeError) as error:
            raise InvalidWebhookPayload() from error
        data = json.loads(payload)
        try:
            return self._event(data)
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidWebhookPayload() from error

    def _event(self, data: dict[str, Any]) -> PaymentEvent:
        event_type = str(data["type"])
        kind = EVENT_KINDS.get(event_type, PaymentEventKind.OTHER)
        obj = data["data"]["object"]
        return PaymentEvent(
            provider=self.name,
            id=str(data["id"]),
            type=event_type,
            kind=kind,
            created_at=_timestamp(data.get("created")),
            payload=data,
            session=session_from_data(obj) if event_type.startswith("checkout.session.") else None,
            refund=refund_from_charge(obj) if kind == PaymentEventKind.CHARGE_REFUNDED else None,
        )
