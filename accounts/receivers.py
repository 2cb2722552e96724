"""Receivers of Django's own auth signals: each is one call into a service."""

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from accounts import services
from accounts.models import User


@receiver(user_logged_in, dispatch_uid="accounts.session_login_succeeded")
def session_login_succeeded(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    services.login_succeeded(user=user, request=request, method="session")
