"""Two-factor authentication (django-otp): TOTP enrolment, two-step sign-in, backup codes,
the MFA claim and permission, and the admin's OTP for staff."""

import base64
import re
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.api.permissions import IsMfaVerified
from accounts.models import SecurityEvent
from accounts.tests.conftest import (
    ME_URL,
    MFA_VERIFY_URL,
    TOKEN_URL,
    bearer,
    enable_mfa,
    mfa_challenge,
    mfa_tokens,
    totp_code,
    totp_device,
)
from accounts.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TOTP_URL = reverse("accounts_api:mfa-totp")
TOTP_CONFIRM_URL = reverse("accounts_api:mfa-totp-confirm")
BACKUP_CODES_URL = reverse("accounts_api:mfa-backup-codes")
REFRESH_URL = reverse("accounts_api:token-refresh")
LOGOUT_URL = reverse("accounts_api:logout")
USERS_URL = reverse("accounts_api:user-list")
ADMIN_LOGIN_URL = reverse("admin:login")
ADMIN_INDEX_URL = reverse("admin:index")


# --- Enrolment -----------------------------------------------------------------------------


def test_enrolment_returns_an_otpauth_uri_and_a_qr_code(auth_client, student):
    response = auth_client(student).post(TOTP_URL)

    assert response.status_code == 201
    body = response.json()
    uri = urlparse(body["otpauth_uri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    query = parse_qs(uri.query)
    assert query["secret"] == [body["secret"]]
    assert query["issuer"] == ["LMS"]
    assert query["digits"] == ["6"]
    assert query["period"] == ["30"]
    assert unquote(uri.path) == f"/LMS:{student.email}"
    assert body["qr_code"].startswith("data:image/svg+xml;base64,")
    svg = base64.b64decode(body["qr_code"].split(",", 1)[1])
    assert svg.lstrip().startswith(b"<?xml")
    assert b"<svg" in svg
    device = TOTPDevice.objects.get(user=student)
    assert device.confirmed is False
    assert base64.b32encode(device.bin_key).decode() == body["secret"]


def test_enrolment_alone_does_not_change_sign_in(api_client, auth_client, student):
    auth_client(student).post(TOTP_URL)

    response = api_client.post(TOKEN_URL, {"email": student.email, "password": PASSWORD})

    assert set(response.json()) == {"access", "refresh"}


def test_starting_again_replaces_the_unconfirmed_secret(auth_client, student):
    client = auth_client(student)
    first = client.post(TOTP_URL).json()

    second = client.post(TOTP_URL).json()

    assert first["secret"] != second["secret"]
    assert TOTPDevice.objects.filter(user=student).count() == 1


def test_confirming_turns_mfa_on_and_returns_10_backup_codes_once(auth_client, student, clock):
    client = auth_client(student)
    client.post(TOTP_URL)
    device = TOTPDevice.objects.get(user=student)

    response = client.post(TOTP_CONFIRM_URL, {"code": totp_code(device)})

    assert response.status_code == 200
    codes = response.json()["backup_codes"]
    assert len(codes) == len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-7]{8}", code) for code in codes)
    device.refresh_from_db()
    assert device.confirmed is True
    assert SecurityEvent.objects.filter(user=student, kind="mfa_enabled").count() == 1
    # Shown once: nothing returns them again.
    assert "backup_codes" not in client.get(ME_URL).json()


def test_confirming_with_a_wrong_code_leaves_mfa_off(auth_client, student, clock):
    client = auth_client(student)
    client.post(TOTP_URL)

    response = client.post(TOTP_CONFIRM_URL, {"code": "000000"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_mfa_code"
    assert TOTPDevice.objects.get(user=student).confirmed is False
    assert not StaticToken.objects.filter(device__user=student).exists()


def test_confirming_without_enrolment_is_a_conflict(auth_client, student):
    response = auth_client(student).post(TOTP_CONFIRM_URL, {"code": "123456"})

    assert response.status_code == 409
    assert response.json()["code"] == "mfa_enrollment_not_started"


def test_enrolling_again_while_mfa_is_on_is_a_conflict(auth_client, student, clock):
    enable_mfa(student, clock)

    response = auth_client(student).post(TOTP_URL)

    assert response.status_code == 409
    assert response.json()["code"] == "mfa_already_enabled"


@pytest.mark.parametrize("url", [TOTP_URL, TOTP_CONFIRM_URL, BACKUP_CODES_URL])
def test_mfa_endpoints_require_authentication(api_client, url):
    assert api_client.post(url, {"code": "123456"}).status_code == 401


# --- Two-step sign-in ----------------------------------------------------------------------


def test_with_mfa_the_password_gives_only_a_challenge(api_client, student, clock):
    enable_mfa(student, clock)

    response = api_client.post(TOKEN_URL, {"email": student.email, "password": PASSWORD})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"mfa_required", "challenge"}
    assert body["mfa_required"] is True


def test_challenge_and_code_give_tokens_with_the_mfa_claim(api_client, student, clock):
    enable_mfa(student, clock)

    tokens = mfa_tokens(api_client, student)

    assert AccessToken(tokens["access"])["mfa"] is True
    assert RefreshToken(tokens["refresh"])["mfa"] is True
    assert bearer(tokens["access"]).get(ME_URL).status_code == 200


def test_refreshed_tokens_keep_the_mfa_claim(api_client, student, clock):
    enable_mfa(student, clock)
    tokens = mfa_tokens(api_client, student)

    rotated = api_client.post(REFRESH_URL, {"refresh": tokens["refresh"]}).json()

    assert AccessToken(rotated["access"])["mfa"] is True


def test_tokens_from_a_password_only_login_have_no_mfa_claim(api_client, student):
    response = api_client.post(TOKEN_URL, {"email": student.email, "password": PASSWORD})

    assert "mfa" not in AccessToken(response.json()["access"]).payload


def test_a_backup_code_finishes_the_sign_in_once(api_client, student, clock):
    codes = enable_mfa(student, clock)
    first = mfa_challenge(api_client, student)
    second = mfa_challenge(api_client, student)

    used = api_client.post(MFA_VERIFY_URL, {"challenge": first, "code": codes[0].upper()})
    reused = api_client.post(MFA_VERIFY_URL, {"challenge": second, "code": codes[0]})

    assert used.status_code == 200
    assert reused.status_code == 400
    assert reused.json()["code"] == "invalid_mfa_code"
    assert StaticToken.objects.filter(device__user=student).count() == 9


def test_a_used_totp_code_is_refused_again(api_client, student, clock):
    """Replay: the same code, within its 30 seconds, works once."""
    enable_mfa(student, clock)
    code = totp_code(totp_device(student))
    first = mfa_challenge(api_client, student)
    second = mfa_challenge(api_client, student)

    used = api_client.post(MFA_VERIFY_URL, {"challenge": first, "code": code})
    replayed = api_client.post(MFA_VERIFY_URL, {"challenge": second, "code": code})

    assert used.status_code == 200
    assert replayed.status_code == 400
    assert replayed.json()["code"] == "invalid_mfa_code"


def test_the_next_periods_code_works_after_a_used_one(api_client, student, clock):
    enable_mfa(student, clock)
    mfa_tokens(api_client, student)
    clock.tick(30)

    assert set(mfa_tokens(api_client, student)) == {"access", "refresh"}


def test_a_code_from_another_account_is_refused(api_client, student, other_student, clock):
    enable_mfa(student, clock)
    enable_mfa(other_student, clock)
    challenge = mfa_challenge(api_client, student)

    response = api_client.post(
        MFA_VERIFY_URL, {"challenge": challenge, "code": totp_code(totp_device(other_student))}
    )

    assert response.status_code == 400


def test_the_challenge_works_once(api_client, student, clock):
    enable_mfa(student, clock)
    challenge = mfa_challenge(api_client, student)
    api_client.post(
        MFA_VERIFY_URL, {"challenge": challenge, "code": totp_code(totp_device(student))}
    )
    clock.tick(30)

    response = api_client.post(
        MFA_VERIFY_URL, {"challenge": challenge, "code": totp_code(totp_device(student))}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_token"
    assert list(response.json()["fields"]) == ["challenge"]


def test_the_challenge_expires_after_10_minutes(api_client, student, clock):
    enable_mfa(student, clock)
    challenge = mfa_challenge(api_client, student)
    clock.tick(timedelta(minutes=10, seconds=1))

    response = api_client.post(
        MFA_VERIFY_URL, {"challenge": challenge, "code": totp_code(totp_device(student))}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_token"


def test_a_forged_challenge_is_refused(api_client, student, clock):
    enable_mfa(student, clock)

    response = api_client.post(
        MFA_VERIFY_URL, {"challenge": "made-up", "code": totp_code(totp_device(student))}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_token"


@pytest.mark.parametrize(
    ("_case", "method", "url", "data"),
    [
        ("profile", "get", ME_URL, None),
        ("password change", "post", reverse("accounts_api:password-change"), {}),
        ("enrolment", "post", TOTP_URL, None),
        ("logout", "post", LOGOUT_URL, {}),
        ("catalog", "get", "/api/v1/courses/", None),
    ],
)
def test_the_challenge_is_no_bearer_token(api_client, student, clock, _case, method, url, data):
    enable_mfa(student, clock)
    challenge = mfa_challenge(api_client, student)

    response = getattr(bearer(challenge), method)(url, data)

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_the_challenge_is_no_refresh_token(api_client, student, clock):
    enable_mfa(student, clock)
    challenge = mfa_challenge(api_client, student)

    response = api_client.post(REFRESH_URL, {"refresh": challenge})

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_wrong_codes_count_toward_the_lockout(api_client, student, clock):
    enable_mfa(student, clock)
    challenge = mfa_challenge(api_client, student)  # attempt 1
    statuses = []
    for _ in range(4):  # attempts 2 to 5
        clock.tick(60)  # past django-otp's own back-off
        statuses.append(
            api_client.post(MFA_VERIFY_URL, {"challenge": challenge, "code": "000000"}).status_code
        )
    clock.tick(60)

    locked = api_client.post(
        MFA_VERIFY_URL, {"challenge": challenge, "code": totp_code(totp_device(student))}
    )

    assert statuses == [400] * 4
    assert locked.status_code == 403
    assert locked.json()["code"] == "account_locked"
    assert api_client.post(TOKEN_URL, {"email": student.email, "password": PASSWORD}).json()[
        "code"
    ] == ("account_locked")
    assert SecurityEvent.objects.filter(user=student, kind="mfa_failed").count() == 4


def test_a_right_password_does_not_reset_the_count_before_the_code(api_client, student, clock):
    """Otherwise a known password would give unlimited guesses at the code."""
    enable_mfa(student, clock)
    for _ in range(2):
        challenge = mfa_challenge(api_client, student)
        clock.tick(60)
        api_client.post(MFA_VERIFY_URL, {"challenge": challenge, "code": "000000"})

    student.refresh_from_db()
    assert student.failed_login_count == 4


def test_codes_right_after_a_wrong_one_are_slowed_down(api_client, student, clock):
    enable_mfa(student, clock)
    challenge = mfa_challenge(api_client, student)
    api_client.post(MFA_VERIFY_URL, {"challenge": challenge, "code": "000000"})

    response = api_client.post(
        MFA_VERIFY_URL, {"challenge": challenge, "code": totp_code(totp_device(student))}
    )

    assert response.status_code == 429
    assert response.json()["code"] == "mfa_throttled"


# --- Turning off, backup codes ---------------------------------------------------------------


def test_disabling_needs_the_password_and_a_code(api_client, student, clock):
    enable_mfa(student, clock)
    client = bearer(mfa_tokens(api_client, student)["access"])
    clock.tick(30)

    response = client.delete(
        TOTP_URL, {"password": PASSWORD, "code": totp_code(totp_device(student))}
    )

    assert response.status_code == 204
    assert not TOTPDevice.objects.filter(user=student).exists()
    assert not StaticToken.objects.filter(device__user=student).exists()
    assert set(
        api_client.post(TOKEN_URL, {"email": student.email, "password": PASSWORD}).json()
    ) == {
        "access",
        "refresh",
    }
    assert SecurityEvent.objects.filter(user=student, kind="mfa_disabled").count() == 1


@pytest.mark.parametrize(
    ("_case", "password", "code", "field"),
    [
        ("wrong password", "wrong-password", None, "password"),
        ("wrong code", PASSWORD, "000000", "code"),
        ("no code", PASSWORD, "", "code"),
    ],
)
def test_disabling_is_refused_without_both(
    api_client, student, clock, _case, password, code, field
):
    enable_mfa(student, clock)
    client = bearer(mfa_tokens(api_client, student)["access"])
    clock.tick(30)
    if code is None:
        code = totp_code(totp_device(student))

    response = client.delete(TOTP_URL, {"password": password, "code": code})

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert TOTPDevice.objects.filter(user=student, confirmed=True).exists()


def test_disabling_when_mfa_is_off_is_a_conflict(auth_client, student):
    response = auth_client(student).delete(TOTP_URL, {"password": PASSWORD, "code": "123456"})

    assert response.status_code == 409
    assert response.json()["code"] == "mfa_not_enabled"


def test_regenerating_backup_codes_kills_the_old_ones(api_client, auth_client, student, clock):
    old_codes = enable_mfa(student, clock)

    response = auth_client(student).post(
        BACKUP_CODES_URL, {"code": totp_code(totp_device(student))}
    )

    assert response.status_code == 200
    new_codes = response.json()["backup_codes"]
    assert len(new_codes) == 10
    assert not set(new_codes) & set(old_codes)
    challenge = mfa_challenge(api_client, student)
    clock.tick(60)
    assert (
        api_client.post(MFA_VERIFY_URL, {"challenge": challenge, "code": old_codes[1]}).status_code
        == 400
    )
    clock.tick(60)
    assert (
        api_client.post(MFA_VERIFY_URL, {"challenge": challenge, "code": new_codes[1]}).status_code
        == 200
    )


def test_regenerating_backup_codes_needs_a_valid_code(auth_client, student, clock):
    old_codes = enable_mfa(student, clock)

    response = auth_client(student).post(BACKUP_CODES_URL, {"code": "000000"})

    assert response.status_code == 400
    assert StaticToken.objects.filter(device__user=student).count() == len(old_codes)


# --- The MFA claim as a permission ---------------------------------------------------------


class _Request:
    def __init__(self, user, auth):
        self.user, self.auth = user, auth


def test_is_mfa_verified_accepts_only_tokens_with_the_claim(student):
    plain = RefreshToken.for_user(student).access_token
    verified = RefreshToken.for_user(student)
    verified["mfa"] = True

    permission = IsMfaVerified()

    assert permission.has_permission(_Request(student, verified.access_token), None) is True
    assert permission.has_permission(_Request(student, plain), None) is False


@pytest.mark.parametrize(
    ("_case", "mfa_required", "with_mfa", "expected_status"),
    [
        ("setting off, password only", False, False, 200),
        ("setting on, password only", True, False, 403),
        ("setting on, with mfa", True, True, 200),
    ],
)
def test_staff_endpoints_need_mfa_when_the_setting_is_on(
    api_client, admin_user, settings, clock, _case, mfa_required, with_mfa, expected_status
):
    settings.MFA_REQUIRED_FOR_STAFF = mfa_required
    if with_mfa:
        enable_mfa(admin_user, clock)
        tokens = mfa_tokens(api_client, admin_user)
    else:
        tokens = api_client.post(
            TOKEN_URL, {"email": admin_user.email, "password": PASSWORD}
        ).json()

    response = bearer(tokens["access"]).get(USERS_URL)

    assert response.status_code == expected_status
    if expected_status == 403:
        assert response.json()["code"] == "mfa_required"


def test_staff_without_mfa_can_still_set_it_up_when_it_is_required(
    api_client, instructor, settings, clock
):
    settings.MFA_REQUIRED_FOR_STAFF = True
    client = bearer(
        api_client.post(TOKEN_URL, {"email": instructor.email, "password": PASSWORD}).json()[
            "access"
        ]
    )

    assert client.get(ME_URL).status_code == 200
    assert client.post(TOTP_URL).status_code == 201
    device = TOTPDevice.objects.get(user=instructor)
    assert client.post(TOTP_CONFIRM_URL, {"code": totp_code(device)}).status_code == 200


def test_students_need_no_mfa_when_staff_do(api_client, student, settings):
    settings.MFA_REQUIRED_FOR_STAFF = True
    tokens = api_client.post(TOKEN_URL, {"email": student.email, "password": PASSWORD}).json()

    assert bearer(tokens["access"]).get("/api/v1/me/enrollments/").status_code == 200


# --- The admin's OTP -----------------------------------------------------------------------


def admin_login(client, user, code: str | None = None):
    data = {"username": user.email, "password": PASSWORD, "next": ADMIN_INDEX_URL}
    if code is not None:
        data["otp_token"] = code
    return client.post(ADMIN_LOGIN_URL, data)


def test_admin_asks_staff_with_mfa_for_a_code(client, admin_user, clock):
    enable_mfa(admin_user, clock)

    without = admin_login(client, admin_user)
    wrong = admin_login(client, admin_user, "000000")

    assert without.status_code == wrong.status_code == 200
    assert b"Enter the code from your authenticator app" in without.content
    assert b"The authentication code is not correct" in wrong.content
    assert "_auth_user_id" not in client.session


def test_admin_admits_staff_with_mfa_after_the_code(client, admin_user, clock):
    enable_mfa(admin_user, clock)

    response = admin_login(client, admin_user, totp_code(totp_device(admin_user)))

    assert response.status_code == 302
    assert client.get(ADMIN_INDEX_URL).status_code == 200


def test_admin_accepts_a_backup_code(client, admin_user, clock):
    codes = enable_mfa(admin_user, clock)

    response = admin_login(client, admin_user, codes[3])

    assert response.status_code == 302
    assert client.get(ADMIN_INDEX_URL).status_code == 200


def test_a_session_without_the_code_is_refused_for_staff_with_mfa(client, admin_user, clock):
    """A session from elsewhere (e.g. a page login) does not open the admin without OTP."""
    enable_mfa(admin_user, clock)
    client.force_login(admin_user)

    response = client.get(ADMIN_INDEX_URL)

    assert response.status_code == 302
    assert response.url.startswith(ADMIN_LOGIN_URL)


def test_admin_admits_staff_without_mfa_when_not_required(client, instructor):
    response = admin_login(client, instructor)

    assert response.status_code == 302
    assert client.get(ADMIN_INDEX_URL).status_code == 200


def test_admin_refuses_staff_without_mfa_when_required(client, instructor, settings):
    """Instructors are staff too."""
    settings.MFA_REQUIRED_FOR_STAFF = True

    response = admin_login(client, instructor)
    client.force_login(instructor)
    index = client.get(ADMIN_INDEX_URL)

    assert response.status_code == 200
    assert b"Staff accounts need two-factor authentication" in response.content
    assert index.status_code == 302


def test_admin_admits_staff_with_mfa_when_required(client, instructor, settings, clock):
    settings.MFA_REQUIRED_FOR_STAFF = True
    enable_mfa(instructor, clock)

    response = admin_login(client, instructor, totp_code(totp_device(instructor)))

    assert response.status_code == 302
    assert client.get(ADMIN_INDEX_URL).status_code == 200


def test_an_admin_session_verified_by_otp_counts_as_mfa_for_the_api(
    client, admin_user, settings, clock
):
    settings.MFA_REQUIRED_FOR_STAFF = True
    enable_mfa(admin_user, clock)
    admin_login(client, admin_user, totp_code(totp_device(admin_user)))

    response = client.get(USERS_URL)

    assert response.status_code == 200
