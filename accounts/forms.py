from datetime import datetime
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from accounts import selectors, services
from accounts.errors import AccountLocked, InvalidMfaCode, MfaNotEnabled, MfaThrottled
from accounts.models import User

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class LockoutAwareAuthenticationMixin:
    """For AuthenticationForm subclasses: a locked account (the auth backend raises
    AccountLocked) becomes a form error naming the unlock time, not a server error."""

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()  # type: ignore[misc]
        except AccountLocked as error:
            raise ValidationError(error.message, code=error.code) from error


class AdminLoginForm(LockoutAwareAuthenticationMixin, AdminAuthenticationForm):
    """The admin's sign-in: password (with the lockout), then, for staff with two-factor
    authentication or for every staff member when MFA_REQUIRED_FOR_STAFF is on, a TOTP or
    backup code. The verified device is kept in the session by django-otp, which is what
    `LMSAdminSite.has_permission` checks."""

    otp_token = forms.CharField(
        required=False,
        label="Authentication code",
        help_text="From your authenticator app, or one of your backup codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "otp_required": "Enter the code from your authenticator app, or a backup code.",
        "mfa_setup_required": (
            "Staff accounts need two-factor authentication. Turn it on first on your "
            "security page (/accounts/security/, or POST /api/v1/me/mfa/totp/), then sign in "
            "with a code."
        ),
    }

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        user = self.get_user()
        if isinstance(user, User):
            self._clean_second_factor(user)
        return cleaned_data

    def _clean_second_factor(self, user: User) -> None:
        if not selectors.user_has_mfa(user=user):
            if settings.MFA_REQUIRED_FOR_STAFF:
                raise ValidationError(
                    self.error_messages["mfa_setup_required"], code="mfa_setup_required"
                )
            return
        code = self.cleaned_data.get("otp_token")
        if not code:
            raise ValidationError(self.error_messages["otp_required"], code="otp_required")
        try:
            device = services.mfa_code_verify(user=user, code=code, request=self.request)
        except (AccountLocked, InvalidMfaCode, MfaNotEnabled, MfaThrottled) as error:
            raise ValidationError(error.message, code=error.code) from error
        # django-otp's user_logged_in receiver stores this device in the session.
        user.otp_device = device  # type: ignore[attr-defined]


# --- The account pages (accounts.views) ----------------------------------------------------
# The forms only check the shape of the input; the services check everything else, and the
# views put their refusals back on the form fields they name.


def locked_message(locked_until: datetime) -> str:
    """The lockout message of the pages: translatable, in the site's time zone."""
    local = timezone.localtime(locked_until)
    when = f"{formats.date_format(local, 'DATETIME_FORMAT')} ({local.tzname()})"
    return _("Too many failed sign-in attempts. Try again after %(time)s.") % {"time": when}


class PageLoginForm(AuthenticationForm):
    """Email and password, through the lockout backend. A locked account is a form error."""

    error_messages = {
        "invalid_login": _("The email address or the password is not correct."),
        "inactive": _("The email address or the password is not correct."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Email address")
        self.fields["username"].widget = forms.EmailInput(
            attrs={"autocomplete": "username", "autofocus": True, "maxlength": 254}
        )
        self.fields["password"].widget.attrs["autocomplete"] = "current-password"

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except AccountLocked as error:
            raise ValidationError(locked_message(error.locked_until), code=error.code) from error


def _password_field(label: "StrOrPromise", *, autocomplete: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


def _code_field() -> forms.CharField:
    return forms.CharField(
        label=_("Authentication code"),
        max_length=32,
        help_text=_("The 6-digit code from your authenticator app, or one of your backup codes."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}
        ),
    )


class MfaCodeForm(forms.Form):
    code = _code_field()


class SignUpForm(forms.Form):
    full_name = forms.CharField(
        label=_("Full name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = _password_field(_("Password"), autocomplete="new-password")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password"].help_text = " ".join(password_validators_help_texts())


class EmailForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class TokenForm(forms.Form):
    token = forms.CharField(max_length=128, widget=forms.HiddenInput)


class _NewPasswordMixin(forms.Form):
    new_password = _password_field(_("New password"), autocomplete="new-password")
    new_password_again = _password_field(_("New password again"), autocomplete="new-password")

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean() or {}
        first, second = cleaned_data.get("new_password"), cleaned_data.get("new_password_again")
        if first and second and first != second:
            self.add_error("new_password_again", _("The two passwords are not the same."))
        return cleaned_data


class PasswordResetConfirmForm(_NewPasswordMixin, TokenForm):
    pass


class PasswordChangeForm(_NewPasswordMixin):
    current_password = _password_field(_("Current password"), autocomplete="current-password")
    field_order = ["current_password", "new_password", "new_password_again"]


class ProfileForm(forms.Form):
    full_name = forms.CharField(
        label=_("Full name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    receives_weekly_digest = forms.BooleanField(
        label=_("Send me the weekly progress email"),
        required=False,
        help_text=_("A summary of your courses every Monday. Untick to stop it."),
    )


class MfaDisableForm(forms.Form):
    password = _password_field(_("Password"), autocomplete="current-password")
    code = _code_field()
