"""Account pages: sign up, log in (with the MFA step), log out, email verification, password
reset, profile and security (password, two-factor authentication).

Each view is one call to the same service or selector as the API (accounts.services and
accounts.selectors); what happens here is HTTP and the session: forms, messages, redirects,
django.contrib.auth.login/logout. Refusals from the services become errors on the form field
they name (their `fields`), or above the form.
"""

from collections.abc import Callable
from functools import wraps
from math import ceil
from typing import Any, cast
from urllib.parse import urlencode

from django import forms as django_forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from accounts import selectors, services
from accounts.errors import AccountLocked, InvalidAccountToken
from accounts.forms import (
    EmailForm,
    MfaCodeForm,
    MfaDisableForm,
    PageLoginForm,
    PasswordChangeForm,
    PasswordResetConfirmForm,
    ProfileForm,
    SignUpForm,
    TokenForm,
    locked_message,
)
from accounts.models import User
from lms.exceptions import ApplicationError
from lms.throttles import AuthRateThrottle

# Between the password and the code of a sign-in with MFA: the challenge and where to go next.
MFA_PENDING_SESSION_KEY = "accounts_mfa_pending"

View = Callable[..., HttpResponse]


def _user(request: HttpRequest) -> User:
    """The signed-in user of a login_required view."""
    return cast(User, request.user)


def _service_error_text(error: ApplicationError) -> str:
    """The page's (translatable) wording of a refusal, by its stable code."""
    if isinstance(error, AccountLocked):
        return locked_message(error.locked_until)
    texts = {
        "email_taken": _("An account with this email address already exists."),
        "wrong_password": _("The password is not correct."),
        "invalid_mfa_code": _(
            "The code is not correct. Check the time on your phone, or use a backup code."
        ),
        "mfa_throttled": _("Too many wrong codes in a row: wait a moment, then try again."),
        "invalid_token": _("This link is invalid, already used or expired."),
        "mfa_already_enabled": _("Two-factor authentication is already on."),
        "mfa_not_enabled": _("Two-factor authentication is not on for your account."),
        "mfa_enrollment_not_started": _("Start the set-up of two-factor authentication first."),
    }
    return texts.get(error.code, error.message)


def _form_error(form: django_forms.Form, error: ApplicationError | ValidationError) -> None:
    """Put a service's refusal on the fields it names, or above the form."""
    if isinstance(error, ValidationError):
        if not hasattr(error, "error_dict"):
            form.add_error(None, error)
            return
        for name, field_errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, field_errors)
        return
    text = _service_error_text(error)
    names = [name for name in error.fields if name in form.fields and name != "token"]
    if not names:
        form.add_error(None, text)
    for field_name in names:
        form.add_error(field_name, text)


def _throttled_posts(view: View) -> View:
    """The API's per-IP `auth` rate for the POSTs of the authentication pages."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            throttle = AuthRateThrottle()
            if not throttle.allow_request(request, None):  # type: ignore[arg-type]
                wait = ceil(throttle.wait() or 1)
                response = render(request, "accounts/throttled.html", {"wait": wait}, status=429)
                response["Retry-After"] = str(wait)
                return response
        return view(request, *args, **kwargs)

    return wrapper


def _next_url(request: HttpRequest) -> str:
    """The page to return to after signing in: `next` if it stays on this site."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _after_login(next_url: str) -> str:
    return next_url or resolve_url(settings.LOGIN_REDIRECT_URL)


def _login_url(next_url: str) -> str:
    url = reverse("accounts:login")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


# --- Sign-in -------------------------------------------------------------------------------


@sensitive_post_parameters("password")
@never_cache
@_throttled_posts
def login_page(request: HttpRequest) -> HttpResponse:
    """Email and password; with two-factor authentication on, then the code (login_code_page)."""
    next_url = _next_url(request)
    if request.method == "POST":
        form = PageLoginForm(request, data=request.POST)
        if form.is_valid():
            user = cast(User, form.get_user())
            if selectors.user_has_mfa(user=user):
                request.session[MFA_PENDING_SESSION_KEY] = {
                    "challenge": services.mfa_challenge_create(user=user),
                    "next": next_url,
                }
                return redirect("accounts:login-code")
            login(request, user)  # a new session key; the receiver records the sign-in
            return redirect(_after_login(next_url))
    else:
        if request.user.is_authenticated:
            return redirect(_after_login(next_url))
        form = PageLoginForm(request)
    return render(request, "accounts/login.html", {"form": form, "next": next_url})


@sensitive_post_parameters("code")
@never_cache
@_throttled_posts
def login_code_page(request: HttpRequest) -> HttpResponse:
    """The second step of a sign-in with MFA: a TOTP code or a backup code."""
    pending = request.session.get(MFA_PENDING_SESSION_KEY)
    if not pending:
        messages.info(request, _("Log in with your email address and password first."))
        return redirect("accounts:login")
    form = MfaCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user, device = services.mfa_challenge_verify(
                request=request, challenge=pending["challenge"], code=form.cleaned_data["code"]
            )
        except (InvalidAccountToken, AccountLocked) as error:
            # The challenge is spent (expired, used) or the account locked: start again.
            del request.session[MFA_PENDING_SESSION_KEY]
            if isinstance(error, AccountLocked):
                messages.error(request, locked_message(error.locked_until))
            else:
                messages.error(request, _("Your sign-in took too long. Please log in again."))
            return redirect(_login_url(pending["next"]))
        except ApplicationError as error:
            _form_error(form, error)
        else:
            del request.session[MFA_PENDING_SESSION_KEY]
            user.otp_device = device  # type: ignore[attr-defined]  # django-otp marks the session
            login(request, user)
            return redirect(_after_login(pending["next"]))
    return render(request, "accounts/login_code.html", {"form": form})


@require_POST
def logout_page(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, _("You are logged out."))
    return redirect("home")


# --- Sign-up and email verification --------------------------------------------------------


@sensitive_post_parameters("password")
@_throttled_posts
def signup_page(request: HttpRequest) -> HttpResponse:
    """A student account; the verification link is mailed, then the learner logs in."""
    if request.user.is_authenticated:
        return redirect(_after_login(_next_url(request)))
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_register(**form.cleaned_data)
        except (ApplicationError, ValidationError) as error:
            _form_error(form, error)
        else:
            messages.success(
                request,
                _(
                    "Welcome! We sent a link to %(email)s: open it to confirm your email "
                    "address, then log in."
                )
                % {"email": user.email},
            )
            return redirect(_login_url(_next_url(request)))
    return render(request, "accounts/signup.html", {"form": form, "next": _next_url(request)})


@never_cache
@_throttled_posts
def verify_email_page(request: HttpRequest) -> HttpResponse:
    """The link in the verification email. The address is confirmed by the button (a POST),
    so mail scanners that open links do not use up the single-use token."""
    if request.method == "POST":
        form = TokenForm(request.POST)
        if form.is_valid():
            try:
                user = services.email_verification_confirm(
                    token=form.cleaned_data["token"], request=request
                )
            except InvalidAccountToken:
                pass
            else:
                messages.success(
                    request,
                    _("Thank you: %(email)s is confirmed.") % {"email": user.email},
                )
                if request.user.is_authenticated:
                    return redirect("enrollments:dashboard")
                return redirect("accounts:login")
        return render(request, "accounts/verify_email_invalid.html", status=400)
    token = request.GET.get("token", "")
    if not token:
        return redirect("accounts:verify-email-resend")
    return render(
        request, "accounts/verify_email.html", {"form": TokenForm(initial={"token": token})}
    )


@_throttled_posts
def verify_email_resend_page(request: HttpRequest) -> HttpResponse:
    """A new verification link: for the signed-in user, or for an address (same answer for
    every address)."""
    is_signed_in = request.user.is_authenticated
    form = EmailForm(request.POST or None)
    if request.method == "POST" and (is_signed_in or form.is_valid()):
        if is_signed_in:
            services.email_verification_request(user=_user(request))
        else:
            services.email_verification_request(email=form.cleaned_data["email"])
        messages.success(
            request, _("If this address has an account to verify, a link is on its way.")
        )
        return redirect("accounts:profile" if is_signed_in else "accounts:login")
    return render(request, "accounts/verify_email_resend.html", {"form": form})


# --- Password reset ------------------------------------------------------------------------


@_throttled_posts
def password_reset_page(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.password_reset_request(email=form.cleaned_data["email"], request=request)
        messages.success(
            request,
            _(
                "If an account exists for this address, a link to choose a new password is on "
                "its way. It works for %(minutes)d minutes."
            )
            % {"minutes": settings.ACCOUNTS_PASSWORD_RESET_MINUTES},
        )
        return redirect("accounts:login")
    return render(request, "accounts/password_reset.html", {"form": form})


@sensitive_post_parameters("new_password", "new_password_again")
@never_cache
@_throttled_posts
def password_reset_confirm_page(request: HttpRequest) -> HttpResponse:
    """The link in the reset email: a new password, twice."""
    if request.method == "POST":
        form = PasswordResetConfirmForm(request.POST)
        if form.is_valid():
            try:
                services.password_reset_confirm(
                    token=form.cleaned_data["token"],
                    new_password=form.cleaned_data["new_password"],
                    request=request,
                )
            except InvalidAccountToken:
                return render(request, "accounts/password_reset_invalid.html", status=400)
            except ValidationError as error:
                _form_error(form, error)
            else:
                messages.success(
                    request, _("Your password is changed. Log in with your new password.")
                )
                return redirect("accounts:login")
    else:
        token = request.GET.get("token", "")
        try:
            services.password_reset_token_check(token=token)
        except InvalidAccountToken:
            return render(request, "accounts/password_reset_invalid.html", status=400)
        form = PasswordResetConfirmForm(initial={"token": token})
    return render(request, "accounts/password_reset_confirm.html", {"form": form})


# --- Profile -------------------------------------------------------------------------------


@login_required
def profile_page(request: HttpRequest) -> HttpResponse:
    """Name and the weekly-digest choice; the email address and whether it is confirmed."""
    user = _user(request)
    initial = {"full_name": user.full_name, "receives_weekly_digest": user.receives_weekly_digest}
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update_profile(user=user, **form.cleaned_data)
        except ValidationError as error:
            user.refresh_from_db()
            _form_error(form, error)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


# --- Security: password and two-factor authentication -------------------------------------


def _security_page(request: HttpRequest, **forms: django_forms.Form) -> HttpResponse:
    user = _user(request)
    has_mfa = selectors.user_has_mfa(user=user)
    context = {
        "password_form": PasswordChangeForm(),
        "regenerate_form": MfaCodeForm(prefix="regenerate"),
        "disable_form": MfaDisableForm(prefix="disable"),
        "has_mfa": has_mfa,
        "mfa_required": selectors.user_mfa_is_required(user=user) and not has_mfa,
        "events": selectors.security_event_list(user=user)[:10],
        **forms,
    }
    return render(request, "accounts/security.html", context)


@login_required
@never_cache
def security_page(request: HttpRequest) -> HttpResponse:
    return _security_page(request)


@sensitive_post_parameters("current_password", "new_password", "new_password_again")
@login_required
@require_POST
@_throttled_posts
def password_change_page(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST)
    if form.is_valid():
        try:
            services.user_change_password(
                user=_user(request),
                current_password=form.cleaned_data["current_password"],
                new_password=form.cleaned_data["new_password"],
                request=request,
            )
        except (ApplicationError, ValidationError) as error:
            _form_error(form, error)
        else:
            update_session_auth_hash(request, _user(request))  # this browser stays signed in
            messages.success(
                request, _("Your password is changed. Your other sessions are signed out.")
            )
            return redirect("accounts:security")
    return _security_page(request, password_form=form)


@login_required
@require_POST
@_throttled_posts
def mfa_start_page(request: HttpRequest) -> HttpResponse:
    """Start the set-up: a new secret, shown as a QR code on the set-up page."""
    try:
        services.mfa_totp_enroll(user=_user(request))
    except ApplicationError as error:
        messages.error(request, _service_error_text(error))
        return redirect("accounts:security")
    return redirect("accounts:mfa-setup")


def _backup_codes_page(request: HttpRequest, codes: list[str]) -> HttpResponse:
    """The new backup codes, shown once (never cached, never stored in the session)."""
    return render(request, "accounts/backup_codes.html", {"codes": codes})


@sensitive_post_parameters("code")
@login_required
@never_cache
@_throttled_posts
def mfa_setup_page(request: HttpRequest) -> HttpResponse:
    """GET: the QR code and the secret. POST: the first code turns MFA on; the backup codes
    are shown once."""
    user = _user(request)
    form = MfaCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.mfa_totp_confirm(
                user=user, code=form.cleaned_data["code"], request=request
            )
        except ApplicationError as error:
            _form_error(form, error)
        else:
            # The code just proved the device: this session counts as verified (the admin).
            if device := selectors.totp_device_get(user=user, confirmed=True):
                otp_login(request, device)
            messages.success(request, _("Two-factor authentication is on."))
            return _backup_codes_page(request, codes)
    enrollment = services.mfa_totp_enrollment_get(user=user)
    if enrollment is None:
        return redirect("accounts:security")
    return render(request, "accounts/mfa_setup.html", {"form": form, "enrollment": enrollment})


@sensitive_post_parameters("regenerate-code")
@login_required
@require_POST
@never_cache
@_throttled_posts
def backup_codes_regenerate_page(request: HttpRequest) -> HttpResponse:
    form = MfaCodeForm(request.POST, prefix="regenerate")
    if form.is_valid():
        try:
            codes = services.mfa_backup_codes_regenerate(
                user=_user(request), code=form.cleaned_data["code"], request=request
            )
        except ApplicationError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("New backup codes are ready: the old ones stop working."))
            return _backup_codes_page(request, codes)
    return _security_page(request, regenerate_form=form)


@sensitive_post_parameters("disable-password", "disable-code")
@login_required
@require_POST
@_throttled_posts
def mfa_disable_page(request: HttpRequest) -> HttpResponse:
    form = MfaDisableForm(request.POST, prefix="disable")
    if form.is_valid():
        try:
            services.mfa_disable(user=_user(request), request=request, **form.cleaned_data)
        except ApplicationError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("Two-factor authentication is off."))
            return redirect("accounts:security")
    return _security_page(request, disable_form=form)
