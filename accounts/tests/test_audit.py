"""The security audit log: events with IP and user agent, never a secret; read-only admin."""

import json

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import SecurityEvent
from accounts.tests.conftest import MFA_VERIFY_URL, TOKEN_URL, enable_mfa, mfa_challenge
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-42"
AGENT = "Mozilla/5.0 (audit test)"


def all_event_text() -> str:
    return json.dumps(
        list(SecurityEvent.objects.values("kind", "metadata", "user_agent", "ip_address")),
        default=str,
    )


def test_a_login_is_recorded_with_ip_and_user_agent(api_client, student):
    api_client.post(
        TOKEN_URL,
        {"email": student.email, "password": PASSWORD},
        REMOTE_ADDR="203.0.113.9",
        HTTP_USER_AGENT=AGENT,
    )

    event = SecurityEvent.objects.get(kind="login_succeeded")
    assert event.user == student
    assert event.ip_address == "203.0.113.9"
    assert event.user_agent == AGENT
    assert event.metadata == {"method": "password"}


def test_the_ip_is_the_connections_unless_proxies_are_trusted(api_client, student):
    api_client.post(
        TOKEN_URL,
        {"email": student.email, "password": "wrong"},
        REMOTE_ADDR="203.0.113.9",
        HTTP_X_FORWARDED_FOR="198.51.100.1",
    )

    assert SecurityEvent.objects.get(kind="login_failed").ip_address == "203.0.113.9"


def test_failures_and_the_lockout_are_recorded_without_the_password(api_client, student):
    for _ in range(5):
        api_client.post(TOKEN_URL, {"email": student.email, "password": "hunter2-guess"})
    api_client.post(TOKEN_URL, {"email": "ghost@example.com", "password": "hunter2-guess"})

    kinds = list(SecurityEvent.objects.order_by("created_at").values_list("kind", flat=True))
    assert kinds.count("login_failed") == 6
    assert kinds.count("account_locked") == 1
    unknown = SecurityEvent.objects.get(user=None, kind="login_failed")
    assert unknown.metadata == {"email": "ghost@example.com", "reason": "unknown_email"}
    assert "hunter2" not in all_event_text()


def test_the_mfa_flow_leaves_no_code_or_challenge_in_the_log(
    auth_client, api_client, student, clock
):
    codes = enable_mfa(student, clock)
    challenge = mfa_challenge(api_client, student)
    clock.tick(60)
    api_client.post(MFA_VERIFY_URL, {"challenge": challenge, "code": "000000"})
    clock.tick(60)
    api_client.post(MFA_VERIFY_URL, {"challenge": challenge, "code": codes[0]})

    text = all_event_text()
    kinds = set(SecurityEvent.objects.values_list("kind", flat=True))
    assert {"mfa_enabled", "mfa_failed", "login_succeeded"} <= kinds
    assert challenge not in text
    assert codes[0] not in text
    assert "000000" not in text


def test_password_change_and_reset_are_recorded_without_the_passwords(
    auth_client, student, django_capture_on_commit_callbacks
):
    auth_client(student).post(
        reverse("accounts_api:password-change"),
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.password_reset_request(email=student.email)

    kinds = set(SecurityEvent.objects.values_list("kind", flat=True))
    assert {"password_changed", "password_reset_requested"} <= kinds
    assert PASSWORD not in all_event_text()
    assert NEW_PASSWORD not in all_event_text()


def test_metadata_that_looks_secret_is_redacted(student):
    services.security_event_record(
        kind="refund",
        user=student,
        metadata={
            "order": "A-1001",
            "amount_minor": 4900,
            "stripe_secret_key": "sk_live_x",
            "nested": {"refresh_token": "eyJ...", "reason": "requested_by_customer"},
            "Password": "p",
        },
    )

    event = SecurityEvent.objects.get(kind="refund")
    assert event.metadata == {
        "order": "A-1001",
        "amount_minor": 4900,
        "stripe_secret_key": "[redacted]",
        "nested": {"refresh_token": "[redacted]", "reason": "requested_by_customer"},
        "Password": "[redacted]",
    }


def test_staff_acting_on_an_account_is_recorded_as_the_actor(client, admin_user):
    target = UserFactory()
    client.force_login(admin_user)

    client.post(
        reverse("admin:accounts_user_change", args=[target.pk]),
        {
            "email": target.email,
            "full_name": target.full_name,
            "role": "instructor",
            "is_active": "on",
        },
    )

    event = SecurityEvent.objects.get(kind="role_changed")
    assert (event.user, event.actor) == (target, admin_user)
    assert event.metadata == {"from": "student", "to": "instructor"}


def test_a_session_login_is_recorded(client, admin_user):
    client.post(reverse("admin:login"), {"username": admin_user.email, "password": PASSWORD})

    event = SecurityEvent.objects.get(kind="login_succeeded")
    assert (event.user, event.metadata) == (admin_user, {"method": "session"})


@pytest.mark.parametrize(
    ("role_user", "expected_status"),
    [("instructor", 403), ("admin_user", 200)],
    indirect=["role_user"],
)
def test_the_audit_log_is_for_back_office_admins(client, role_user, expected_status):
    client.force_login(role_user)

    response = client.get(reverse("admin:accounts_securityevent_changelist"))

    assert response.status_code == expected_status


def test_the_audit_log_is_read_only_in_the_admin(client, admin_user, student):
    services.security_event_record(kind="login_failed", user=student)
    event = SecurityEvent.objects.get(kind="login_failed")
    client.force_login(admin_user)

    change = client.post(
        reverse("admin:accounts_securityevent_change", args=[event.pk]), {"kind": "refund"}
    )
    delete = client.post(
        reverse("admin:accounts_securityevent_delete", args=[event.pk]), {"post": "yes"}
    )
    add = client.get(reverse("admin:accounts_securityevent_add"))
    view = client.get(reverse("admin:accounts_securityevent_change", args=[event.pk]))

    assert change.status_code == delete.status_code == add.status_code == 403
    assert view.status_code == 200
    event.refresh_from_db()
    assert event.kind == "login_failed"
