from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.request import Request

from accounts.errors import EmailNotVerified
from accounts.models import SecurityEvent, User

DENIED_ACCESS_TOKEN_KEY = "auth:denied-access:{jti}"  # noqa: S105  (a cache key, not a secret)
# The claim that access and refresh tokens carry once the second factor was checked.
MFA_CLAIM = "mfa"


def user_list() -> QuerySet[User]:
    """Every account, active or not, newest first (the back-office directory)."""
    return User.objects.order_by("-created_at")


def access_token_is_denied(*, jti: str) -> bool:
    """True once the access token with this id was revoked by logout."""
    return cache.get(DENIED_ACCESS_TOKEN_KEY.format(jti=jti)) is not None


def user_check_email_verified(*, user: User) -> None:
    """Raise EmailNotVerified when the setting requires a verified address and it is not."""
    if settings.ACCOUNTS_REQUIRE_VERIFIED_EMAIL and user.email_verified_at is None:
        raise EmailNotVerified()


def totp_device_get(*, user: User, confirmed: bool) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("-id").first()


def backup_device_get(*, user: User) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()


def user_has_mfa(*, user: User) -> bool:
    """True when the user turned on two-factor authentication (a confirmed authenticator app)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def user_mfa_is_required(*, user: User) -> bool:
    """Staff (admins and instructors) must use MFA when MFA_REQUIRED_FOR_STAFF is on."""
    return bool(user.is_staff and settings.MFA_REQUIRED_FOR_STAFF)


def request_is_mfa_verified(*, request: Request) -> bool:
    """True when this request's credentials passed the second factor: a token with the MFA claim,
    or a browser session verified by django-otp (the admin's OTP sign-in)."""
    token = request.auth
    if token is not None and hasattr(token, "get"):
        return token.get(MFA_CLAIM) is True
    user = request.user
    is_verified = getattr(user, "is_verified", None)
    return bool(callable(is_verified) and is_verified())


def security_event_list(*, user: User) -> QuerySet[SecurityEvent]:
    """The audit log of one account, newest first."""
    return SecurityEvent.objects.filter(user=user).order_by("-created_at")
