"""Signatures of outgoing webhook deliveries, and how a receiver checks them.

Each delivery carries `X-LMS-Signature: t=<unix time>,v1=<hex>`, where the hex is
HMAC-SHA256 with the endpoint's secret over `<unix time>.<raw request body>`. A receiver
recomputes it over the raw body, compares in constant time, and refuses timestamps older than
a few minutes (replays). `signature_verify` is that check, for receivers written in Python.
"""

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-LMS-Signature"
TIMESTAMP_HEADER = "X-LMS-Timestamp"
EVENT_ID_HEADER = "X-LMS-Event-Id"
EVENT_TYPE_HEADER = "X-LMS-Event-Type"
DELIVERY_ID_HEADER = "X-LMS-Delivery-Id"
DEFAULT_TOLERANCE_SECONDS = 300


def signature_compute(*, secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `<timestamp>.<body>` under `secret`."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature_compute(secret=secret, timestamp=timestamp, body=body)}"


def signature_verify(
    *,
    secret: str,
    header: str,
    body: bytes,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when `header` signs `body` with `secret` and its timestamp is recent enough."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance_seconds:
        return False
    expected = signature_compute(secret=secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(expected, parts.get("v1", ""))
