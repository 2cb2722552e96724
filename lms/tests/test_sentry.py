"""Sentry: SENTRY_DSN turns on the Django, Celery and Redis integrations with environment and
release tags and no personal data, and every event is built with its secrets scrubbed.

Runs in a fresh interpreter (Sentry patches Django and Celery process-wide) with a transport
that keeps the events in memory: nothing goes over the network.
"""

import json
import os

from lms.tests.processes import run_python

SCRIPT = r"""
import json, sys
import django
django.setup()
import sentry_sdk
from sentry_sdk.transport import Transport
from django.test import Client
from django.test.utils import override_settings
from lms.sentry import sentry_init

envelopes = []

class MemoryTransport(Transport):
    def capture_envelope(self, envelope):
        envelopes.append(envelope.serialize().decode("utf-8", "replace"))

sentry_init(
    dsn="https://public@o0.ingest.sentry.invalid/1",
    environment="production",
    release="lms@1.2.3",
    traces_sample_rate=0.0,
    transport=MemoryTransport,
)

def charge(card_number, password):
    api_token = "tok_live_secret_value_123"
    raise ValueError(
        f"card {card_number} declined; Authorization: Bearer "
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    )

try:
    charge("4242 4242 4242 4242", "hunter2-password")
except ValueError:
    sentry_sdk.capture_exception()

with override_settings(ROOT_URLCONF="lms.tests.urls_failing", ALLOWED_HOSTS=["testserver"]):
    Client(raise_request_exception=False).post(
        "/boom/?token=query-secret-token",
        {"password": "form-password-value", "email": "a@example.com"},
        HTTP_AUTHORIZATION="Bearer header-secret-token-value",
        HTTP_COOKIE="sessionid=cookie-secret-value",
        HTTP_X_REQUEST_ID="req-sentry-1",
    )

sentry_sdk.flush()
client = sentry_sdk.get_client()
print(json.dumps({
    "integrations": sorted(client.integrations),
    "send_default_pii": client.options["send_default_pii"],
    "envelopes": envelopes,
}))
"""

SECRETS = (
    "4242 4242 4242 4242",
    "hunter2-password",
    "tok_live_secret_value_123",
    "eyJhbGciOiJIUzI1NiJ9",
    "query-secret-token",
    "form-password-value",
    "header-secret-token-value",
    "cookie-secret-value",
)


def run_sentry_script() -> dict:
    env = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
    result = run_python(SCRIPT, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_sentry_reports_with_integrations_tags_and_secrets_scrubbed():
    report = run_sentry_script()
    envelopes = "\n".join(report["envelopes"])

    assert {"django", "celery", "redis"} <= set(report["integrations"])
    assert report["send_default_pii"] is False
    assert envelopes.count('"type":"event"') >= 2  # the captured error and the failing request
    assert '"environment":"production"' in envelopes
    assert '"release":"lms@1.2.3"' in envelopes
    assert '"request_id":"req-sentry-1"' in envelopes
    assert "BoomError" in envelopes
    for secret in SECRETS:
        assert secret not in envelopes, secret
