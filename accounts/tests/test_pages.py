"""The account pages: sign-up, log-in with the lockout and the MFA step, log-out, email
verification, password reset, profile and the security page."""

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.models import AccountToken, SecurityEvent, User
from accounts.tests.conftest import enable_mfa, totp_code, totp_device
from accounts.tests.factories import PASSWORD, UserFactory
from accounts.views import MFA_PENDING_SESSION_KEY
from lms.throttles import AuthRateThrottle

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"
LOGIN_CODE_URL = "/accounts/login/code/"
SIGNUP_URL = "/accounts/signup/"
VERIFY_URL = "/accounts/verify-email/"
RESEND_URL = "/accounts/verify-email/resend/"
RESET_URL = "/accounts/password-reset/"
RESET_CONFIRM_URL = "/accounts/password-reset/confirm/"
PROFILE_URL = "/accounts/profile/"
SECURITY_URL = "/accounts/security/"
PASSWORD_CHANGE_URL = "/accounts/security/password/"
MFA_START_URL = "/accounts/security/mfa/start/"
MFA_SETUP_URL = "/accounts/security/mfa/setup/"
BACKUP_CODES_URL = "/accounts/security/mfa/backup-codes/"
MFA_DISABLE_URL = "/accounts/security/mfa/disable/"
WRONG = "not-the-password"
NEW_PASSWORD = "a-brand-new-passphrase-42"

SIGNED_IN_ROLES = ["student", "instructor", "admin_user"]


def _text(response) -> str:
    return response.content.decode()


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _signed_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def _log_in(client: Client, email: str, password: str = PASSWORD, next: str = "", **headers):
    data = {"username": email, "password": password, **({"next": next} if next else {})}
    return client.post(LOGIN_URL, data, **headers)


def _link_token(message, path: str) -> str:
    return re.search(rf"{re.escape(path)}\?token=([\w-]+)", message.body).group(1)


# --- Log in ----------------------------------------------------------------------------------


def test_login_page_has_labelled_fields_and_the_account_links(client):
    response = client.get(LOGIN_URL)

    body = _text(response)
    assert response.status_code == 200
    assert '<label for="id_username">Email address:</label>' in body
    assert 'autocomplete="current-password"' in body
    assert 'href="/accounts/password-reset/"' in body
    assert 'href="/accounts/signup/"' in body


def test_pages_that_need_a_session_send_visitors_to_the_page_login(client):
    response = client.get("/dashboard/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/dashboard/"


def test_login_signs_in_with_a_new_session_key_and_returns_to_next(client, student):
    client.get(LOGIN_URL)
    session = client.session
    session["planted"] = True  # a session from before the sign-in (session fixation)
    session.save()
    before = client.cookies[settings.SESSION_COOKIE_NAME].value

    response = _log_in(client, student.email.upper(), next="/courses/some-course/")

    assert response.status_code == 302
    assert response["Location"] == "/courses/some-course/"
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != before
    assert _signed_in_user_id(client) == str(student.pk)
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.LOGIN_SUCCEEDED)
    assert (event.user, event.metadata) == (student, {"method": "session"})


def test_login_without_next_goes_to_the_dashboard(client, student):
    response = _log_in(client, student.email)

    assert response["Location"] == "/dashboard/"


@pytest.mark.parametrize(
    "next_url",
    [
        pytest.param("https://evil.example/steal", id="_case other site"),
        pytest.param("//evil.example/", id="_case scheme-relative"),
        pytest.param("/\\evil.example/", id="_case backslash"),
        pytest.param("javascript:alert(1)", id="_case javascript"),
    ],
)
def test_login_never_redirects_off_the_site(client, student, next_url):
    response = _log_in(client, student.email, next=next_url)

    assert response["Location"] == "/dashboard/"


@pytest.mark.parametrize(
    "email",
    [
        pytest.param("user-known", id="_case wrong password"),
        pytest.param("nobody@example.org", id="_case unknown"),
    ],
)
def test_a_failed_login_says_the_same_for_known_and_unknown_addresses(client, student, email):
    email = student.email if email == "user-known" else email

    response = _log_in(client, email, WRONG)

    assert response.status_code == 200
    assert "The email address or the password is not correct." in _text(response)
    assert _signed_in_user_id(client) is None


def test_a_deactivated_account_cannot_log_in(client):
    user = UserFactory(inactive=True)

    response = _log_in(client, user.email)

    assert "The email address or the password is not correct." in _text(response)
    assert _signed_in_user_id(client) is None


def test_five_bad_passwords_lock_the_account_and_the_page_says_until_when(client, student, clock):
    for _ in range(5):
        _log_in(client, student.email, WRONG)

    response = _log_in(client, student.email, PASSWORD)

    assert response.status_code == 200
    assert "Too many failed sign-in attempts. Try again after" in _text(response)
    assert "March 2, 2026, 9:15 a.m. (UTC)" in _text(response)
    assert _signed_in_user_id(client) is None


def test_a_signed_in_visitor_of_the_login_page_goes_on(page_client, student):
    response = page_client(student).get(LOGIN_URL, {"next": "/orders/"})

    assert response["Location"] == "/orders/"


def test_the_login_form_needs_the_csrf_token(student):
    client = Client(enforce_csrf_checks=True)

    response = _log_in(client, student.email)

    assert response.status_code == 403
    assert _signed_in_user_id(client) is None


def test_login_posts_are_throttled_per_ip(client, student, monkeypatch):
    monkeypatch.setattr(AuthRateThrottle, "rate", "2/min", raising=False)
    for _ in range(2):
        _log_in(client, student.email, WRONG, REMOTE_ADDR="198.51.100.7")

    throttled = _log_in(client, student.email, PASSWORD, REMOTE_ADDR="198.51.100.7")
    other_ip = _log_in(client, student.email, PASSWORD, REMOTE_ADDR="198.51.100.8")

    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0
    assert "Too many attempts" in _text(throttled)
    assert other_ip.status_code == 302


# --- Log in: the MFA step --------------------------------------------------------------------


def test_with_mfa_the_password_leads_to_the_code_step_without_a_session(client, student, clock):
    enable_mfa(student, clock)

    response = _log_in(client, student.email, next="/orders/")

    assert response["Location"] == LOGIN_CODE_URL
    assert _signed_in_user_id(client) is None
    assert client.session[MFA_PENDING_SESSION_KEY]["next"] == "/orders/"
    assert AccountToken.objects.filter(purpose=AccountToken.Purpose.MFA_CHALLENGE).count() == 1


def test_the_totp_code_signs_in_and_marks_the_session_verified(client, student, clock):
    enable_mfa(student, clock)
    _log_in(client, student.email, next="/orders/")

    response = client.post(LOGIN_CODE_URL, {"code": totp_code(totp_device(student))})

    assert response["Location"] == "/orders/"
    assert _signed_in_user_id(client) == str(student.pk)
    assert client.session[DEVICE_ID_SESSION_KEY] == totp_device(student).persistent_id
    assert MFA_PENDING_SESSION_KEY not in client.session


def test_a_backup_code_signs_in_once(client, student, clock):
    backup_code = enable_mfa(student, clock)[0]
    _log_in(client, student.email)

    response = client.post(LOGIN_CODE_URL, {"code": backup_code})

    assert response["Location"] == "/dashboard/"
    assert _signed_in_user_id(client) == str(student.pk)
    assert not StaticToken.objects.filter(token=backup_code).exists()


def test_a_wrong_code_is_an_error_on_the_field_and_counts_toward_the_lockout(
    client, student, clock
):
    enable_mfa(student, clock)
    _log_in(client, student.email)

    response = client.post(LOGIN_CODE_URL, {"code": "000000"})

    body = _text(response)
    assert response.status_code == 200
    assert '<ul class="errorlist" id="id_code_error"><li>The code is not correct.' in body
    assert 'aria-invalid="true"' in body
    assert _signed_in_user_id(client) is None
    student.refresh_from_db()
    assert student.failed_login_count == 2  # the password step and the wrong code


def test_wrong_codes_lock_the_account_and_send_back_to_the_login(client, student, clock):
    enable_mfa(student, clock)
    _log_in(client, student.email)
    for _ in range(4):
        clock.tick(31)  # past django-otp's back-off after a wrong code
        client.post(LOGIN_CODE_URL, {"code": "000000"})
    clock.tick(31)

    response = client.post(LOGIN_CODE_URL, {"code": totp_code(totp_device(student))}, follow=True)

    assert response.redirect_chain[-1][0] == LOGIN_URL
    assert "Too many failed sign-in attempts" in _messages(response)[0]
    assert _signed_in_user_id(client) is None


def test_the_code_step_without_a_password_first_goes_back_to_the_login(client):
    response = client.get(LOGIN_CODE_URL, follow=True)

    assert response.redirect_chain == [(LOGIN_URL, 302)]
    assert _messages(response) == ["Log in with your email address and password first."]


def test_an_expired_challenge_means_logging_in_again(client, student, clock):
    enable_mfa(student, clock)
    _log_in(client, student.email, next="/orders/")
    clock.tick(11 * 60)

    response = client.post(LOGIN_CODE_URL, {"code": totp_code(totp_device(student))})

    assert response["Location"] == "/accounts/login/?next=%2Forders%2F"
    assert _signed_in_user_id(client) is None
    assert MFA_PENDING_SESSION_KEY not in client.session


# --- Log out ---------------------------------------------------------------------------------


def test_logout_ends_the_session_and_says_so(page_client, student):
    client = page_client(student)

    response = client.post("/accounts/logout/", follow=True)

    assert response.redirect_chain == [("/", 302)]
    assert _messages(response) == ["You are logged out."]
    assert _signed_in_user_id(client) is None


def test_logout_is_a_post_only(page_client, student):
    client = page_client(student)

    response = client.get("/accounts/logout/")

    assert response.status_code == 405
    assert _signed_in_user_id(client) == str(student.pk)


# --- Sign up and email verification ----------------------------------------------------------


def _sign_up(client: Client, **fields):
    data = {"full_name": "Ada Learner", "email": "ada@example.com", "password": PASSWORD, **fields}
    return client.post(SIGNUP_URL, data)


def test_sign_up_creates_a_student_and_mails_the_verification_link(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _sign_up(client, email="Ada@Example.com", next="/courses/astro/")

    assert response["Location"] == "/accounts/login/?next=%2Fcourses%2Fastro%2F"
    user = User.objects.get()
    assert (user.email, user.full_name, user.role) == ("ada@example.com", "Ada Learner", "student")
    assert user.email_verified_at is None
    assert _signed_in_user_id(client) is None
    verification = mail.outbox[1]
    assert verification.to == ["ada@example.com"]
    assert _link_token(verification, "/accounts/verify-email/")


def test_sign_up_with_a_taken_email_shows_the_error_on_the_field(client, student):
    response = _sign_up(client, email=student.email.upper())

    body = _text(response)
    assert response.status_code == 200
    assert (
        '<ul class="errorlist" id="id_email_error"><li>An account with this email address '
        "already exists.</li></ul>" in body
    )
    assert User.objects.count() == 1


def test_sign_up_with_a_weak_password_lists_what_is_wrong(client):
    response = _sign_up(client, password="12345678")

    body = _text(response)
    assert "This password is too common." in body
    assert "This password is entirely numeric." in body
    assert 'id="id_password_error"' in body
    assert not User.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"email": "not-an-email"}, "email", id="_case bad email"),
        pytest.param({"full_name": ""}, "full_name", id="_case no name"),
        pytest.param({"full_name": "x" * 151}, "full_name", id="_case name too long"),
    ],
)
def test_sign_up_with_bad_input_marks_the_field(client, fields, field):
    response = _sign_up(client, **fields)

    assert f'id="id_{field}_error"' in _text(response)
    assert not User.objects.exists()


def _verification_token(user: User, capture) -> str:
    with capture(execute=True):
        services.email_verification_request(user=user)
    return _link_token(mail.outbox[-1], "/accounts/verify-email/")


@pytest.fixture
def unverified(db) -> User:
    return UserFactory()


def test_the_verification_link_asks_for_a_click_and_does_not_verify_by_itself(
    client, unverified, django_capture_on_commit_callbacks
):
    token = _verification_token(unverified, django_capture_on_commit_callbacks)

    response = client.get(VERIFY_URL, {"token": token})

    assert response.status_code == 200
    assert f'name="token" value="{token}"' in _text(response)
    unverified.refresh_from_db()
    assert unverified.email_verified_at is None


def test_confirming_verifies_the_address_and_leads_to_the_login(
    client, unverified, django_capture_on_commit_callbacks
):
    token = _verification_token(unverified, django_capture_on_commit_callbacks)

    response = client.post(VERIFY_URL, {"token": token}, follow=True)

    assert response.redirect_chain == [(LOGIN_URL, 302)]
    assert _messages(response) == [f"Thank you: {unverified.email} is confirmed."]
    unverified.refresh_from_db()
    assert unverified.email_verified_at is not None


def test_a_signed_in_learner_confirming_goes_to_the_dashboard(
    page_client, unverified, django_capture_on_commit_callbacks
):
    token = _verification_token(unverified, django_capture_on_commit_callbacks)

    response = page_client(unverified).post(VERIFY_URL, {"token": token})

    assert response["Location"] == "/dashboard/"


@pytest.mark.parametrize("token", [pytest.param("made-up", id="_case made up"), "", "x" * 200])
def test_a_bad_verification_token_shows_the_invalid_link_page(client, token):
    response = client.post(VERIFY_URL, {"token": token})

    assert response.status_code == 400
    assert "This confirmation link is invalid, already used or expired." in _text(response)
    assert 'href="/accounts/verify-email/resend/"' in _text(response)


def test_a_used_verification_link_shows_the_invalid_link_page(
    client, unverified, django_capture_on_commit_callbacks
):
    token = _verification_token(unverified, django_capture_on_commit_callbacks)
    client.post(VERIFY_URL, {"token": token})

    response = client.post(VERIFY_URL, {"token": token})

    assert response.status_code == 400


def test_the_verification_page_without_a_token_offers_a_new_link(client):
    response = client.get(VERIFY_URL)

    assert response["Location"] == RESEND_URL


def test_a_signed_in_learner_asks_for_a_new_verification_link(
    page_client, unverified, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = page_client(unverified).post(RESEND_URL)

    assert response["Location"] == PROFILE_URL
    assert [message.to for message in mail.outbox] == [[unverified.email]]


@pytest.mark.parametrize(
    "email",
    [
        pytest.param("known", id="_case known"),
        pytest.param("nobody@example.org", id="_case unknown"),
    ],
)
def test_a_new_verification_link_by_address_answers_the_same(
    client, unverified, email, django_capture_on_commit_callbacks
):
    email = unverified.email if email == "known" else email

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RESEND_URL, {"email": email}, follow=True)

    assert _messages(response) == [
        "If this address has an account to verify, a link is on its way."
    ]
    assert len(mail.outbox) == (1 if email == unverified.email else 0)


def test_a_new_verification_link_needs_a_valid_address(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RESEND_URL, {"email": "not-an-address"})

    assert response.status_code == 200
    assert 'id="id_email_error"' in _text(response)
    assert mail.outbox == []


# --- Password reset --------------------------------------------------------------------------


def _reset_token(client: Client, user: User, capture) -> str:
    with capture(execute=True):
        client.post(RESET_URL, {"email": user.email})
    return _link_token(mail.outbox[-1], "/accounts/password-reset/confirm/")


@pytest.mark.parametrize(
    "email",
    [
        pytest.param("known", id="_case known"),
        pytest.param("nobody@example.org", id="_case unknown"),
    ],
)
def test_a_reset_request_answers_the_same_for_any_address(
    client, student, email, django_capture_on_commit_callbacks
):
    email = student.email if email == "known" else email

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RESET_URL, {"email": email}, follow=True)

    assert response.redirect_chain == [(LOGIN_URL, 302)]
    assert _messages(response) == [
        "If an account exists for this address, a link to choose a new password is on its "
        "way. It works for 30 minutes."
    ]
    assert len(mail.outbox) == (1 if email == student.email else 0)


def test_the_reset_link_opens_the_new_password_form(
    client, student, django_capture_on_commit_callbacks
):
    token = _reset_token(client, student, django_capture_on_commit_callbacks)

    response = client.get(RESET_CONFIRM_URL, {"token": token})

    assert response.status_code == 200
    assert f'name="token" value="{token}"' in _text(response)
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.parametrize("token", [pytest.param("made-up", id="_case made up"), ""])
def test_a_bad_reset_link_says_so_before_asking_for_a_password(client, token):
    response = client.get(RESET_CONFIRM_URL, {"token": token})

    assert response.status_code == 400
    assert "This password reset link is invalid" in _text(response)


def test_the_reset_form_sets_the_new_password(client, student, django_capture_on_commit_callbacks):
    token = _reset_token(client, student, django_capture_on_commit_callbacks)

    response = client.post(
        RESET_CONFIRM_URL,
        {"token": token, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
        follow=True,
    )

    assert response.redirect_chain == [(LOGIN_URL, 302)]
    assert _messages(response)[-1] == "Your password is changed. Log in with your new password."
    student.refresh_from_db()
    assert student.check_password(NEW_PASSWORD)


def test_the_reset_form_wants_the_same_password_twice(
    client, student, django_capture_on_commit_callbacks
):
    token = _reset_token(client, student, django_capture_on_commit_callbacks)

    response = client.post(
        RESET_CONFIRM_URL,
        {"token": token, "new_password": NEW_PASSWORD, "new_password_again": "something-else"},
    )

    assert 'id="id_new_password_again_error"' in _text(response)
    student.refresh_from_db()
    assert student.check_password(PASSWORD)


def test_a_weak_new_password_is_refused_and_the_link_still_works(
    client, student, django_capture_on_commit_callbacks
):
    token = _reset_token(client, student, django_capture_on_commit_callbacks)

    refused = client.post(
        RESET_CONFIRM_URL, {"token": token, "new_password": "123", "new_password_again": "123"}
    )
    accepted = client.post(
        RESET_CONFIRM_URL,
        {"token": token, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
    )

    assert 'id="id_new_password_error"' in _text(refused)
    assert accepted.status_code == 302


def test_a_used_reset_link_shows_the_invalid_link_page(
    client, student, django_capture_on_commit_callbacks
):
    token = _reset_token(client, student, django_capture_on_commit_callbacks)
    data = {"token": token, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    client.post(RESET_CONFIRM_URL, data)

    response = client.post(RESET_CONFIRM_URL, data)

    assert response.status_code == 400


# --- Profile ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [PROFILE_URL, SECURITY_URL])
def test_account_pages_send_visitors_to_log_in(client, url):
    response = client.get(url)

    assert response["Location"] == f"/accounts/login/?next={url}"


@pytest.mark.parametrize("role_user", SIGNED_IN_ROLES, indirect=True)
@pytest.mark.parametrize("url", [PROFILE_URL, SECURITY_URL])
def test_account_pages_show_the_signed_in_users_own_account(page_client, role_user, student, url):
    response = page_client(role_user).get(url)

    assert response.status_code == 200
    assert response.context["user"] == role_user
    if url == PROFILE_URL:
        assert role_user.email in _text(response)
        assert (student.email in _text(response)) == (role_user == student)


def test_the_profile_saves_the_name_and_the_digest_opt_out(page_client, student):
    response = page_client(student).post(
        PROFILE_URL, {"full_name": "Grace Hopper"}, follow=True
    )  # the digest box unticked

    assert _messages(response) == ["Your profile is saved."]
    student.refresh_from_db()
    assert (student.full_name, student.receives_weekly_digest) == ("Grace Hopper", False)


def test_the_profile_needs_a_name(page_client, student):
    name = student.full_name

    response = page_client(student).post(PROFILE_URL, {"full_name": " "})

    assert 'id="id_full_name_error"' in _text(response)
    student.refresh_from_db()
    assert student.full_name == name


def test_the_profile_offers_a_new_link_while_the_email_is_not_confirmed(page_client, student):
    body = _text(page_client(student).get(PROFILE_URL))

    assert "Not confirmed" in body
    assert f'action="{RESEND_URL}"' in body


# --- Security: password ----------------------------------------------------------------------


def test_changing_the_password_keeps_this_session_and_ends_the_others(page_client, student):
    this_browser, other_browser = page_client(student), page_client(student)

    response = this_browser.post(
        PASSWORD_CHANGE_URL,
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
        follow=True,
    )

    assert response.redirect_chain == [(SECURITY_URL, 302)]
    assert this_browser.get(SECURITY_URL).status_code == 200
    assert other_browser.get(SECURITY_URL).status_code == 302
    student.refresh_from_db()
    assert student.check_password(NEW_PASSWORD)


def test_changing_the_password_needs_the_current_one(page_client, student):
    response = page_client(student).post(
        PASSWORD_CHANGE_URL,
        {
            "current_password": WRONG,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )

    assert (
        '<ul class="errorlist" id="id_current_password_error"><li>The password is not correct.'
        in _text(response)
    )
    student.refresh_from_db()
    assert student.check_password(PASSWORD)


def test_the_security_forms_are_post_only(page_client, student):
    assert page_client(student).get(PASSWORD_CHANGE_URL).status_code == 405


# --- Security: two-factor authentication -----------------------------------------------------


def test_turning_mfa_on_shows_the_qr_code_inline_and_the_secret(page_client, student):
    client = page_client(student)

    response = client.post(MFA_START_URL, follow=True)

    assert response.redirect_chain == [(MFA_SETUP_URL, 302)]
    body = _text(response)
    assert 'src="data:image/svg+xml;base64,' in body
    device = TOTPDevice.objects.get(user=student, confirmed=False)
    assert response.context["enrollment"]["secret"] in body
    assert "img-src 'self' data:" in response["Content-Security-Policy"]
    assert device.confirmed is False


def test_the_first_code_turns_mfa_on_and_shows_ten_backup_codes_once(page_client, student, clock):
    client = page_client(student)
    client.post(MFA_START_URL)
    device = TOTPDevice.objects.get(user=student)

    response = client.post(MFA_SETUP_URL, {"code": totp_code(device)})

    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == 10
    assert all(f"<code>{code}</code>" in _text(response) for code in codes)
    assert "no-store" in response["Cache-Control"]
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id


def test_a_wrong_first_code_shows_the_qr_code_again_with_the_error(page_client, student):
    client = page_client(student)
    client.post(MFA_START_URL)

    response = client.post(MFA_SETUP_URL, {"code": "000000"})

    body = _text(response)
    assert 'id="id_code_error"' in body
    assert 'src="data:image/svg+xml;base64,' in body
    assert not TOTPDevice.objects.filter(confirmed=True).exists()


def test_the_setup_page_without_a_started_setup_goes_back(page_client, student):
    response = page_client(student).get(MFA_SETUP_URL)

    assert response["Location"] == SECURITY_URL


def test_starting_again_with_mfa_on_says_it_is_on(page_client, student, clock):
    enable_mfa(student, clock)

    response = page_client(student).post(MFA_START_URL, follow=True)

    assert _messages(response) == ["Two-factor authentication is already on."]
    assert TOTPDevice.objects.filter(user=student).count() == 1


def test_new_backup_codes_replace_the_old_ones(page_client, student, clock):
    old_codes = enable_mfa(student, clock)

    response = page_client(student).post(
        BACKUP_CODES_URL, {"regenerate-code": totp_code(totp_device(student))}
    )

    new_codes = response.context["codes"]
    assert len(new_codes) == 10
    assert not StaticToken.objects.filter(token__in=old_codes).exists()
    assert StaticToken.objects.filter(token__in=new_codes).count() == 10


def test_new_backup_codes_need_a_right_code(page_client, student, clock):
    old_codes = enable_mfa(student, clock)

    response = page_client(student).post(BACKUP_CODES_URL, {"regenerate-code": "000000"})

    assert 'id="id_regenerate-code_error"' in _text(response)
    assert StaticToken.objects.filter(token__in=old_codes).count() == 10


def test_turning_mfa_off_needs_the_password_and_a_code(page_client, student, clock):
    enable_mfa(student, clock)
    client = page_client(student)

    refused = client.post(
        MFA_DISABLE_URL,
        {"disable-password": WRONG, "disable-code": totp_code(totp_device(student))},
    )
    accepted = client.post(
        MFA_DISABLE_URL,
        {"disable-password": PASSWORD, "disable-code": totp_code(totp_device(student))},
        follow=True,
    )

    assert 'id="id_disable-password_error"' in _text(refused)
    assert _messages(accepted) == ["Two-factor authentication is off."]
    assert not TOTPDevice.objects.filter(user=student).exists()


def test_the_security_page_lists_recent_activity(page_client, student):
    client = Client()
    _log_in(client, student.email, WRONG)
    _log_in(client, student.email)

    body = _text(client.get(SECURITY_URL))

    assert "Login succeeded" in body
    assert "Login failed" in body
