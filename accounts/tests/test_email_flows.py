"""Email verification (24 h, single use) and password reset (30 min, single use, no
enumeration, ends every session)."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import AccountToken, SecurityEvent
from accounts.tests.conftest import ME_URL, TOKEN_URL, bearer
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

REGISTER_URL = reverse("accounts_api:register")
REFRESH_URL = reverse("accounts_api:token-refresh")
VERIFY_REQUEST_URL = reverse("accounts_api:verify-email-request")
VERIFY_CONFIRM_URL = reverse("accounts_api:verify-email-confirm")
RESET_URL = reverse("accounts_api:password-reset")
RESET_CONFIRM_URL = reverse("accounts_api:password-reset-confirm")
NEW_PASSWORD = "a-brand-new-passphrase-42"


def link_token(message, path: str) -> str:
    """The token of the link to `path` in a sent email, checked in both parts."""
    pattern = rf"http://127\.0\.0\.1:8000{re.escape(path)}\?token=([\w-]+)"
    text_token = re.search(pattern, message.body).group(1)
    html_token = re.search(pattern, message.alternatives[0][0]).group(1)
    assert text_token == html_token
    return text_token


# --- Email verification --------------------------------------------------------------------


def test_registration_mails_a_verification_link(api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(
            REGISTER_URL, {"email": "new@example.com", "password": PASSWORD, "full_name": "New"}
        )

    message = mail.outbox[1]
    assert message.to == ["new@example.com"]
    assert message.subject == "Confirm your email address for LMS"
    assert "expires in 24 hours" in message.body
    assert link_token(message, "/accounts/verify-email/")


def test_the_link_verifies_the_address_once(api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(
            REGISTER_URL, {"email": "new@example.com", "password": PASSWORD, "full_name": "New"}
        )
    token = link_token(mail.outbox[1], "/accounts/verify-email/")

    first = api_client.post(VERIFY_CONFIRM_URL, {"token": token})
    again = api_client.post(VERIFY_CONFIRM_URL, {"token": token})

    assert first.status_code == 200
    assert first.json()["email"] == "new@example.com"
    assert first.json()["email_verified_at"] is not None
    assert again.status_code == 400
    assert again.json()["code"] == "invalid_token"
    assert list(again.json()["fields"]) == ["token"]
    assert SecurityEvent.objects.filter(kind="email_verified").count() == 1


def test_the_verification_link_expires_after_24_hours(
    api_client, student, clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.email_verification_request(user=student)
    token = link_token(mail.outbox[0], "/accounts/verify-email/")
    clock.tick(timedelta(hours=24, seconds=1))

    response = api_client.post(VERIFY_CONFIRM_URL, {"token": token})

    assert response.status_code == 400
    student.refresh_from_db()
    assert student.email_verified_at is None


def test_a_signed_in_user_asks_for_a_new_link(
    auth_client, student, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client(student).post(VERIFY_REQUEST_URL, {})

    assert response.status_code == 202
    assert [message.to for message in mail.outbox] == [[student.email]]


def test_a_verification_request_by_address_says_the_same_for_any_address(
    api_client, student, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        known = api_client.post(VERIFY_REQUEST_URL, {"email": student.email.upper()})
        unknown = api_client.post(VERIFY_REQUEST_URL, {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert [message.to for message in mail.outbox] == [[student.email]]


def test_no_link_for_an_address_already_verified(
    auth_client, student, django_capture_on_commit_callbacks
):
    student.email_verified_at = timezone.now()
    student.save()

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client(student).post(VERIFY_REQUEST_URL, {})

    assert response.status_code == 202
    assert mail.outbox == []


def test_verification_mails_are_limited_to_one_a_minute(
    auth_client, student, clock, django_capture_on_commit_callbacks
):
    client = auth_client(student)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(VERIFY_REQUEST_URL, {})
        client.post(VERIFY_REQUEST_URL, {})
        clock.tick(61)
        client.post(VERIFY_REQUEST_URL, {})

    assert len(mail.outbox) == 2


def test_an_anonymous_verification_request_needs_an_address(api_client):
    response = api_client.post(VERIFY_REQUEST_URL, {})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["email"]


def test_verification_tokens_are_stored_hashed_for_24_hours(student, clock):
    services.email_verification_request(user=student)

    token = AccountToken.objects.get(user=student)

    assert token.purpose == "email_verification"
    assert token.expires_at == token.created_at + timedelta(hours=24)
    assert len(token.token_hash) == 64  # only the hash is stored


# --- Password reset ------------------------------------------------------------------------


def request_reset(client, email: str, capture) -> object:
    with capture(execute=True):
        response = client.post(RESET_URL, {"email": email})
    return response


def test_reset_answers_the_same_for_known_and_unknown_addresses(
    api_client, student, django_capture_on_commit_callbacks
):
    known = request_reset(api_client, student.email, django_capture_on_commit_callbacks)
    unknown = request_reset(api_client, "nobody@example.com", django_capture_on_commit_callbacks)

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert known.content == unknown.content
    assert [message.to for message in mail.outbox] == [[student.email]]


def test_reset_request_does_the_same_database_work_either_way(
    api_client, student, django_assert_num_queries
):
    """The same queries whatever the address; the mail itself is a task after the commit, so
    the answer's timing does not tell either."""
    # A savepoint, the lookup, the audit row, the savepoint's release.
    with django_assert_num_queries(4):
        api_client.post(RESET_URL, {"email": student.email})
    with django_assert_num_queries(4):
        api_client.post(RESET_URL, {"email": "nobody@example.com"})


def test_no_reset_mail_for_a_deactivated_account(api_client, django_capture_on_commit_callbacks):
    user = UserFactory(inactive=True)

    response = request_reset(api_client, user.email, django_capture_on_commit_callbacks)

    assert response.status_code == 202
    assert mail.outbox == []


def test_the_reset_link_sets_a_new_password(
    api_client, student, django_capture_on_commit_callbacks
):
    request_reset(api_client, student.email, django_capture_on_commit_callbacks)
    message = mail.outbox[0]
    token = link_token(message, "/accounts/password-reset/confirm/")

    response = api_client.post(RESET_CONFIRM_URL, {"token": token, "new_password": NEW_PASSWORD})

    assert message.subject == "Reset your LMS password"
    assert "expires in 30 minutes" in message.body
    assert response.status_code == 204
    student.refresh_from_db()
    assert student.check_password(NEW_PASSWORD)
    login = api_client.post(TOKEN_URL, {"email": student.email, "password": NEW_PASSWORD})
    assert login.status_code == 200


def test_the_reset_link_works_once(api_client, student, django_capture_on_commit_callbacks):
    request_reset(api_client, student.email, django_capture_on_commit_callbacks)
    token = link_token(mail.outbox[0], "/accounts/password-reset/confirm/")
    api_client.post(RESET_CONFIRM_URL, {"token": token, "new_password": NEW_PASSWORD})

    again = api_client.post(RESET_CONFIRM_URL, {"token": token, "new_password": "another-pass-99"})

    assert again.status_code == 400
    assert again.json()["code"] == "invalid_token"
    student.refresh_from_db()
    assert student.check_password(NEW_PASSWORD)


def test_the_reset_link_expires_after_30_minutes(
    api_client, student, clock, django_capture_on_commit_callbacks
):
    request_reset(api_client, student.email, django_capture_on_commit_callbacks)
    token = link_token(mail.outbox[0], "/accounts/password-reset/confirm/")
    clock.tick(timedelta(minutes=30, seconds=1))

    response = api_client.post(RESET_CONFIRM_URL, {"token": token, "new_password": NEW_PASSWORD})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_token"
    student.refresh_from_db()
    assert student.check_password(PASSWORD)


def test_a_new_reset_link_retires_the_previous_one(
    api_client, student, clock, django_capture_on_commit_callbacks
):
    request_reset(api_client, student.email, django_capture_on_commit_callbacks)
    clock.tick(61)
    request_reset(api_client, student.email, django_capture_on_commit_callbacks)
    first, second = (
        link_token(message, "/accounts/password-reset/confirm/") for message in mail.outbox
    )

    old = api_client.post(RESET_CONFIRM_URL, {"token": first, "new_password": NEW_PASSWORD})
    new = api_client.post(RESET_CONFIRM_URL, {"token": second, "new_password": NEW_PASSWORD})

    assert (old.status_code, new.status_code) == (400, 204)


def test_reset_mails_are_limited_to_one_a_minute(
    api_client, student, django_capture_on_commit_callbacks
):
    for _ in range(3):
        request_reset(api_client, student.email, django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 1


def test_a_weak_new_password_is_refused_and_the_link_stays_usable(
    api_client, student, django_capture_on_commit_callbacks
):
    request_reset(api_client, student.email, django_capture_on_commit_callbacks)
    token = link_token(mail.outbox[0], "/accounts/password-reset/confirm/")

    weak = api_client.post(RESET_CONFIRM_URL, {"token": token, "new_password": "123"})
    strong = api_client.post(RESET_CONFIRM_URL, {"token": token, "new_password": NEW_PASSWORD})

    assert weak.status_code == 400
    assert list(weak.json()["fields"]) == ["new_password"]
    assert strong.status_code == 204


def test_a_made_up_reset_token_is_refused(api_client):
    response = api_client.post(RESET_CONFIRM_URL, {"token": "x" * 43, "new_password": NEW_PASSWORD})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_token"


def test_a_reset_ends_every_session_of_the_account(
    api_client, student, django_capture_on_commit_callbacks
):
    laptop = api_client.post(TOKEN_URL, {"email": student.email, "password": PASSWORD}).json()
    request_reset(api_client, student.email, django_capture_on_commit_callbacks)
    token = link_token(mail.outbox[0], "/accounts/password-reset/confirm/")

    api_client.post(RESET_CONFIRM_URL, {"token": token, "new_password": NEW_PASSWORD})

    me = bearer(laptop["access"]).get(ME_URL)
    assert me.status_code == 401
    assert me.json()["code"] == "password_changed"
    assert api_client.post(REFRESH_URL, {"refresh": laptop["refresh"]}).status_code == 401


def test_a_reset_ends_the_lockout(api_client, student, django_capture_on_commit_callbacks):
    for _ in range(5):
        api_client.post(TOKEN_URL, {"email": student.email, "password": "wrong-password"})
    request_reset(api_client, student.email, django_capture_on_commit_callbacks)
    token = link_token(mail.outbox[0], "/accounts/password-reset/confirm/")

    api_client.post(RESET_CONFIRM_URL, {"token": token, "new_password": NEW_PASSWORD})

    login = api_client.post(TOKEN_URL, {"email": student.email, "password": NEW_PASSWORD})
    assert login.status_code == 200
