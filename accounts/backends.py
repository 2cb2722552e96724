"""The authentication backend every password sign-in goes through: the API's token login, the
admin's login form and the pages' login all call django.contrib.auth.authenticate()."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from accounts import services
from accounts.models import User


class LockoutModelBackend(ModelBackend):
    """ModelBackend (email as the username) with the lockout of `services.auth_password_check`.

    Raises accounts.errors.AccountLocked while the account is locked: the API turns it into
    the `account_locked` error, and login forms use `forms.LockoutAwareAuthenticationMixin`.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        return services.auth_password_check(request=request, email=username, password=password)
