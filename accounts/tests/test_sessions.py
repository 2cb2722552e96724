"""Browser sessions: a new session key at sign-in, CSRF on every state-changing form and on
session-authenticated API calls."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ADMIN_LOGIN_URL = reverse("admin:login")


def test_signing_in_rotates_the_session_key(client, admin_user):
    client.get(ADMIN_LOGIN_URL)
    session = client.session
    session["planted"] = True  # a session that exists before the sign-in (session fixation)
    session.save()
    before = client.cookies["sessionid"].value

    client.post(ADMIN_LOGIN_URL, {"username": admin_user.email, "password": PASSWORD})

    after = client.cookies["sessionid"].value
    assert after != before
    assert client.session["_auth_user_id"] == str(admin_user.pk)


def test_the_admin_login_form_needs_the_csrf_token(admin_user):
    client = Client(enforce_csrf_checks=True)

    response = client.post(ADMIN_LOGIN_URL, {"username": admin_user.email, "password": PASSWORD})

    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_the_admin_login_form_works_with_the_csrf_token(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.get(ADMIN_LOGIN_URL)
    token = client.cookies["csrftoken"].value

    response = client.post(
        ADMIN_LOGIN_URL,
        {"username": admin_user.email, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )

    assert response.status_code == 302


def test_session_authenticated_api_writes_need_the_csrf_token(student):
    client = Client(enforce_csrf_checks=True)
    client.force_login(student)

    response = client.post(reverse("accounts_api:mfa-totp"))

    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]
