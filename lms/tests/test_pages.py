import pytest

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_home_page_renders_in_the_base_layout(client):
    response = client.get("/")

    assert response.status_code == 200
    assert b"Learn something new" in response.content
    assert b'href="/api/docs/"' in response.content
    assert b"Staff sign-in" in response.content


def test_home_page_greets_a_signed_in_user(client):
    user = UserFactory(full_name="Grace Hopper")
    client.force_login(user)

    response = client.get("/")

    assert b"Grace Hopper" in response.content
    assert b"Staff sign-in" not in response.content


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
