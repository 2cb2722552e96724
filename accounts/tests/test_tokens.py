"""Token hygiene: forged, expired and tampered JWTs are refused with the common error shape;
password changes, logout and deactivation end tokens at once."""

import base64
import json
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework_simplejwt.tokens import AccessToken

from accounts import services
from accounts.tests.conftest import ME_URL, TOKEN_URL, bearer
from accounts.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

PASSWORD_URL = reverse("accounts_api:password-change")
NEW_PASSWORD = "a-brand-new-passphrase-42"


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def real_access(client, user) -> str:
    return client.post(TOKEN_URL, {"email": user.email, "password": PASSWORD}).json()["access"]


def claims_of(access: str) -> dict:
    return dict(AccessToken(access).payload)


def assert_refused(response) -> None:
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == "token_not_valid"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_alg_none_is_refused(api_client, student):
    claims = claims_of(real_access(api_client, student))
    forged = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."

    assert_refused(bearer(forged).get(ME_URL))


def test_a_token_signed_with_another_key_is_refused(api_client, student):
    claims = claims_of(real_access(api_client, student))
    forged = jwt.encode(claims, "not-the-server-key" * 4, algorithm="HS256")

    assert_refused(bearer(forged).get(ME_URL))


def test_an_expired_token_is_refused(api_client, student):
    claims = claims_of(real_access(api_client, student))
    claims["exp"] = claims["iat"] - 1
    expired = jwt.encode(claims, settings.SECRET_KEY, algorithm="HS256")

    assert_refused(bearer(expired).get(ME_URL))


@pytest.mark.parametrize(
    ("_case", "change"),
    [
        ("another user", {"user_id": "00000000-0000-0000-0000-000000000000"}),
        ("mfa claim added", {"mfa": True}),
        ("longer life", {"exp": 4102444800}),
        ("refresh type", {"token_type": "refresh"}),
    ],
)
def test_a_tampered_token_is_refused(api_client, student, _case, change):
    """Changing any claim breaks the signature (the header and signature are kept)."""
    access = real_access(api_client, student)
    header, _, signature = access.split(".")
    claims = claims_of(access) | change
    tampered = f"{header}.{b64(claims)}.{signature}"

    assert_refused(bearer(tampered).get(ME_URL))


def test_a_refresh_token_is_no_access_token(api_client, student):
    refresh = api_client.post(TOKEN_URL, {"email": student.email, "password": PASSWORD}).json()[
        "refresh"
    ]

    assert_refused(bearer(refresh).get(ME_URL))


def test_garbage_is_refused(api_client):
    assert_refused(bearer("not.a.token").get(ME_URL))


def test_a_password_change_ends_the_other_access_tokens_at_once(api_client, student, clock):
    other_device = real_access(api_client, student)
    this_device = real_access(api_client, student)
    clock.tick(timedelta(seconds=5))

    response = bearer(this_device).post(
        PASSWORD_URL, {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 200
    refused = bearer(other_device).get(ME_URL)
    assert refused.status_code == 401
    assert refused.json()["code"] == "password_changed"
    assert bearer(response.json()["access"]).get(ME_URL).status_code == 200


def test_a_deactivated_users_token_stops_at_once(api_client, student):
    access = real_access(api_client, student)

    services.user_deactivate(user=student)

    response = bearer(access).get(ME_URL)
    assert response.status_code == 401
    assert response.json()["code"] == "user_inactive"


def test_logout_kills_the_access_token_at_once(api_client, student):
    tokens = api_client.post(TOKEN_URL, {"email": student.email, "password": PASSWORD}).json()
    client = bearer(tokens["access"])

    client.post(reverse("accounts_api:logout"), {"refresh": tokens["refresh"]})

    response = client.get(ME_URL)
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"
