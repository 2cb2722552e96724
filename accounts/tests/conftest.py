"""Helpers for the security tests: a controlled clock, TOTP codes, accounts with MFA on."""

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from freezegun import freeze_time
from rest_framework.test import APIClient

from accounts import services
from accounts.models import User
from accounts.tests.factories import PASSWORD

TOKEN_URL = reverse("accounts_api:token-obtain")
MFA_VERIFY_URL = reverse("accounts_api:mfa-verify")
ME_URL = reverse("accounts_api:me")


@pytest.fixture
def clock():
    """Time stands still until the test moves it (clock.tick(seconds)); TOTP, the lockout
    and token lifetimes all read this clock."""
    with freeze_time("2026-03-02 09:00:00") as frozen:
        yield frozen


def totp_code(device: TOTPDevice) -> str:
    """The code an authenticator app shows now (by the test's clock)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def enable_mfa(user: User, clock) -> list[str]:
    """Turn MFA on through the services; returns the backup codes. Moves the clock to the next
    TOTP period, so the code used for confirming is not a replay in the test."""
    services.mfa_totp_enroll(user=user)
    device = TOTPDevice.objects.get(user=user)
    codes = services.mfa_totp_confirm(user=user, code=totp_code(device))
    clock.tick(30)
    return codes


def totp_device(user: User) -> TOTPDevice:
    return TOTPDevice.objects.get(user=user, confirmed=True)


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def mfa_challenge(client: APIClient, user: User, password: str = PASSWORD) -> str:
    response = client.post(TOKEN_URL, {"email": user.email, "password": password})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["mfa_required"] is True
    return body["challenge"]


def mfa_tokens(client: APIClient, user: User) -> dict:
    """A full two-step sign-in with the current TOTP code."""
    challenge = mfa_challenge(client, user)
    response = client.post(
        MFA_VERIFY_URL, {"challenge": challenge, "code": totp_code(totp_device(user))}
    )
    assert response.status_code == 200, response.json()
    return response.json()
