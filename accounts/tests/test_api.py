import threading

import pytest
from django.core import mail
from django.db import connections
from django.urls import reverse
from freezegun import freeze_time
from rest_framework.test import APIClient

from accounts import services
from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

REGISTER_URL = reverse("accounts_api:register")
TOKEN_URL = reverse("accounts_api:token-obtain")
REFRESH_URL = reverse("accounts_api:token-refresh")
LOGOUT_URL = reverse("accounts_api:logout")
ME_URL = reverse("accounts_api:me")
PASSWORD_URL = reverse("accounts_api:password-change")
USERS_URL = reverse("accounts_api:user-list")

NEW_PASSWORD = "a-brand-new-passphrase-42"

# The permission matrix of the admin-only endpoints: (role fixture, expected status).
ADMIN_ONLY = [
    ("anonymous", 401),
    ("student", 403),
    ("other_student", 403),
    ("instructor", 403),
    ("other_instructor", 403),
    ("admin_user", 200),
]


def obtain_tokens(client: APIClient, email: str, password: str = PASSWORD) -> dict:
    response = client.post(TOKEN_URL, {"email": email, "password": password})
    assert response.status_code == 200, response.json()
    return response.json()


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


# --- Registration --------------------------------------------------------------------------


def test_register_creates_a_student_account(api_client):
    response = api_client.post(
        REGISTER_URL,
        {"email": "New.Person@Example.com", "password": PASSWORD, "full_name": "New Person"},
    )

    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "new.person@example.com"
    assert body["full_name"] == "New Person"
    assert body["role"] == "student"
    assert "password" not in body
    assert User.objects.get(email="new.person@example.com").check_password(PASSWORD)


def test_register_sends_the_welcome_email_after_commit(
    api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        api_client.post(
            REGISTER_URL,
            {"email": "learner@example.com", "password": PASSWORD, "full_name": "Lee Learner"},
        )

    # The welcome email, then the verification link (accounts/tests/test_email_flows.py).
    assert len(callbacks) == 2
    assert len(mail.outbox) == 2
    message = mail.outbox[0]
    assert message.to == ["learner@example.com"]
    assert "Welcome" in message.subject
    assert "Hello Lee Learner" in message.body
    assert "Hello Lee Learner" in message.alternatives[0][0]
    assert message.alternatives[0][1] == "text/html"


def test_register_ignores_a_role_in_the_request(api_client):
    response = api_client.post(
        REGISTER_URL,
        {"email": "x@example.com", "password": PASSWORD, "full_name": "X", "role": "admin"},
    )

    assert response.status_code == 201
    assert User.objects.get(email="x@example.com").role == User.Role.STUDENT


def test_register_rejects_an_email_taken_in_another_case(api_client):
    UserFactory(email="taken@example.com")

    response = api_client.post(
        REGISTER_URL, {"email": "TAKEN@Example.COM", "password": PASSWORD, "full_name": "Copy"}
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "email_taken"
    assert list(body["fields"]) == ["email"]
    assert User.objects.filter(email="taken@example.com").count() == 1


def test_register_rejects_a_weak_password_without_creating_the_user(
    api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api_client.post(
            REGISTER_URL, {"email": "weak@example.com", "password": "123", "full_name": "Weak"}
        )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "password" in response.json()["fields"]
    assert not User.objects.filter(email="weak@example.com").exists()
    assert callbacks == []
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("_case", "payload", "field"),
    [
        ("missing email", {"password": PASSWORD, "full_name": "A"}, "email"),
        ("bad email", {"email": "not-an-email", "password": PASSWORD, "full_name": "A"}, "email"),
        ("missing name", {"email": "a@example.com", "password": PASSWORD}, "full_name"),
        ("missing password", {"email": "a@example.com", "full_name": "A"}, "password"),
    ],
)
def test_register_names_the_invalid_field(api_client, _case, payload, field):
    response = api_client.post(REGISTER_URL, payload)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]
    assert User.objects.count() == 0


def test_register_stores_the_password_with_argon2(api_client, settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]

    api_client.post(
        REGISTER_URL, {"email": "argon@example.com", "password": PASSWORD, "full_name": "A"}
    )

    assert User.objects.get(email="argon@example.com").password.startswith("argon2$")


# --- Login and tokens ----------------------------------------------------------------------


def test_login_returns_a_token_pair_that_authenticates(api_client, student):
    tokens = obtain_tokens(api_client, student.email.upper())

    response = bearer(tokens["access"]).get(ME_URL)

    assert response.status_code == 200
    assert response.json()["id"] == str(student.pk)


@pytest.mark.parametrize(
    ("_case", "email", "password"),
    [
        ("wrong password", "known@example.com", "wrong-password-123"),
        ("unknown email", "nobody@example.com", PASSWORD),
        ("deactivated", "inactive@example.com", PASSWORD),
    ],
)
def test_login_failures_look_the_same(api_client, _case, email, password):
    UserFactory(email="known@example.com")
    UserFactory(email="inactive@example.com", inactive=True)

    response = api_client.post(TOKEN_URL, {"email": email, "password": password})

    assert response.status_code == 401
    assert response.json() == {
        "code": "invalid_credentials",
        "message": "No active account found with the given email and password.",
        "fields": {},
    }


def test_login_records_the_last_login(api_client, student):
    obtain_tokens(api_client, student.email)

    student.refresh_from_db()
    assert student.last_login is not None


def test_access_token_expires_after_15_minutes(api_client, student):
    with freeze_time("2026-01-01 12:00:00"):
        tokens = obtain_tokens(api_client, student.email)
    with freeze_time("2026-01-01 12:14:50"):
        assert bearer(tokens["access"]).get(ME_URL).status_code == 200
    with freeze_time("2026-01-01 12:15:10"):
        response = bearer(tokens["access"]).get(ME_URL)

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_refresh_token_expires_after_30_days(api_client, student):
    with freeze_time("2026-01-01 12:00:00"):
        tokens = obtain_tokens(api_client, student.email)
    with freeze_time("2026-01-31 12:00:10"):
        response = api_client.post(REFRESH_URL, {"refresh": tokens["refresh"]})

    assert response.status_code == 401


def test_refresh_rotates_the_refresh_token(api_client, student):
    tokens = obtain_tokens(api_client, student.email)

    response = api_client.post(REFRESH_URL, {"refresh": tokens["refresh"]})

    assert response.status_code == 200
    rotated = response.json()
    assert rotated["refresh"] != tokens["refresh"]
    assert bearer(rotated["access"]).get(ME_URL).status_code == 200


def test_a_rotated_refresh_token_used_again_is_rejected(api_client, student):
    tokens = obtain_tokens(api_client, student.email)
    api_client.post(REFRESH_URL, {"refresh": tokens["refresh"]})

    response = api_client.post(REFRESH_URL, {"refresh": tokens["refresh"]})

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_refresh_is_refused_for_a_deactivated_account(api_client, student):
    tokens = obtain_tokens(api_client, student.email)
    student.is_active = False
    student.save()

    response = api_client.post(REFRESH_URL, {"refresh": tokens["refresh"]})

    assert response.status_code == 401


def test_refresh_rejects_garbage(api_client):
    response = api_client.post(REFRESH_URL, {"refresh": "not-a-token"})

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


# --- Logout --------------------------------------------------------------------------------


def test_logout_makes_both_tokens_useless_at_once(api_client, student):
    tokens = obtain_tokens(api_client, student.email)
    client = bearer(tokens["access"])

    response = client.post(LOGOUT_URL, {"refresh": tokens["refresh"]})

    assert response.status_code == 204
    me = client.get(ME_URL)
    assert me.status_code == 401
    assert me.json()["code"] == "token_revoked"
    assert api_client.post(REFRESH_URL, {"refresh": tokens["refresh"]}).status_code == 401


def test_logout_leaves_other_sessions_signed_in(api_client, student):
    laptop = obtain_tokens(api_client, student.email)
    phone = obtain_tokens(api_client, student.email)

    bearer(laptop["access"]).post(LOGOUT_URL, {"refresh": laptop["refresh"]})

    assert bearer(phone["access"]).get(ME_URL).status_code == 200
    assert api_client.post(REFRESH_URL, {"refresh": phone["refresh"]}).status_code == 200


def test_logout_with_a_jwt_requires_the_refresh_token(api_client, student):
    tokens = obtain_tokens(api_client, student.email)

    response = bearer(tokens["access"]).post(LOGOUT_URL, {})

    assert response.status_code == 400
    assert "refresh" in response.json()["fields"]
    assert bearer(tokens["access"]).get(ME_URL).status_code == 200


def test_logout_refuses_another_users_refresh_token(api_client, student, other_student):
    mine = obtain_tokens(api_client, student.email)
    theirs = obtain_tokens(api_client, other_student.email)

    response = bearer(mine["access"]).post(LOGOUT_URL, {"refresh": theirs["refresh"]})

    assert response.status_code == 400
    assert response.json()["code"] == "token_not_valid"
    assert api_client.post(REFRESH_URL, {"refresh": theirs["refresh"]}).status_code == 200


def test_logout_requires_authentication(api_client):
    response = api_client.post(LOGOUT_URL, {"refresh": "anything"})

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_logout_ends_a_browser_session(client, student):
    client.force_login(student)

    response = client.post(LOGOUT_URL, content_type="application/json")

    assert response.status_code == 204
    assert client.get(ME_URL).status_code == 401


# --- Me ------------------------------------------------------------------------------------


def test_me_returns_the_profile(auth_client, student):
    response = auth_client(student).get(ME_URL)

    assert response.status_code == 200
    assert response.json() == {
        "id": str(student.pk),
        "email": student.email,
        "full_name": student.full_name,
        "role": "student",
        "is_active": True,
        "email_verified_at": None,
        "receives_weekly_digest": True,
        "date_joined": student.created_at.isoformat().replace("+00:00", "Z"),
        "last_login": None,
    }


def test_me_requires_authentication(api_client):
    response = api_client.get(ME_URL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_me_patch_updates_the_full_name(auth_client, student):
    response = auth_client(student).patch(ME_URL, {"full_name": "Renamed Person"})

    assert response.status_code == 200
    assert response.json()["full_name"] == "Renamed Person"
    student.refresh_from_db()
    assert student.full_name == "Renamed Person"


def test_me_patch_opts_out_of_the_weekly_digest(auth_client, student):
    response = auth_client(student).patch(ME_URL, {"receives_weekly_digest": False})

    student.refresh_from_db()
    assert response.status_code == 200
    assert response.json()["receives_weekly_digest"] is False
    assert student.receives_weekly_digest is False


def test_me_patch_cannot_change_role_or_email(auth_client, student):
    response = auth_client(student).patch(
        ME_URL, {"role": "admin", "email": "new@example.com", "is_staff": True}
    )

    assert response.status_code == 200
    student.refresh_from_db()
    assert student.role == User.Role.STUDENT
    assert student.is_staff is False
    assert student.email != "new@example.com"


def test_me_patch_rejects_an_empty_name(auth_client, student):
    response = auth_client(student).patch(ME_URL, {"full_name": ""})

    assert response.status_code == 400
    assert "full_name" in response.json()["fields"]


def test_session_authentication_enforces_csrf(student):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(student)

    assert client.get(ME_URL).status_code == 200
    response = client.patch(ME_URL, {"full_name": "No Token"})

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "CSRF" in response.json()["message"]
    student.refresh_from_db()
    assert student.full_name != "No Token"


# --- Password change -----------------------------------------------------------------------


def test_password_change_sets_the_new_password(api_client, student):
    tokens = obtain_tokens(api_client, student.email)

    response = bearer(tokens["access"]).post(
        PASSWORD_URL, {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 200
    assert bearer(response.json()["access"]).get(ME_URL).status_code == 200
    student.refresh_from_db()
    assert student.check_password(NEW_PASSWORD)


def test_password_change_revokes_every_refresh_token(api_client, student):
    other_device = obtain_tokens(api_client, student.email)
    rotated = api_client.post(REFRESH_URL, {"refresh": other_device["refresh"]}).json()
    this_device = obtain_tokens(api_client, student.email)

    response = bearer(this_device["access"]).post(
        PASSWORD_URL, {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 200
    assert api_client.post(REFRESH_URL, {"refresh": rotated["refresh"]}).status_code == 401
    assert api_client.post(REFRESH_URL, {"refresh": this_device["refresh"]}).status_code == 401
    fresh = api_client.post(REFRESH_URL, {"refresh": response.json()["refresh"]})
    assert fresh.status_code == 200


def test_password_change_refuses_a_wrong_current_password(auth_client, student):
    response = auth_client(student).post(
        PASSWORD_URL, {"current_password": "not-my-password", "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "wrong_password"
    assert list(response.json()["fields"]) == ["current_password"]
    student.refresh_from_db()
    assert student.check_password(PASSWORD)


def test_password_change_validates_the_new_password(auth_client, student):
    response = auth_client(student).post(
        PASSWORD_URL, {"current_password": PASSWORD, "new_password": "short"}
    )

    assert response.status_code == 400
    assert "new_password" in response.json()["fields"]
    student.refresh_from_db()
    assert student.check_password(PASSWORD)


def test_password_change_requires_authentication(api_client):
    response = api_client.post(
        PASSWORD_URL, {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 401


# --- Back-office user directory ------------------------------------------------------------


@pytest.mark.parametrize(
    ("role_user", "expected_status"),
    ADMIN_ONLY,
    indirect=["role_user"],
)
def test_user_directory_is_for_admins_only(auth_client, role_user, expected_status):
    response = auth_client(role_user).get(USERS_URL)

    assert response.status_code == expected_status


@pytest.mark.parametrize(
    ("role_user", "expected_status"),
    ADMIN_ONLY,
    indirect=["role_user"],
)
def test_user_detail_is_for_admins_only(auth_client, student, role_user, expected_status):
    response = auth_client(role_user).get(reverse("accounts_api:user-detail", args=[student.pk]))

    assert response.status_code == expected_status


def test_user_directory_filters_by_role_and_search(auth_client, admin_user):
    UserFactory(full_name="Grace Hopper", instructor=True)
    UserFactory(full_name="Grace Kelly")
    UserFactory(full_name="Alan Turing", instructor=True)

    response = auth_client(admin_user).get(USERS_URL, {"role": "instructor", "search": "grace"})

    assert response.status_code == 200
    assert [user["full_name"] for user in response.json()["results"]] == ["Grace Hopper"]


def test_user_directory_rejects_an_unknown_role(auth_client, admin_user):
    response = auth_client(admin_user).get(USERS_URL, {"role": "wizard"})

    assert response.status_code == 400
    assert "role" in response.json()["fields"]


def test_user_directory_query_count_does_not_grow_with_page_size(
    auth_client, admin_user, django_assert_num_queries
):
    client = auth_client(admin_user)
    with django_assert_num_queries(2):  # count + page
        client.get(USERS_URL)
    UserFactory.create_batch(5)

    with django_assert_num_queries(2):
        response = client.get(USERS_URL)

    assert response.json()["count"] == 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_of_one_email_create_one_account():
    barrier = threading.Barrier(4)
    statuses = []

    def register(spelling: str) -> None:
        try:
            barrier.wait()
            response = APIClient().post(
                REGISTER_URL, {"email": spelling, "password": PASSWORD, "full_name": "Racer"}
            )
            statuses.append((response.status_code, response.json().get("code")))
        finally:
            connections.close_all()

    spellings = ["race@example.com", "RACE@example.com", "Race@Example.com", "race@EXAMPLE.com"]
    threads = [threading.Thread(target=register, args=(s,)) for s in spellings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [(201, None)] + [(400, "email_taken")] * 3
    assert User.objects.filter(email="race@example.com").count() == 1


def test_a_deactivated_users_access_token_stops_working_at_once(api_client, student):
    tokens = obtain_tokens(api_client, student.email)

    services.user_deactivate(user=student)

    response = bearer(tokens["access"]).get(ME_URL)
    assert response.status_code == 401
    assert response.json()["code"] == "user_inactive"


def test_me_takes_one_query(api_client, student, django_assert_num_queries):
    client = bearer(obtain_tokens(api_client, student.email)["access"])

    with django_assert_num_queries(1):  # the user behind the token
        client.get(ME_URL)
