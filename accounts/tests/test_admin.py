import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST_URL = reverse("admin:accounts_user_changelist")


@pytest.mark.parametrize(
    ("role_user", "expected_status"),
    [
        ("student", 302),  # not staff: sent to the admin login page
        ("instructor", 403),
        ("admin_user", 200),
    ],
    indirect=["role_user"],
)
def test_user_admin_is_for_back_office_admins(client, role_user, expected_status):
    client.force_login(role_user)

    response = client.get(CHANGELIST_URL)

    assert response.status_code == expected_status


def test_user_admin_searches_by_email_and_name(client, admin_user):
    UserFactory(email="grace@example.com", full_name="Grace Hopper")
    UserFactory(email="alan@example.com", full_name="Alan Turing")
    client.force_login(admin_user)

    response = client.get(CHANGELIST_URL, {"q": "hopper"})

    assert b"grace@example.com" in response.content
    assert b"alan@example.com" not in response.content


def test_user_admin_filters_by_role(client, admin_user):
    UserFactory(email="teacher@example.com", instructor=True)
    UserFactory(email="learner@example.com")
    client.force_login(admin_user)

    response = client.get(CHANGELIST_URL, {"role__exact": "instructor"})

    assert b"teacher@example.com" in response.content
    assert b"learner@example.com" not in response.content


def test_user_admin_deactivate_action_keeps_the_account(client, admin_user):
    user = UserFactory()
    client.force_login(admin_user)

    response = client.post(
        CHANGELIST_URL, {"action": "deactivate_users", "_selected_action": [str(user.pk)]}
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_active is False


def test_user_admin_creates_a_user_with_a_hashed_password(client, admin_user):
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "New.Teacher@Example.com",
            "full_name": "New Teacher",
            "role": "instructor",
            "usable_password": "true",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
        },
    )

    assert response.status_code == 302, response.content
    user = User.objects.get(email="new.teacher@example.com")
    assert user.check_password("a-long-enough-passphrase")
    assert user.role == User.Role.INSTRUCTOR


def test_non_superuser_admin_cannot_grant_superuser_status(client, admin_user):
    target = UserFactory()
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:accounts_user_change", args=[target.pk]),
        {
            "email": target.email,
            "full_name": "Renamed",
            "role": "student",
            "is_active": "on",
            "is_superuser": "on",
        },
    )

    assert response.status_code == 302
    target.refresh_from_db()
    assert target.full_name == "Renamed"
    assert target.is_superuser is False


def test_only_superusers_can_delete_accounts(client, admin_user):
    user = UserFactory()
    client.force_login(admin_user)

    response = client.post(reverse("admin:accounts_user_delete", args=[user.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert User.objects.filter(pk=user.pk).exists()
