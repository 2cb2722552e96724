"""Every authentication endpoint is throttled per client IP (the `auth` rate)."""

import pytest
from django.urls import reverse

from lms.throttles import AuthRateThrottle

pytestmark = pytest.mark.django_db

AUTH_ENDPOINTS = [
    ("post", "accounts_api:register"),
    ("post", "accounts_api:token-obtain"),
    ("post", "accounts_api:token-refresh"),
    ("post", "accounts_api:logout"),
    ("post", "accounts_api:mfa-verify"),
    ("post", "accounts_api:password-reset"),
    ("post", "accounts_api:password-reset-confirm"),
    ("post", "accounts_api:verify-email-request"),
    ("post", "accounts_api:verify-email-confirm"),
    ("post", "accounts_api:password-change"),
    ("post", "accounts_api:mfa-totp"),
    ("delete", "accounts_api:mfa-totp"),
    ("post", "accounts_api:mfa-totp-confirm"),
    ("post", "accounts_api:mfa-backup-codes"),
]


@pytest.mark.parametrize(("method", "url_name"), AUTH_ENDPOINTS)
def test_auth_endpoints_are_throttled_per_ip(auth_client, student, monkeypatch, method, url_name):
    monkeypatch.setattr(AuthRateThrottle, "rate", "3/min", raising=False)
    client = auth_client(student)
    call = getattr(client, method)

    statuses = [call(reverse(url_name), {}, REMOTE_ADDR="198.51.100.7").status_code]
    statuses += [call(reverse(url_name), {}, REMOTE_ADDR="198.51.100.7").status_code]
    statuses += [call(reverse(url_name), {}, REMOTE_ADDR="198.51.100.7").status_code]
    throttled = call(reverse(url_name), {}, REMOTE_ADDR="198.51.100.7")
    other_ip = call(reverse(url_name), {}, REMOTE_ADDR="198.51.100.8")

    assert 429 not in statuses
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0
    assert other_ip.status_code != 429


def test_a_forged_forwarded_for_header_does_not_dodge_the_throttle(api_client, monkeypatch):
    monkeypatch.setattr(AuthRateThrottle, "rate", "2/min", raising=False)
    url = reverse("accounts_api:password-reset")
    for n in range(2):
        api_client.post(url, {"email": "a@example.com"}, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")

    response = api_client.post(url, {"email": "a@example.com"}, HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert response.status_code == 429
