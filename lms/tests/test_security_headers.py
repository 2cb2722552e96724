import json

import pytest
from csp.middleware import CSPMiddleware
from django.http import HttpResponse

from lms.tests.test_settings import run_in_production

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


def test_pages_send_a_content_security_policy(client):
    response = client.get("/admin/login/")

    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'self'"
    assert policy["form-action"] == "'self'"


def test_a_template_can_allow_one_inline_script_with_the_nonce(rf):
    def view(request):
        return HttpResponse(f'<script nonce="{request.csp_nonce}">go()</script>')

    request = rf.get("/")
    response = CSPMiddleware(view)(request)

    assert f"'nonce-{request.csp_nonce}'" in response["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_api_docs_may_run_their_inline_start_up_code(client, path):
    response = client.get(path)

    policy = response["Content-Security-Policy"]
    assert "script-src 'self' 'unsafe-inline'" in policy
    assert "worker-src 'self' blob:" in policy
    assert "frame-ancestors 'none'" in policy


def test_production_sends_hsts_and_the_content_security_policy():
    """In a fresh interpreter with the production settings, as gunicorn would run them."""
    result = run_in_production(
        "import django, json; django.setup(); from django.test import Client; "
        "r = Client().get('/api/v1/me/', secure=True, HTTP_HOST='lms.example.com'); "
        "print(json.dumps({'status': r.status_code, 'headers': dict(r.headers)}))"
    )

    assert result.returncode == 0, result.stderr
    page = json.loads(result.stdout.strip().splitlines()[-1])
    headers = page["headers"]
    assert page["status"] == 401  # anonymous: answered without a database or a cache
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_production_redirects_plain_http_to_https():
    result = run_in_production(
        "import django; django.setup(); from django.test import Client; "
        "r = Client().get('/admin/login/', HTTP_HOST='lms.example.com'); "
        "print(r.status_code, r['Location'])"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["301", "https://lms.example.com/admin/login/"]
