from django.contrib import admin
from django.http import HttpRequest

from accounts import selectors
from accounts.forms import AdminLoginForm


class LMSAdminSite(admin.AdminSite):
    """The admin site (the default one, through accounts.apps.LMSAdminConfig).

    Like django-otp's OTPAdminSite, it admits only sessions verified by a second factor, but
    only for staff who have one, or for all staff when MFA_REQUIRED_FOR_STAFF is on.
    """

    login_form = AdminLoginForm
    login_template = "admin/login.html"

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        user = request.user
        is_verified = getattr(user, "is_verified", None)  # installed by django-otp's middleware
        if callable(is_verified) and is_verified():
            return True
        return not (
            selectors.user_mfa_is_required(user=user)  # type: ignore[arg-type]
            or selectors.user_has_mfa(user=user)  # type: ignore[arg-type]
        )
