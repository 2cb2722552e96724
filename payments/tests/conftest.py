"""Stripe, offline: a fake Stripe API behind `responses` and really signed webhook events.

Outbound calls go through the stripe library and `requests` as in production; `responses`
answers them at the HTTP layer from a small in-memory Stripe (sessions, refunds, idempotency
keys). Webhook bodies are signed with the test secret the way Stripe signs them
(`t=<timestamp>,v1=<HMAC-SHA256 of "<timestamp>.<body>">`), so the library's real
verification runs.
"""

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from typing import Any
from urllib.parse import parse_qsl

import pytest
import responses
from django.utils import timezone

from courses.tests.factories import course_with_content

API_BASE = "https://stripe.test"
WEBHOOK_SECRET = "whsec_test_secret"
WEBHOOK_URL = "/api/v1/payments/webhooks/stripe/"


def _unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (`a[b][0][c]=v`) back to nested dicts (lists stay dicts)."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = result
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return result


class FakeStripe:
    """Enough of Stripe's API for checkout, retrieval, expiry and refunds."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.sessions: dict[str, dict[str, Any]] = {}
        self.refunds: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, dict[str, Any], dict[str, str]]] = []
        self.idempotent: dict[str, tuple[int, dict, str]] = {}
        self.fail_next: list[tuple[int, dict[str, Any]]] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        base = re.escape(API_BASE)
        mock.add_callback("POST", f"{API_BASE}/v1/checkout/sessions", self._create_session)
        mock.add_callback(
            "POST", re.compile(rf"{base}/v1/checkout/sessions/[^/]+/expire"), self._expire
        )
        mock.add_callback("GET", re.compile(rf"{base}/v1/checkout/sessions/[^/]+$"), self._retrieve)
        mock.add_callback("POST", f"{API_BASE}/v1/refunds", self._create_refund)

    # --- what tests look at and change ---

    def calls(self, method: str, path_prefix: str) -> list[dict[str, Any]]:
        return [
            params
            for call_method, path, params, _ in self.requests
            if call_method == method and path.startswith(path_prefix)
        ]

    def headers_of(self, method: str, path_prefix: str) -> list[dict[str, str]]:
        return [
            headers
            for call_method, path, _, headers in self.requests
            if call_method == method and path.startswith(path_prefix)
        ]

    def pay(self, session_id: str, *, payment_intent: str | None = None) -> dict[str, Any]:
        session = self.sessions[session_id]
        session.update(
            status="complete",
            payment_status="paid",
            payment_intent=payment_intent or f"pi_{session_id}",
        )
        return session

    # --- the fake endpoints ---

    def _record(self, request: Any) -> dict[str, Any]:
        path = request.path_url.split("?")[0]
        body = request.body or ""
        if isinstance(body, bytes):
            body = body.decode()
        params = _unflatten(parse_qsl(body))
        headers = {key: value for key, value in request.headers.items()}
        self.requests.append((request.method, path, params, headers))
        return params

    def _respond(self, request: Any, handler: Any) -> tuple[int, dict, str]:
        with self._lock:
            params = self._record(request)
            key = request.headers.get("Idempotency-Key")
            if key and key in self.idempotent:
                return self.idempotent[key]
            if self.fail_next:
                status, error = self.fail_next.pop(0)
                return status, {}, json.dumps({"error": error})
            answer = (200, {"Content-Type": "application/json"}, json.dumps(handler(params)))
            if key:
                self.idempotent[key] = answer
            return answer

    def _create_session(self, request: Any) -> tuple[int, dict, str]:
        def create(params: dict[str, Any]) -> dict[str, Any]:
            session_id = f"cs_test_{next(self._ids)}"
            item = params["line_items"]["0"]["price_data"]
            session = {
                "id": session_id,
                "object": "checkout.session",
                "url": f"https://checkout.stripe.test/c/pay/{session_id}",
                "status": "open",
                "payment_status": "unpaid",
                "mode": params["mode"],
                "amount_total": int(item["unit_amount"]),
                "currency": item["currency"],
                "client_reference_id": params["client_reference_id"],
                "customer_email": params.get("customer_email"),
                "expires_at": int(params["expires_at"]),
                "metadata": params.get("metadata", {}),
                "payment_intent": None,
            }
            self.sessions[session_id] = session
            return session

        return self._respond(request, create)

    def _retrieve(self, request: Any) -> tuple[int, dict, str]:
        session_id = request.path_url.split("?")[0].rstrip("/").split("/")[-1]
        return self._respond(request, lambda params: self.sessions[session_id])

    def _expire(self, request: Any) -> tuple[int, dict, str]:
        session_id = request.path_url.split("/")[-2]

        def expire(params: dict[str, Any]) -> dict[str, Any]:
            self.sessions[session_id]["status"] = "expired"
            return self.sessions[session_id]

        return self._respond(request, expire)

    def _create_refund(self, request: Any) -> tuple[int, dict, str]:
        def refund(params: dict[str, Any]) -> dict[str, Any]:
            created = {
                "id": f"re_test_{next(self._ids)}",
                "object": "refund",
                "status": "succeeded",
                "amount": int(params["amount"]) if "amount" in params else 4900,
                "currency": "usd",
                "payment_intent": params["payment_intent"],
                "metadata": params.get("metadata", {}),
            }
            self.refunds.append(created)
            return created

        return self._respond(request, refund)


@pytest.fixture(autouse=True)
def _stripe_settings(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_fake"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = API_BASE
    settings.STRIPE_SUCCESS_URL = (
        "https://app.test/orders/{ORDER_ID}/?session={CHECKOUT_SESSION_ID}"
    )
    settings.STRIPE_CANCEL_URL = "https://app.test/courses/{COURSE_SLUG}/"


@pytest.fixture(autouse=True)
def stripe_api():
    """Every outbound HTTP call answered by FakeStripe; anything else fails the call."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeStripe(mock)


@pytest.fixture
def paid_course(instructor):
    return course_with_content(owner=instructor, published=True, paid=True)


# --- Webhook events, built like Stripe's and signed like Stripe signs them -----------------

_event_ids = itertools.count(1)


def sign(payload: str, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(
        secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def event(event_type: str, obj: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_test_{next(_event_ids)}",
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "created": int(timezone.now().timestamp()),
        "livemode": False,
        "pending_webhooks": 1,
        "type": event_type,
        "data": {"object": obj},
    }


def session_object(
    order,
    *,
    payment_status: str = "paid",
    status: str = "complete",
    amount: int | None = None,
    currency: str | None = None,
    payment_intent: str | None = None,
    session_id: str | None = None,
) -> dict[str, Any]:
    session_id = session_id or order.provider_session_id
    return {
        "id": session_id,
        "object": "checkout.session",
        "amount_total": order.amount if amount is None else amount,
        "currency": (currency or order.currency).lower(),
        "client_reference_id": str(order.pk),
        "metadata": {"order_id": str(order.pk)},
        "mode": "payment",
        "payment_intent": payment_intent or f"pi_{session_id}",
        "payment_status": payment_status,
        "status": status,
        "expires_at": int(timezone.now().timestamp()) + 3600,
        "url": None,
    }


def completed_event(order, **fields: Any) -> dict[str, Any]:
    event_id = fields.pop("event_id", None)
    return event("checkout.session.completed", session_object(order, **fields), event_id=event_id)


def charge_object(
    *, payment_intent: str, amount: int = 4900, refunded_amount: int = 4900, currency="usd"
) -> dict[str, Any]:
    return {
        "id": f"ch_{payment_intent}",
        "object": "charge",
        "amount": amount,
        "amount_refunded": refunded_amount,
        "currency": currency,
        "payment_intent": payment_intent,
        "refunded": refunded_amount >= amount,
        "status": "succeeded",
    }


def refunded_event(*, payment_intent: str, event_id: str | None = None, **fields: Any):
    return event(
        "charge.refunded", charge_object(payment_intent=payment_intent, **fields), event_id=event_id
    )


def post_event(client, body: dict[str, Any], *, signature: str | None = None, **sign_options):
    payload = json.dumps(body)
    headers = {}
    signature = signature if signature is not None else sign(payload, **sign_options)
    if signature:
        headers["HTTP_STRIPE_SIGNATURE"] = signature
    return client.post(WEBHOOK_URL, data=payload, content_type="application/json", **headers)
