import smtplib

import pytest
from django.core import mail
from django.db import transaction

from lms.mail import send_email_task, send_templated_email

pytestmark = pytest.mark.django_db


def send_welcome() -> None:
    send_templated_email(
        to=["ann@example.com"], subject="Hi", template="welcome", context={"full_name": "Ann"}
    )


def test_templated_email_is_sent_with_text_and_html_after_commit(
    django_capture_on_commit_callbacks, settings
):
    settings.SITE_NAME = "Acme Academy"

    with django_capture_on_commit_callbacks(execute=True):
        send_welcome()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Hi"
    assert message.to == ["ann@example.com"]
    assert "Hello Ann" in message.body
    assert "Acme Academy" in message.body  # the base layout's footer
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "Hello Ann" in html
    assert "<table" in html


def test_templated_email_is_not_sent_before_the_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send_welcome()

    assert len(callbacks) == 1
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_templated_email_is_dropped_when_the_transaction_rolls_back():
    class Abort(Exception):
        pass

    def send_then_fail() -> None:
        with transaction.atomic():
            send_welcome()
            raise Abort

    with pytest.raises(Abort):
        send_then_fail()

    assert mail.outbox == []


def test_email_task_goes_to_the_emails_queue():
    route = send_email_task.app.amqp.router.route({}, send_email_task.name)

    assert route["queue"].name == "emails"


def fake_smtp_send(monkeypatch, *errors: Exception) -> list[int]:
    """Make sending raise the given errors in turn, then succeed; returns the attempt log."""
    attempts: list[int] = []

    def send(self, fail_silently=False):
        attempts.append(1)
        if len(attempts) <= len(errors):
            raise errors[len(attempts) - 1]
        return 1

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", send)
    monkeypatch.setattr(send_email_task, "retry_backoff", False)  # eager retries run inline
    return attempts


EMAIL = {"to": ["a@example.com"], "subject": "S", "text_body": "t", "html_body": "<p>h</p>"}


def test_email_task_retries_a_dropped_smtp_connection(monkeypatch):
    attempts = fake_smtp_send(monkeypatch, smtplib.SMTPServerDisconnected("gone"))

    send_email_task.apply(kwargs=EMAIL, throw=False)

    assert len(attempts) == 2


def test_email_task_does_not_retry_a_refused_recipient(monkeypatch):
    refused = smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"no such user")})
    attempts = fake_smtp_send(monkeypatch, refused)

    result = send_email_task.apply(kwargs=EMAIL, throw=False)

    assert len(attempts) == 1
    assert result.state == "FAILURE"


def test_text_part_is_not_html_escaped_but_the_html_part_is(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send_templated_email(
            to=["o@example.com"],
            subject="Hi",
            template="welcome",
            context={"full_name": "Seán O'Brien & <Co>"},
        )

    message = mail.outbox[0]
    assert "Hello Seán O'Brien & <Co>," in message.body
    assert "Seán O&#x27;Brien &amp; &lt;Co&gt;" in message.alternatives[0][0]
