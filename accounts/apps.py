from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    """Users, authentication (JWT and sessions), MFA, lockout, the audit log and profiles."""

    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts import (
            checks,  # noqa: F401  registers the system checks of our security settings
            receivers,  # noqa: F401  records session sign-ins
            schema,  # noqa: F401  registers the OpenAPI auth extension
        )


class LMSAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with our site (second factor for staff) as the default site."""

    default = False  # AccountsConfig stays the default config of this module
    default_site = "accounts.admin_site.LMSAdminSite"
