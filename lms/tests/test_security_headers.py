import pytest

pytestmark = pytest.mark.django_db


def test_pages_and_api_send_the_security_headers(client):
    for path in ("/", "/api/v1/me/"):
        response = client.get(path)

        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


def test_cors_allows_only_the_configured_origins(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    preflight = {"HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST"}

    allowed = client.options(
        "/api/v1/auth/token/", HTTP_ORIGIN="https://app.example.com", **preflight
    )
    refused = client.options("/api/v1/auth/token/", HTTP_ORIGIN="https://evil.example", **preflight)

    assert allowed["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "Access-Control-Allow-Origin" not in refused
