from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet

from accounts.errors import EmailNotVerified
from accounts.models import User

DENIED_ACCESS_TOKEN_KEY = "auth:denied-access:{jti}"  # noqa: S105  (a cache key, not a secret)


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
