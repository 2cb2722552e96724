"""Every error, whatever raised it, has the body {"code", "message", "fields"}."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ME_URL = reverse("accounts_api:me")
TOKEN_URL = reverse("accounts_api:token-obtain")


def assert_error_shape(body: dict, code: str) -> None:
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code
    assert isinstance(body["message"], str)
    assert body["message"]
    assert isinstance(body["fields"], dict)


def test_400_validation_error_names_the_fields(api_client):
    response = api_client.post(reverse("accounts_api:register"), {"email": "nope"})

    assert response.status_code == 400
    assert_error_shape(response.json(), "invalid")
    assert set(response.json()["fields"]) == {"email", "password", "full_name"}


def test_400_malformed_json(api_client):
    response = api_client.post(TOKEN_URL, "{not json", content_type="application/json")

    assert response.status_code == 400
    assert_error_shape(response.json(), "parse_error")


def test_401_without_credentials(api_client):
    response = api_client.get(ME_URL)

    assert response.status_code == 401
    assert_error_shape(response.json(), "not_authenticated")


def test_401_with_a_malformed_token(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")

    response = api_client.get(ME_URL)

    assert response.status_code == 401
    assert_error_shape(response.json(), "token_not_valid")


def test_403_for_a_forbidden_role(auth_client, student):
    response = auth_client(student).get(reverse("accounts_api:user-list"))

    assert response.status_code == 403
    assert_error_shape(response.json(), "permission_denied")


def test_404_for_a_missing_object(auth_client, admin_user):
    url = reverse("accounts_api:user-detail", args=["00000000-0000-0000-0000-000000000000"])

    response = auth_client(admin_user).get(url)

    assert response.status_code == 404
    assert_error_shape(response.json(), "not_found")


def test_404_for_an_unknown_api_path(api_client):
    response = api_client.get("/api/v1/no-such-endpoint/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert_error_shape(response.json(), "not_found")


def test_405_for_an_unsupported_method(auth_client, student):
    response = auth_client(student).delete(ME_URL)

    assert response.status_code == 405
    assert_error_shape(response.json(), "method_not_allowed")


def test_429_with_retry_after_on_the_auth_endpoints(api_client):
    # A different address each time: one address is locked out after 5 attempts (403).
    for n in range(60):
        payload = {"email": f"someone{n}@example.com", "password": "wrong-password"}
        assert api_client.post(TOKEN_URL, payload).status_code == 401

    response = api_client.post(TOKEN_URL, {"email": "someone@example.com", "password": "x"})

    assert response.status_code == 429
    assert_error_shape(response.json(), "throttled")
    assert 0 < int(response["Retry-After"]) <= 60


def test_auth_throttle_counts_per_ip_whatever_the_email(api_client):
    for n in range(60):
        api_client.post(TOKEN_URL, {"email": f"user{n}@example.com", "password": "x"})

    response = api_client.post(TOKEN_URL, {"email": "fresh@example.com", "password": "x"})
    other_ip = api_client.post(
        TOKEN_URL, {"email": "fresh@example.com", "password": "x"}, REMOTE_ADDR="10.9.8.7"
    )

    assert response.status_code == 429
    assert other_ip.status_code == 401


def test_forged_forwarded_for_headers_do_not_dodge_the_auth_throttle(api_client):
    for n in range(60):
        api_client.post(
            TOKEN_URL,
            {"email": "a@example.com", "password": "x"},
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        )

    response = api_client.post(
        TOKEN_URL, {"email": "a@example.com", "password": "x"}, HTTP_X_FORWARDED_FOR="10.0.1.1"
    )

    assert response.status_code == 429


def test_anonymous_calls_are_throttled_per_client(api_client, monkeypatch):
    # The class captured the rates at import; lower the anonymous rate for a short test.
    monkeypatch.setitem(AnonRateThrottle.THROTTLE_RATES, "anon", "3/min")
    for _ in range(3):
        assert api_client.get("/api/schema/?format=json").status_code == 200

    response = api_client.get("/api/schema/?format=json")

    assert response.status_code == 429
    assert_error_shape(response.json(), "throttled")


def test_authenticated_calls_are_throttled_per_user(auth_client, student, monkeypatch):
    monkeypatch.setitem(UserRateThrottle.THROTTLE_RATES, "user", "3/min")
    client = auth_client(student)
    for _ in range(3):
        assert client.get(ME_URL).status_code == 200

    response = client.get(ME_URL)

    assert response.status_code == 429
    assert_error_shape(response.json(), "throttled")


@pytest.mark.urls("lms.tests.urls_failing")
@pytest.mark.parametrize(
    ("kind", "status", "code", "fields"),
    [
        ("django-validation", 400, "invalid", {"starts_at": ["Must be in the future."]}),
        (
            "django-validation-plain",
            400,
            "invalid",
            {"non_field_errors": ["The course is not ready."]},
        ),
        ("does-not-exist", 404, "not_found", {}),
        ("permission", 403, "permission_denied", {}),
        ("conflict", 409, "seats_taken", {}),
    ],
)
def test_errors_raised_by_services_map_to_the_error_shape(api_client, kind, status, code, fields):
    response = api_client.post(f"/api/v1/raise/{kind}/")

    assert response.status_code == status
    assert_error_shape(response.json(), code)
    assert response.json()["fields"] == fields


@pytest.mark.urls("lms.tests.urls_failing")
def test_500_in_the_api_has_the_error_shape():
    client = Client(raise_request_exception=False)

    response = client.get("/api/v1/boom/")

    assert response.status_code == 500
    assert response.json() == {
        "code": "server_error",
        "message": "Internal server error.",
        "fields": {},
    }


@pytest.mark.urls("lms.tests.urls_failing")
def test_500_on_a_page_renders_the_error_page():
    client = Client(raise_request_exception=False)

    response = client.get("/boom/")

    assert response.status_code == 500
    assert b"Something went wrong" in response.content


def test_404_page_uses_the_site_layout(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert b"Page not found" in response.content
    assert b'class="site-header"' in response.content


def test_error_responses_do_not_leak_the_user_model(api_client):
    UserFactory(email="exists@example.com")

    known = api_client.post(TOKEN_URL, {"email": "exists@example.com", "password": "bad-pass"})
    unknown = api_client.post(TOKEN_URL, {"email": "missing@example.com", "password": "bad-pass"})

    assert known.json() == unknown.json()
