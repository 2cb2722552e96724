from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, authentication (JWT and sessions) and profiles."""

    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts import schema  # noqa: F401  registers the OpenAPI auth extension
