import base64
import hashlib
import io
import re
import secrets
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypedDict

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.models import update_last_login
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp import verify_token as otp_verify_token
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts import selectors
from accounts.errors import (
    AccountLocked,
    EmailAlreadyRegistered,
    InvalidAccountToken,
    InvalidCredentials,
    InvalidMfaCode,
    InvalidRefreshToken,
    MfaAlreadyEnabled,
    MfaEnrollmentNotStarted,
    MfaNotEnabled,
    MfaThrottled,
    WrongPassword,
)
from accounts.models import AccountToken, SecurityEvent, User, normalize_email
from accounts.selectors import DENIED_ACCESS_TOKEN_KEY, MFA_CLAIM
from lms.mail import send_templated_email
from lms.throttles import client_ip

BACKUP_CODE_COUNT = 10
# Unknown emails get the same lockout as accounts (kept in the cache), so the answer to a
# sign-in never tells whether an account exists.
UNKNOWN_EMAIL_ATTEMPTS_KEY = "auth:login-attempts:{digest}"
UNKNOWN_EMAIL_LOCK_KEY = "auth:login-locked:{digest}"
# At most one reset or verification email per address and minute, whoever asks.
MAIL_COOLDOWN_KEY = "auth:mail-cooldown:{purpose}:{digest}"
MAIL_COOLDOWN_SECONDS = 60
# Metadata keys containing one of these never reach the audit log.
SECRET_KEY_PARTS = (
    "password",
    "token",
    "secret",
    "code",
    "otp",
    "challenge",
    "key",
    "refresh",
    "access",
    "authorization",
    "cookie",
    "session",
)


class TokenPair(TypedDict):
    access: str
    refresh: str


class MfaChallenge(TypedDict):
    mfa_required: bool
    challenge: str


class TotpEnrollment(TypedDict):
    otpauth_uri: str
    secret: str
    qr_code: str


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _validate_password(password: str, *, user: User, field: str) -> None:
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from error


def _token_pair_for(user: User, *, mfa: bool = False) -> TokenPair:
    refresh = RefreshToken.for_user(user)  # also records it as outstanding, for revocation
    if mfa:
        refresh[MFA_CLAIM] = True  # copied into every access token made from this refresh
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


# --- Audit log -----------------------------------------------------------------------------


def _without_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            str(key): (
                "[redacted]"
                if any(part in str(key).lower() for part in SECRET_KEY_PARTS)
                else _without_secrets(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_without_secrets(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def security_event_record(
    *,
    kind: str,
    user: User | None,
    request: HttpRequest | None = None,
    metadata: dict | None = None,
) -> None:
    """Write one audit-log line: what happened to which account, from which IP and user agent.

    Metadata keys that look like secrets (password, token, code, key, ...) are redacted, so a
    careless caller cannot put one in the log. When the request is signed in as someone other
    than `user` (staff acting on an account), that person is recorded as the actor.
    """
    ip_address, user_agent, actor = None, "", None
    if request is not None:
        ip_address = client_ip(request)
        user_agent = str(request.META.get("HTTP_USER_AGENT", ""))[:512]
        request_user = getattr(request, "user", None)
        if (
            isinstance(request_user, User)
            and request_user.is_authenticated
            and (user is None or request_user.pk != user.pk)
        ):
            actor = request_user
    SecurityEvent.objects.create(
        kind=kind,
        user=user if user is not None and user.pk is not None else None,
        actor=actor,
        ip_address=ip_address,
        user_agent=user_agent,
        metadata=_without_secrets(metadata or {}),
    )


# --- Lockout -------------------------------------------------------------------------------


def _lockout_duration() -> timedelta:
    return timedelta(minutes=settings.ACCOUNTS_LOCKOUT_MINUTES)


@transaction.atomic
def login_attempt_reserve(*, user: User) -> None:
    """Count one sign-in attempt *before* its password or code is checked.

    Raises AccountLocked while the account is locked. The attempt that uses up the allowance
    (ACCOUNTS_LOGIN_MAX_FAILURES) sets the lock at once; a success clears it again. Counting first,
    under the user's row lock, means parallel attempts can check at most the remaining
    allowance of passwords or codes, however many arrive at once.
    """
    now = timezone.now()
    row = (
        User.objects.select_for_update().only("failed_login_count", "locked_until").get(pk=user.pk)
    )
    if row.is_locked(now):
        assert row.locked_until is not None  # noqa: S101  (for the type checker)
        raise AccountLocked(locked_until=row.locked_until)
    # A lock that ran out starts a fresh count.
    count = (0 if row.locked_until is not None else row.failed_login_count) + 1
    is_last_attempt = count >= settings.ACCOUNTS_LOGIN_MAX_FAILURES
    locked_until = now + _lockout_duration() if is_last_attempt else None
    User.objects.filter(pk=user.pk).update(failed_login_count=count, locked_until=locked_until)
    user.failed_login_count, user.locked_until = count, locked_until


def _login_attempt_failed(
    *, user: User, request: HttpRequest | None, kind: str, reason: str
) -> None:
    security_event_record(kind=kind, user=user, request=request, metadata={"reason": reason})
    if user.locked_until is not None:
        security_event_record(
            kind=SecurityEvent.Kind.ACCOUNT_LOCKED,
            user=user,
            request=request,
            metadata={"locked_until": user.locked_until.isoformat()},
        )


def _login_attempts_reset(*, user: User) -> None:
    User.objects.filter(pk=user.pk).update(failed_login_count=0, locked_until=None)
    user.failed_login_count, user.locked_until = 0, None


def _unknown_email_attempt_reserve(*, email: str) -> None:
    """The lockout for addresses without an account, in the cache (see UNKNOWN_EMAIL_*_KEY)."""
    digest = _digest(email)
    now = timezone.now()
    locked_until = cache.get(UNKNOWN_EMAIL_LOCK_KEY.format(digest=digest))
    if locked_until is not None and locked_until > now.timestamp():
        raise AccountLocked(locked_until=datetime.fromtimestamp(locked_until, tz=now.tzinfo))
    key = UNKNOWN_EMAIL_ATTEMPTS_KEY.format(digest=digest)
    duration = _lockout_duration()
    cache.add(key, 0, timeout=int(duration.total_seconds()))
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=int(duration.total_seconds()))
        count = 1
    if count >= settings.ACCOUNTS_LOGIN_MAX_FAILURES:
        until = now + duration
        cache.set(
            UNKNOWN_EMAIL_LOCK_KEY.format(digest=digest),
            until.timestamp(),
            timeout=int(duration.total_seconds()),
        )
        cache.delete(key)


def user_unlock(*, user: User, request: HttpRequest | None = None) -> User:
    """Clear a lockout before it runs out (staff, from the admin)."""
    _login_attempts_reset(user=user)
    security_event_record(kind=SecurityEvent.Kind.ACCOUNT_UNLOCKED, user=user, request=request)
    return user


def auth_password_check(*, request: HttpRequest | None, email: str, password: str) -> User | None:
    """The password step of every sign-in (API, admin, pages), through the auth backend.

    Returns the user when the password is right and the account active, None otherwise.
    Raises AccountLocked before checking anything once the allowance of attempts is used up.
    The counter is reset only when the whole sign-in succeeds (login_succeeded), so the MFA
    step cannot be retried without limit by re-entering a known password.
    """
    email = normalize_email(email)
    user = User.objects.filter(email=email).first()
    if user is None:
        _unknown_email_attempt_reserve(email=email)
        User().set_password(password)  # as slow as checking a real password
        security_event_record(
            kind=SecurityEvent.Kind.LOGIN_FAILED,
            user=None,
            request=request,
            metadata={"email": email, "reason": "unknown_email"},
        )
        return None
    login_attempt_reserve(user=user)
    if not user.check_password(password):
        reason = "wrong_password"
    elif not user.is_active:
        reason = "inactive"
    else:
        return user
    _login_attempt_failed(
        user=user, request=request, kind=SecurityEvent.Kind.LOGIN_FAILED, reason=reason
    )
    return None


def login_succeeded(*, user: User, request: HttpRequest | None, method: str) -> None:
    """A sign-in completed (every factor): reset the lockout counter and record it."""
    _login_attempts_reset(user=user)
    security_event_record(
        kind=SecurityEvent.Kind.LOGIN_SUCCEEDED,
        user=user,
        request=request,
        metadata={"method": method},
    )


# --- Registration and tokens ---------------------------------------------------------------


def user_register(*, email: str, password: str, full_name: str) -> User:
    """Create a student account; the welcome and the verification emails follow the commit."""
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
            _email_verification_send(user=user)
    except IntegrityError as error:  # a concurrent registration won the race
        raise EmailAlreadyRegistered() from error
    return user


def auth_token_obtain(
    *, request: HttpRequest | None, email: str, password: str
) -> TokenPair | MfaChallenge:
    """Exchange an email and password for a token pair, or for an MFA challenge when the
    account has two-factor authentication (then `auth_mfa_verify` finishes the sign-in)."""
    user = authenticate(request, email=email, password=password)
    if not isinstance(user, User):
        # Same answer for an unknown email, a wrong password and a deactivated account.
        raise InvalidCredentials()
    if selectors.user_has_mfa(user=user):
        return {"mfa_required": True, "challenge": mfa_challenge_create(user=user)}
    login_succeeded(user=user, request=request, method="password")
    update_last_login(User, user)
    return _token_pair_for(user)


def mfa_challenge_create(*, user: User) -> str:
    """A single-use challenge between the password and the code of a sign-in with MFA, valid
    ACCOUNTS_MFA_CHALLENGE_MINUTES. The caller has checked the password."""
    return _account_token_create(
        user=user,
        purpose=AccountToken.Purpose.MFA_CHALLENGE,
        lifetime=timedelta(minutes=settings.ACCOUNTS_MFA_CHALLENGE_MINUTES),
    )


def mfa_challenge_verify(
    *, request: HttpRequest | None, challenge: str, code: str
) -> tuple[User, Device]:
    """Check the second step of a sign-in: the challenge and a TOTP or backup code.

    Wrong codes count toward the lockout; the challenge works once. Returns the user and the
    device that matched; the caller completes the sign-in (tokens, or a browser session).
    """
    account_token = _account_token_get(
        raw=challenge, purpose=AccountToken.Purpose.MFA_CHALLENGE, field="challenge"
    )
    user = account_token.user
    if not user.is_active:
        raise InvalidAccountToken("challenge")
    device = mfa_code_verify(user=user, code=code, request=request)
    _account_token_consume(account_token, field="challenge")
    return user, device


def auth_mfa_verify(*, request: HttpRequest | None, challenge: str, code: str) -> TokenPair:
    """Second sign-in step: the challenge from `auth_token_obtain` and a TOTP or backup code.

    Wrong codes count toward the lockout. The challenge works once; the tokens carry the MFA
    claim that `IsMfaVerified` looks for.
    """
    user, device = mfa_challenge_verify(request=request, challenge=challenge, code=code)
    login_succeeded(user=user, request=request, method=f"mfa:{device.model_label()}")
    update_last_login(User, user)
    return _token_pair_for(user, mfa=True)


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
def user_change_password(
    *,
    user: User,
    current_password: str,
    new_password: str,
    request: HttpRequest | None = None,
    mfa: bool = False,
) -> TokenPair:
    """Set a new password and return a fresh pair for the caller (with the MFA claim if the
    caller's credentials had it). Every refresh token is revoked, and every access token
    issued before stops working (tokens carry a hash of the password: SIMPLE_JWT
    CHECK_REVOKE_TOKEN)."""
    if not user.check_password(current_password):
        raise WrongPassword()
    _validate_password(new_password, user=user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    user_revoke_refresh_tokens(user=user)
    security_event_record(kind=SecurityEvent.Kind.PASSWORD_CHANGED, user=user, request=request)
    return _token_pair_for(user, mfa=mfa)


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


def user_role_changed(
    *, user: User, previous_role: str, request: HttpRequest | None = None
) -> None:
    """Record a role change made elsewhere (the user admin's form saves the row itself)."""
    security_event_record(
        kind=SecurityEvent.Kind.ROLE_CHANGED,
        user=user,
        request=request,
        metadata={"from": previous_role, "to": user.role},
    )


def refresh_tokens_flush_expired() -> int:
    """Delete expired refresh-token records (their blacklist rows go with them)."""
    deleted, _ = OutstandingToken.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


# --- Single-use account tokens (verification, reset, MFA challenge) ------------------------


def _account_token_create(*, user: User, purpose: str, lifetime: timedelta) -> str:
    raw = secrets.token_urlsafe(32)
    AccountToken.objects.create(
        user=user, purpose=purpose, token_hash=_digest(raw), expires_at=timezone.now() + lifetime
    )
    return raw


def _account_token_get(*, raw: str, purpose: str, field: str = "token") -> AccountToken:
    account_token = (
        AccountToken.objects.select_related("user")
        .filter(token_hash=_digest(raw), purpose=purpose)
        .first()
    )
    if account_token is None or not account_token.is_usable(timezone.now()):
        raise InvalidAccountToken(field)
    return account_token


def _account_token_consume(account_token: AccountToken, *, field: str = "token") -> None:
    """Mark the token used; of two concurrent uses only one gets past this."""
    used = AccountToken.objects.filter(pk=account_token.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    if used != 1:
        raise InvalidAccountToken(field)


def _account_tokens_retire(*, user: User, purpose: str) -> None:
    AccountToken.objects.filter(user=user, purpose=purpose, used_at__isnull=True).update(
        used_at=timezone.now()
    )


def account_tokens_flush_expired() -> int:
    """Delete single-use tokens that expired more than a day ago."""
    deleted, _ = AccountToken.objects.filter(
        expires_at__lte=timezone.now() - timedelta(days=1)
    ).delete()
    return deleted


def _mail_cooldown_passed(*, purpose: str, email: str) -> bool:
    """True at most once a minute per address and purpose (then the caller sends)."""
    key = MAIL_COOLDOWN_KEY.format(purpose=purpose, digest=_digest(email))
    now = timezone.now().timestamp()
    if cache.add(key, now, timeout=MAIL_COOLDOWN_SECONDS):
        return True
    # The time is stored as well as the expiry, so the rule holds by the application's clock.
    sent_at = cache.get(key)
    if sent_at is None or now - sent_at >= MAIL_COOLDOWN_SECONDS:
        cache.set(key, now, timeout=MAIL_COOLDOWN_SECONDS)
        return True
    return False


# --- Email verification --------------------------------------------------------------------


def _email_verification_send(*, user: User) -> None:
    token = _account_token_create(
        user=user,
        purpose=AccountToken.Purpose.EMAIL_VERIFICATION,
        lifetime=timedelta(hours=settings.ACCOUNTS_EMAIL_VERIFICATION_HOURS),
    )
    send_templated_email(
        to=[user.email],
        subject=f"Confirm your email address for {settings.SITE_NAME}",
        template="verify_email",
        context={
            "full_name": user.full_name,
            "token": token,
            "valid_hours": settings.ACCOUNTS_EMAIL_VERIFICATION_HOURS,
        },
    )


@transaction.atomic
def email_verification_request(*, user: User | None = None, email: str | None = None) -> None:
    """Mail a new verification link, to a signed-in user or to an address (no answer either
    way, so the caller learns nothing about which addresses have accounts)."""
    if user is None:
        user = User.objects.filter(email=normalize_email(email or ""), is_active=True).first()
    if user is None or user.email_verified_at is not None:
        return
    if not _mail_cooldown_passed(purpose="verify", email=user.email):
        return
    _email_verification_send(user=user)


@transaction.atomic
def email_verification_confirm(*, token: str, request: HttpRequest | None = None) -> User:
    """Mark the address of the token's user verified; the token then stops working."""
    account_token = _account_token_get(raw=token, purpose=AccountToken.Purpose.EMAIL_VERIFICATION)
    _account_token_consume(account_token)
    user = account_token.user
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at", "updated_at"])
        security_event_record(kind=SecurityEvent.Kind.EMAIL_VERIFIED, user=user, request=request)
    _account_tokens_retire(user=user, purpose=AccountToken.Purpose.EMAIL_VERIFICATION)
    return user


# --- Password reset ------------------------------------------------------------------------


@transaction.atomic
def password_reset_request(*, email: str, request: HttpRequest | None = None) -> None:
    """Start a reset. Does the same work whether or not the address has an account (one
    lookup, one audit row, one task after the commit), so neither the answer nor its timing
    tells; the task mails the link only when there is an active account."""
    email = normalize_email(email)
    user = User.objects.filter(email=email).first()
    security_event_record(
        kind=SecurityEvent.Kind.PASSWORD_RESET_REQUESTED,
        user=user,
        request=request,
        metadata={} if user is not None else {"email": email},
    )
    from accounts.tasks import password_reset_send_task  # tasks import this module

    transaction.on_commit(partial(password_reset_send_task.delay, email=email))


@transaction.atomic
def password_reset_send(*, email: str) -> bool:
    """Mail a reset link valid ACCOUNTS_PASSWORD_RESET_MINUTES to the active account with this
    address, if any; older links die. Returns whether a mail was sent."""
    user = User.objects.filter(email=normalize_email(email), is_active=True).first()
    if user is None or not _mail_cooldown_passed(purpose="reset", email=user.email):
        return False
    _account_tokens_retire(user=user, purpose=AccountToken.Purpose.PASSWORD_RESET)
    token = _account_token_create(
        user=user,
        purpose=AccountToken.Purpose.PASSWORD_RESET,
        lifetime=timedelta(minutes=settings.ACCOUNTS_PASSWORD_RESET_MINUTES),
    )
    send_templated_email(
        to=[user.email],
        subject=f"Reset your {settings.SITE_NAME} password",
        template="password_reset",
        context={
            "full_name": user.full_name,
            "token": token,
            "valid_minutes": settings.ACCOUNTS_PASSWORD_RESET_MINUTES,
        },
    )
    return True


def password_reset_token_check(*, token: str) -> None:
    """Raise InvalidAccountToken unless the reset link's token can still be used (the page
    says so before asking for a new password); `password_reset_confirm` checks it again."""
    account_token = _account_token_get(raw=token, purpose=AccountToken.Purpose.PASSWORD_RESET)
    if not account_token.user.is_active:
        raise InvalidAccountToken()


@transaction.atomic
def password_reset_confirm(
    *, token: str, new_password: str, request: HttpRequest | None = None
) -> User:
    """Set the new password (validators apply; a refused one leaves the link usable), end
    the lockout, revoke every refresh token and, through the password hash the tokens carry,
    every access token of the account."""
    account_token = _account_token_get(raw=token, purpose=AccountToken.Purpose.PASSWORD_RESET)
    user = account_token.user
    if not user.is_active:
        raise InvalidAccountToken()
    _validate_password(new_password, user=user, field="new_password")
    _account_token_consume(account_token)
    user.set_password(new_password)
    user.failed_login_count, user.locked_until = 0, None
    user.save(update_fields=["password", "failed_login_count", "locked_until", "updated_at"])
    _account_tokens_retire(user=user, purpose=AccountToken.Purpose.PASSWORD_RESET)
    user_revoke_refresh_tokens(user=user)
    security_event_record(kind=SecurityEvent.Kind.PASSWORD_RESET, user=user, request=request)
    return user


# --- Two-factor authentication (django-otp) ------------------------------------------------

TOTP_CODE = re.compile(r"^\d{6}$")


def _normalized_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code).lower()


def _device_for_code(*, user: User, code: str) -> Device | None:
    """Six digits are a TOTP code; anything else is tried as a backup code."""
    if TOTP_CODE.match(code):
        return selectors.totp_device_get(user=user, confirmed=True)
    return selectors.backup_device_get(user=user)


def mfa_code_verify(*, user: User, code: str, request: HttpRequest | None = None) -> Device:
    """Check a TOTP code or a backup code of the user's devices and return the device.

    Each check counts toward the lockout (a success resets it); a TOTP code is refused once
    used (django-otp keeps the last time step), a backup code is deleted when used. Raises
    MfaNotEnabled, MfaThrottled (django-otp's back-off after wrong codes), AccountLocked or
    InvalidMfaCode.
    """
    if not selectors.user_has_mfa(user=user):
        raise MfaNotEnabled()
    code = _normalized_code(code)
    device = _device_for_code(user=user, code=code)
    if device is not None:
        is_allowed, details = device.verify_is_allowed()
        if not is_allowed:
            raise MfaThrottled(
                fields={"locked_until": [str((details or {}).get("locked_until", ""))]}
            )
    login_attempt_reserve(user=user)
    verified = otp_verify_token(user, device.persistent_id, code) if device is not None else None
    if verified is None:
        _login_attempt_failed(
            user=user, request=request, kind=SecurityEvent.Kind.MFA_FAILED, reason="wrong_code"
        )
        raise InvalidMfaCode()
    _login_attempts_reset(user=user)
    return verified


def _qr_code_svg_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@transaction.atomic
def mfa_totp_enroll(*, user: User) -> TotpEnrollment:
    """Start TOTP set-up: a new secret as an otpauth:// URI, its QR code (SVG data URI) and the
    base32 secret for typing in. Nothing changes for sign-in until `mfa_totp_confirm`."""
    if selectors.user_has_mfa(user=user):
        raise MfaAlreadyEnabled()
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return _totp_enrollment(device)


def _totp_enrollment(device: TOTPDevice) -> TotpEnrollment:
    uri = device.config_url
    return {
        "otpauth_uri": uri,
        "secret": base64.b32encode(device.bin_key).decode("ascii"),
        "qr_code": _qr_code_svg_data_uri(uri),
    }


def mfa_totp_enrollment_get(*, user: User) -> TotpEnrollment | None:
    """The TOTP set-up started by `mfa_totp_enroll` and not confirmed yet (to show its QR code
    again), or None."""
    if selectors.user_has_mfa(user=user):
        return None
    device = selectors.totp_device_get(user=user, confirmed=False)
    return _totp_enrollment(device) if device is not None else None


def _backup_codes_replace(*, user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def mfa_totp_confirm(*, user: User, code: str, request: HttpRequest | None = None) -> list[str]:
    """Turn MFA on with a first code from the app; returns the 10 backup codes (shown once)."""
    if selectors.user_has_mfa(user=user):
        raise MfaAlreadyEnabled()
    device = selectors.totp_device_get(user=user, confirmed=False)
    if device is None:
        raise MfaEnrollmentNotStarted()
    is_allowed, _ = device.verify_is_allowed()
    if not is_allowed:
        raise MfaThrottled()
    if otp_verify_token(user, device.persistent_id, _normalized_code(code)) is None:
        raise InvalidMfaCode()
    with transaction.atomic():
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
        codes = _backup_codes_replace(user=user)
        security_event_record(kind=SecurityEvent.Kind.MFA_ENABLED, user=user, request=request)
    return codes


def mfa_disable(
    *, user: User, password: str, code: str, request: HttpRequest | None = None
) -> None:
    """Turn MFA off: needs the password and a current TOTP or backup code, both counted
    toward the lockout when wrong."""
    if not selectors.user_has_mfa(user=user):
        raise MfaNotEnabled()
    login_attempt_reserve(user=user)
    if not user.check_password(password):
        _login_attempt_failed(
            user=user, request=request, kind=SecurityEvent.Kind.LOGIN_FAILED, reason="mfa_disable"
        )
        raise WrongPassword(field="password")
    mfa_code_verify(user=user, code=code, request=request)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        security_event_record(kind=SecurityEvent.Kind.MFA_DISABLED, user=user, request=request)


def mfa_backup_codes_regenerate(
    *, user: User, code: str, request: HttpRequest | None = None
) -> list[str]:
    """Replace the backup codes (the old ones stop working); needs a current code."""
    mfa_code_verify(user=user, code=code, request=request)
    with transaction.atomic():
        codes = _backup_codes_replace(user=user)
        security_event_record(
            kind=SecurityEvent.Kind.MFA_BACKUP_CODES_REGENERATED, user=user, request=request
        )
    return codes
