"""System checks for our own security settings, run by `manage.py check --deploy`."""

from typing import Any

from django.conf import settings
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.checks import CheckMessage, Error, Tags, register
from django.utils.module_loading import import_string

# Subclasses too: instrumented wrappers (django-prometheus) keep the per-process storage.
PER_PROCESS_CACHES = (LocMemCache, DummyCache)


@register(Tags.security, deploy=True)
def check_throttle_cache_is_shared(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Throttles, the lockout of unknown emails and the token deny-list live in the default
    cache: a per-process cache lets every worker count on its own."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    try:
        is_per_process = issubclass(import_string(backend), PER_PROCESS_CACHES)
    except ImportError:
        return []  # Django's own cache checks report a backend that does not import
    if is_per_process:
        return [
            Error(
                f"The default cache is {backend.rsplit('.', 1)[-1]}: throttles, the sign-in "
                "lockout of unknown emails and the logout deny-list are then per process.",
                hint="Set REDIS_URL.",
                id="accounts.E001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_otp_throttling_is_on(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """django-otp slows down code guessing per device; a factor of 0 turns that off."""
    return [
        Error(
            f"{name} is 0: wrong MFA codes are not slowed down.",
            hint=f"Remove {name} or set it to 1 or more.",
            id="accounts.E002",
        )
        for name in ("OTP_TOTP_THROTTLE_FACTOR", "OTP_STATIC_THROTTLE_FACTOR")
        if getattr(settings, name, 1) <= 0
    ]


@register(Tags.security, deploy=True)
def check_stripe_webhook_secret(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """With Stripe on, unsigned webhooks must never be accepted."""
    if getattr(settings, "STRIPE_SECRET_KEY", "") and not getattr(
        settings, "STRIPE_WEBHOOK_SECRET", ""
    ):
        return [
            Error(
                "STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is not: Stripe's webhooks "
                "cannot be verified.",
                hint="Set STRIPE_WEBHOOK_SECRET to the endpoint's signing secret (whsec_...).",
                id="accounts.E003",
            )
        ]
    return []
