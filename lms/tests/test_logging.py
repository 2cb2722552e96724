"""Request ids and structured logs: X-Request-ID in and out, JSON lines with the request's
context, and no password, token, secret or card number in any output."""

import io
import json
import logging

import pytest
from django.urls import reverse

from accounts.tests.factories import PASSWORD
from lms.celery import _request_id_to_headers
from lms.logs import JsonFormatter, PlainFormatter, request_id_var
from lms.mail import send_email_task
from lms.redaction import redact_text, redact_value

pytestmark = pytest.mark.django_db

TOKEN_URL = reverse("accounts_api:token-obtain")
ME_URL = reverse("accounts_api:me")
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiYWJjIiwiZXhwIjoxNzAwMDAwMDAwfQ"
    ".c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU"
)


def console_handler() -> logging.Handler:
    return next(h for h in logging.getLogger().handlers if h.get_name() == "console")


@pytest.fixture
def json_logs():
    """The configured console handler, writing JSON lines (the production format) here."""
    handler = console_handler()
    stream = io.StringIO()
    previous_stream = handler.setStream(stream)
    previous_formatter = handler.formatter
    handler.setFormatter(JsonFormatter())
    yield stream
    handler.setFormatter(previous_formatter)
    handler.setStream(previous_stream)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def access_line(stream: io.StringIO) -> dict:
    return next(line for line in lines(stream) if line["logger"] == "lms.request")


def test_a_request_id_is_generated_and_returned(api_client):
    response = api_client.get(ME_URL)

    assert len(response["X-Request-ID"]) == 32


def test_a_well_formed_client_request_id_is_kept(api_client):
    response = api_client.get(ME_URL, HTTP_X_REQUEST_ID="edge-7f3a.42:retry-1")

    assert response["X-Request-ID"] == "edge-7f3a.42:retry-1"


@pytest.mark.parametrize(
    ("_case", "supplied"),
    [
        ("line break", "abc\ninjected"),
        ("markup", "<script>"),
        ("too long", "a" * 129),
        ("spaces", "two words"),
    ],
)
def test_a_malformed_client_request_id_is_replaced(api_client, _case, supplied):
    response = api_client.get(ME_URL, HTTP_X_REQUEST_ID=supplied)

    assert response["X-Request-ID"] != supplied
    assert len(response["X-Request-ID"]) == 32


def test_probe_responses_carry_a_request_id_too(client):
    response = client.get("/health/live", HTTP_X_REQUEST_ID="probe-1")

    assert response["X-Request-ID"] == "probe-1"


def test_each_request_is_logged_once_as_json_with_its_context(json_logs, auth_client, student):
    auth_client(student).get(ME_URL, HTTP_X_REQUEST_ID="req-123")

    line = access_line(json_logs)
    assert line["level"] == "INFO"
    assert line["logger"] == "lms.request"
    assert line["request_id"] == "req-123"
    assert line["user_id"] == str(student.pk)
    assert line["path"] == ME_URL
    assert line["method"] == "GET"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], int | float)
    assert line["timestamp"].endswith("+00:00")


def test_an_anonymous_request_is_logged_without_a_user(json_logs, api_client):
    api_client.get(ME_URL)

    line = access_line(json_logs)
    assert line["status"] == 401
    assert "user_id" not in line


def test_the_query_string_is_not_logged(json_logs, api_client):
    api_client.get(ME_URL, {"token": "reset-token-value"})

    assert "reset-token-value" not in json_logs.getvalue()
    assert access_line(json_logs)["path"] == ME_URL


def test_passwords_and_authorization_headers_never_reach_the_logs(json_logs, api_client, student):
    api_client.post(
        TOKEN_URL,
        {"email": student.email, "password": "wrong-Password-42", "card_number": "4242"},
        HTTP_AUTHORIZATION=f"Bearer {JWT}",
    )
    api_client.post(TOKEN_URL, {"email": student.email, "password": PASSWORD})

    output = json_logs.getvalue()
    assert "lms.request" in output
    assert "wrong-Password-42" not in output
    assert PASSWORD not in output
    assert JWT not in output


def test_secrets_logged_by_mistake_are_redacted(json_logs):
    logger = logging.getLogger("lms.tests")

    logger.warning(
        "login failed: %s headers=%s",
        {"email": "a@example.com", "password": "hunter2", "card_number": "4242 4242 4242 4242"},
        {"Authorization": f"Bearer {JWT}", "Cookie": "sessionid=abc123"},
        extra={"refresh_token": "refresh-secret-value", "stripe_key": "sk_live_abcdefgh12345"},
    )

    output = json_logs.getvalue()
    for secret in ("hunter2", "4242 4242 4242 4242", JWT, "abc123", "refresh-secret-value"):
        assert secret not in output
    assert "sk_live_abcdefgh12345" not in output
    assert "a@example.com" in output  # only the secrets go
    assert "[REDACTED]" in output


def test_a_traceback_is_redacted(json_logs):
    try:
        raise ValueError("card 4111111111111111 declined for password=hunter2")
    except ValueError:
        logging.getLogger("lms.tests").exception("payment failed")

    output = json_logs.getvalue()
    assert "ValueError" in output
    assert "4111111111111111" not in output
    assert "hunter2" not in output


def test_plain_logs_show_the_request_id_and_redact_too():
    record = logging.LogRecord(
        "lms.tests", logging.INFO, __file__, 1, "token=%s", ("abcdef123456",), None
    )
    record.request_id = "req-9"

    text = PlainFormatter().format(record)

    assert "[req-9]" in text
    assert "abcdef123456" not in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("password=hunter2&email=a@b.c", "password=[REDACTED]&email=a@b.c"),
        ('{"new_password": "x y z"}', '{"new_password": "[REDACTED]"}'),
        ("Authorization: Basic dXNlcjpwYXNz", "Authorization: [REDACTED]"),
        ("paid with 4000 0566 5566 5556", "paid with [REDACTED]"),
        ("order 1234567890123 shipped", "order 1234567890123 shipped"),  # not a card (Luhn)
        ("secret whsec_abcdefghijklmnop", "secret [REDACTED]"),
    ],
)
def test_redact_text(text, expected):
    assert redact_text(text) == expected


def test_redact_value_blanks_sensitive_keys_at_any_depth():
    value = {"user": {"email": "a@b.c", "otp": "123456"}, "headers": [{"X-Api-Key": "k"}]}

    assert redact_value(value) == {
        "user": {"email": "a@b.c", "otp": "[REDACTED]"},
        "headers": [{"X-Api-Key": "[REDACTED]"}],
    }


# --- Celery tasks carry the request id ------------------------------------------------------
def test_a_task_sent_during_a_request_carries_its_id_in_the_message_headers():
    token = request_id_var.set("req-77")
    headers: dict = {}
    try:
        _request_id_to_headers(headers=headers)
    finally:
        request_id_var.reset(token)

    assert headers == {"request_id": "req-77"}


def test_a_task_logs_with_the_request_id_of_its_message(json_logs):
    send_email_task.apply(
        kwargs={"to": ["a@example.com"], "subject": "Hi", "text_body": "t", "html_body": "h"},
        headers={"request_id": "req-from-web"},
    )

    task_lines = [line for line in lines(json_logs) if line.get("task_name")]
    assert task_lines
    assert {line["request_id"] for line in task_lines} == {"req-from-web"}
    assert request_id_var.get() is None  # restored after the task
