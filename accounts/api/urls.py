from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api import views

app_name = "accounts_api"

router = SimpleRouter()
router.register("users", views.UserViewSet, basename="user")

urlpatterns = [
    path("auth/register/", views.RegisterView.as_view(), name="register"),
    path("auth/token/", views.TokenObtainView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", views.TokenRefreshView.as_view(), name="token-refresh"),
    path("auth/logout/", views.LogoutView.as_view(), name="logout"),
    path("auth/mfa/verify/", views.MfaVerifyView.as_view(), name="mfa-verify"),
    path("auth/password-reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path(
        "auth/password-reset/confirm/",
        views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "auth/verify-email/request/",
        views.EmailVerificationRequestView.as_view(),
        name="verify-email-request",
    ),
    path(
        "auth/verify-email/confirm/",
        views.EmailVerificationConfirmView.as_view(),
        name="verify-email-confirm",
    ),
    path("me/", views.MeView.as_view(), name="me"),
    path("me/password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("me/mfa/totp/", views.TotpView.as_view(), name="mfa-totp"),
    path("me/mfa/totp/confirm/", views.TotpConfirmView.as_view(), name="mfa-totp-confirm"),
    path("me/mfa/backup-codes/", views.BackupCodesView.as_view(), name="mfa-backup-codes"),
    *router.urls,
]
