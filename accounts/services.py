from typing import TypedDict

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.models import update_last_login
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.errors import (
    EmailAlreadyRegistered,
    InvalidCredentials,
    InvalidRefreshToken,
    WrongPassword,
)
from accounts.models import User, normalize_email
from accounts.selectors import DENIED_ACCESS_TOKEN_KEY
from lms.mail import send_templated_email


class TokenPair(TypedDict):
    access: str
    refresh: str


def _validate_password(password: str, *, user: User, field: str) -> None:
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from error


def _token_pair_for(user: User) -> TokenPair:
    refresh = RefreshToken.for_user(user)  # also records it as outstanding, for revocation
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def user_register(*, email: str, password: str, full_name: str) -> User:
    """Create a student account and send the welcome email after the commit."""
    email = normalize_email(email)
    if User.objects.filter(email=email).exists():
        raise EmailAlreadyRegistered()
    _validate_password(password, user=User(email=email, full_name=full_name), field="password")
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, full_name=full_name)
            send_templated_email(
                to=[user.email],
                subject=f"Welcome to {settings.SITE_NAME}",
                template="welcome",
                context={"full_name": user.full_name},
            )
    except IntegrityError as error:  # a concurrent registration won the race
        raise EmailAlreadyRegistered() from error
    return user


def auth_token_obtain(*, request: HttpRequest | None, email: str, password: str) -> TokenPair:
    """Exchange an email and password for an access and refresh token pair."""
    user = authenticate(request, email=email, password=password)
    if not isinstance(user, User):
        # Same answer for an unknown email, a wrong password and a deactivated account.
        raise InvalidCredentials()
    update_last_login(User, user)
    return _token_pair_for(user)


def auth_logout(*, user: User, refresh: str | None, access: AccessToken | None) -> None:
    """Blacklist the refresh token and deny the current access token until it expires."""
    if refresh is not None:
        try:
            refresh_token = RefreshToken(refresh)  # type: ignore[arg-type]
        except TokenError as error:
            raise InvalidRefreshToken() from error
        if str(refresh_token.get("user_id")) != str(user.pk):
            raise InvalidRefreshToken()
        refresh_token.blacklist()
    if access is not None:
        access_token_deny(jti=str(access["jti"]), expires_at=int(access["exp"]))


def access_token_deny(*, jti: str, expires_at: int) -> None:
    """Make an access token unusable at once, on every server (through the shared cache)."""
    seconds_left = expires_at - int(timezone.now().timestamp())
    if seconds_left > 0:
        cache.set(DENIED_ACCESS_TOKEN_KEY.format(jti=jti), True, timeout=seconds_left + 1)


def user_revoke_refresh_tokens(*, user: User) -> int:
    """Blacklist every refresh token the user holds; returns how many were still live."""
    live_tokens = OutstandingToken.objects.filter(
        user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    )
    revoked = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in live_tokens], ignore_conflicts=True
    )
    return len(revoked)


def user_update_profile(
    *, user: User, full_name: str | None = None, receives_weekly_digest: bool | None = None
) -> User:
    """Change what a user may change about themselves (not email or role)."""
    changes = {
        name: value
        for name, value in (
            ("full_name", full_name),
            ("receives_weekly_digest", receives_weekly_digest),
        )
        if value is not None
    }
    for name, value in changes.items():
        setattr(user, name, value)
    if changes:
        user.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
        user.save(update_fields=[*changes, "updated_at"])
    return user


@transaction.atomic
def user_change_password(*, user: User, current_password: str, new_password: str) -> TokenPair:
    """Set a new password, revoke every refresh token, and return a fresh pair for the caller."""
    if not user.check_password(current_password):
        raise WrongPassword()
    _validate_password(new_password, user=user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    user_revoke_refresh_tokens(user=user)
    return _token_pair_for(user)


@transaction.atomic
def user_deactivate(*, user: User) -> User:
    """Soft delete: the account can no longer sign in or refresh; its data stays."""
    user.is_active = False
    user.save(update_fields=["is_active", "updated_at"])
    user_revoke_refresh_tokens(user=user)
    return user


def user_reactivate(*, user: User) -> User:
    user.is_active = True
    user.save(update_fields=["is_active", "updated_at"])
    return user


def refresh_tokens_flush_expired() -> int:
    """Delete expired refresh-token records (their blacklist rows go with them)."""
    deleted, _ = OutstandingToken.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
