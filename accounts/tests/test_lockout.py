"""Lockout: 5 sign-in attempts in a row without a success lock the account for 15 minutes, in
the API and in the admin alike (one authentication backend), and the count is atomic."""

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import SecurityEvent, User
from accounts.tests.conftest import TOKEN_URL
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ADMIN_LOGIN_URL = reverse("admin:login")
WRONG = "not-the-password"


def login(client: APIClient, email: str, password: str):
    return client.post(TOKEN_URL, {"email": email, "password": password})


def fail_logins(client: APIClient, email: str, times: int) -> list[int]:
    return [login(client, email, WRONG).status_code for _ in range(times)]


def test_five_failed_logins_lock_the_account_with_the_unlock_time(api_client, student, clock):
    statuses = fail_logins(api_client, student.email, 5)

    response = login(api_client, student.email, PASSWORD)

    assert statuses == [401] * 5
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "account_locked"
    assert body["fields"] == {"locked_until": ["2026-03-02T09:15:00Z"]}
    assert "2026-03-02 09:15 UTC" in body["message"]
    student.refresh_from_db()
    assert student.locked_until == timezone.now() + timedelta(minutes=15)


def test_the_lock_runs_out_after_15_minutes(api_client, student, clock):
    fail_logins(api_client, student.email, 5)

    clock.tick(timedelta(minutes=14, seconds=59))
    still_locked = login(api_client, student.email, PASSWORD)
    clock.tick(timedelta(seconds=2))
    unlocked = login(api_client, student.email, PASSWORD)

    assert still_locked.status_code == 403
    assert unlocked.status_code == 200
    student.refresh_from_db()
    assert (student.failed_login_count, student.locked_until) == (0, None)


def test_a_failure_after_the_lock_ran_out_starts_a_new_count(api_client, student, clock):
    fail_logins(api_client, student.email, 5)
    clock.tick(timedelta(minutes=16))

    statuses = fail_logins(api_client, student.email, 4)

    assert statuses == [401] * 4
    assert login(api_client, student.email, PASSWORD).status_code == 200


def test_a_successful_login_resets_the_count(api_client, student):
    fail_logins(api_client, student.email, 4)
    assert login(api_client, student.email, PASSWORD).status_code == 200

    statuses = fail_logins(api_client, student.email, 4)

    assert statuses == [401] * 4
    assert login(api_client, student.email, PASSWORD).status_code == 200


def test_an_unknown_address_is_locked_out_the_same_way(api_client, student):
    """Otherwise the lockout would tell which addresses have accounts."""
    fail_logins(api_client, student.email, 5)
    fail_logins(api_client, "nobody@example.com", 5)

    known = login(api_client, student.email, WRONG).json()
    unknown = login(api_client, "nobody@example.com", WRONG).json()

    assert known["code"] == unknown["code"] == "account_locked"
    assert set(known) == set(unknown)
    assert known["message"] == unknown["message"]


def test_a_locked_account_does_not_lock_anyone_else(api_client, student, other_student):
    fail_logins(api_client, student.email, 5)

    assert login(api_client, other_student.email, PASSWORD).status_code == 200


def test_admin_login_counts_toward_the_same_lockout(client, api_client, admin_user, clock):
    fail_logins(api_client, admin_user.email, 3)
    for _ in range(2):
        client.post(ADMIN_LOGIN_URL, {"username": admin_user.email, "password": WRONG})

    page = client.post(ADMIN_LOGIN_URL, {"username": admin_user.email, "password": PASSWORD})

    assert page.status_code == 200  # the form again, not a redirect into the admin
    assert b"Too many failed sign-in attempts" in page.content
    assert b"2026-03-02 09:15 UTC" in page.content
    assert "_auth_user_id" not in client.session
    assert login(api_client, admin_user.email, PASSWORD).status_code == 403


def test_admin_login_with_the_right_password_resets_the_count(client, api_client, admin_user):
    fail_logins(api_client, admin_user.email, 4)

    page = client.post(ADMIN_LOGIN_URL, {"username": admin_user.email, "password": PASSWORD})

    assert page.status_code == 302
    admin_user.refresh_from_db()
    assert admin_user.failed_login_count == 0


def test_staff_can_unlock_an_account_from_the_admin(client, api_client, admin_user, student):
    fail_logins(api_client, student.email, 5)
    client.force_login(admin_user)

    client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "unlock_users", "_selected_action": [str(student.pk)]},
    )

    assert login(api_client, student.email, PASSWORD).status_code == 200
    assert SecurityEvent.objects.filter(
        kind="account_unlocked", user=student, actor=admin_user
    ).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_50_parallel_bad_logins_check_at_most_5_passwords():
    """Attempts are counted under the user's row lock before the password is checked, so a
    burst of parallel guesses gets 5 checked and the rest refused without a check."""
    user = UserFactory(email="target@example.com")
    barrier = threading.Barrier(50)
    statuses: list[tuple[int, str]] = []

    def attempt() -> None:
        try:
            barrier.wait()
            response = APIClient().post(
                TOKEN_URL, {"email": "target@example.com", "password": WRONG}
            )
            statuses.append((response.status_code, response.json()["code"]))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [(401, "invalid_credentials")] * 5 + [(403, "account_locked")] * 45
    user.refresh_from_db()
    assert user.failed_login_count == 5
    assert user.locked_until is not None
    assert SecurityEvent.objects.filter(user=user, kind="login_failed").count() == 5
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)
