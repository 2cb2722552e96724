"""`manage.py check --deploy` knows our own security settings."""

import pytest
from django.core.checks import run_checks

pytestmark = pytest.mark.django_db

REDIS_CACHE = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://x"}}


def deploy_check_ids() -> set[str]:
    return {
        message.id
        for message in run_checks(include_deployment_checks=True)
        if message.id.startswith("accounts.")
    }


def test_secure_settings_pass(settings):
    settings.CACHES = REDIS_CACHE
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_x"

    assert deploy_check_ids() == set()


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
        "django_prometheus.cache.backends.locmem.LocMemCache",
    ],
)
def test_a_per_process_throttle_cache_is_an_error(settings, backend):
    settings.CACHES = {"default": {"BACKEND": backend}}

    assert "accounts.E001" in deploy_check_ids()


@pytest.mark.parametrize("name", ["OTP_TOTP_THROTTLE_FACTOR", "OTP_STATIC_THROTTLE_FACTOR"])
def test_otp_throttling_turned_off_is_an_error(settings, name):
    settings.CACHES = REDIS_CACHE
    setattr(settings, name, 0)

    assert deploy_check_ids() == {"accounts.E002"}


def test_stripe_without_a_webhook_secret_is_an_error(settings):
    settings.CACHES = REDIS_CACHE
    settings.STRIPE_SECRET_KEY = "sk_live_x"
    settings.STRIPE_WEBHOOK_SECRET = ""

    assert deploy_check_ids() == {"accounts.E003"}


def test_no_stripe_needs_no_webhook_secret(settings):
    settings.CACHES = REDIS_CACHE
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""

    assert deploy_check_ids() == set()


def test_checks_read_stripe_settings_that_may_not_exist(settings):
    settings.CACHES = REDIS_CACHE
    del settings.STRIPE_SECRET_KEY
    del settings.STRIPE_WEBHOOK_SECRET

    assert deploy_check_ids() == set()


def test_our_checks_do_not_run_outside_deploy_checks(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

    assert not [message for message in run_checks() if message.id.startswith("accounts.")]
