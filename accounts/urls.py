"""Account pages, mounted at /accounts/. The verification and reset links in the emails
(templates/emails/verify_email.*, password_reset.*) point at two of them."""

from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_page, name="login"),
    path("login/code/", views.login_code_page, name="login-code"),
    path("logout/", views.logout_page, name="logout"),
    path("signup/", views.signup_page, name="signup"),
    path("verify-email/", views.verify_email_page, name="verify-email"),
    path("verify-email/resend/", views.verify_email_resend_page, name="verify-email-resend"),
    path("password-reset/", views.password_reset_page, name="password-reset"),
    path(
        "password-reset/confirm/",
        views.password_reset_confirm_page,
        name="password-reset-confirm",
    ),
    path("profile/", views.profile_page, name="profile"),
    path("security/", views.security_page, name="security"),
    path("security/password/", views.password_change_page, name="password-change"),
    path("security/mfa/start/", views.mfa_start_page, name="mfa-start"),
    path("security/mfa/setup/", views.mfa_setup_page, name="mfa-setup"),
    path(
        "security/mfa/backup-codes/",
        views.backup_codes_regenerate_page,
        name="mfa-backup-codes",
    ),
    path("security/mfa/disable/", views.mfa_disable_page, name="mfa-disable"),
]
