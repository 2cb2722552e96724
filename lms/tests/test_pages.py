import json

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.test import Client

from accounts.tests.factories import UserFactory
from lms.exceptions import permission_denied, server_error

pytestmark = pytest.mark.django_db


def test_home_page_renders_in_the_base_layout(client):
    response = client.get("/")

    assert response.status_code == 200
    assert b"Learn something new" in response.content
    assert b'href="/api/docs/"' in response.content
    assert b'href="/accounts/login/?next=/">Log in</a>' in response.content


def test_home_page_greets_a_signed_in_user(client):
    user = UserFactory(full_name="Grace Hopper")
    client.force_login(user)

    response = client.get("/")

    assert b"Grace Hopper" in response.content
    assert b'href="/dashboard/">My learning</a>' in response.content
    assert b">Log in</a>" not in response.content


def test_api_schema_is_served(client):
    response = client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/auth/token/" in schema["paths"]
    assert "/api/v1/me/" in schema["paths"]


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_api_documentation_pages_are_served_from_this_server(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert b"/static/drf_spectacular_sidecar/" in response.content


def test_admin_login_page_is_served(client):
    response = client.get("/admin/login/")

    assert response.status_code == 200
    assert b"Email" in response.content


# --- Layout, languages and error pages ------------------------------------------------------


def test_layout_has_landmarks_and_a_skip_link(client):
    body = client.get("/").content.decode()

    assert '<a class="skip-link" href="#main">Skip to main content</a>' in body
    for landmark in ('<header class="site-header">', '<nav class="site-nav"', '<main id="main"'):
        assert landmark in body
    assert '<footer class="site-footer">' in body


def test_language_is_negotiated_from_the_browser_and_falls_back_to_english(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")

    assert response["Content-Language"] == "en"
    assert b'<html lang="en" dir="ltr">' in response.content
    assert "Accept-Language" in response["Vary"]


def test_language_form_stores_the_choice_and_returns_to_the_page(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/courses/"})

    assert response.status_code == 302
    assert response["Location"] == "/courses/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


def test_every_page_offers_the_language_form(client):
    body = client.get("/").content.decode()

    assert 'action="/i18n/setlang/"' in body
    assert '<option value="en" selected>English</option>' in body


def test_log_out_ends_the_session(client):
    client.force_login(UserFactory())

    response = client.post("/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "_auth_user_id" not in client.session


def test_403_page_is_in_the_site_layout_with_the_reason(rf):
    request = rf.get("/somewhere/")
    request.user = AnonymousUser()

    response = permission_denied(request, PermissionDenied("Members only."))

    assert response.status_code == 403
    body = response.content.decode()
    assert "Members only." in body
    assert '<nav class="site-nav"' in body


def test_403_under_the_api_keeps_the_json_error_shape(rf):
    response = permission_denied(rf.get("/api/v1/anything/"), PermissionDenied("No."))

    assert response.status_code == 403
    assert json.loads(response.content) == {
        "code": "permission_denied",
        "message": "No.",
        "fields": {},
    }


def test_500_page_renders_in_the_site_layout_without_a_request_context(rf):
    response = server_error(rf.get("/boom/"))

    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert '<nav class="site-nav"' in body


def test_a_form_without_its_csrf_token_shows_the_expired_form_page():
    client = Client(enforce_csrf_checks=True)

    response = client.post("/i18n/setlang/", {"language": "en"})

    assert response.status_code == 403
    assert b"This form has expired" in response.content
