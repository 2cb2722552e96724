"""DJANGO_ENV=production refuses to start when the configuration is insecure.

Each case imports the settings in a fresh interpreter with a production environment, the way
gunicorn, a worker or manage.py would.
"""

import os
import subprocess

import pytest

from lms.tests.processes import run_python

SECURE_PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "DJANGO_SECRET_KEY": "k8#Vq2!pZr9@Lm4$Tx7&Wc1*Yb6^Nd3(Hf5)Js0-Ug8+Ea2=Oi7?Rk",
    "DJANGO_ALLOWED_HOSTS": "lms.example.com",
    "DATABASE_URL": "postgres://lms@db.example.com:5432/lms",
    "REDIS_URL": "redis://cache.example.com:6379/0",
    "CELERY_BROKER_URL": "redis://cache.example.com:6379/1",
}
PASSTHROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV")


def run_in_production(code: str, **overrides: str | None) -> subprocess.CompletedProcess:
    """Run code with the secure production environment, changed by the overrides (None unsets)."""
    env = {name: os.environ[name] for name in PASSTHROUGH if name in os.environ}
    env |= SECURE_PRODUCTION_ENV
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return run_python(code, env)


def import_settings(**overrides: str | None) -> subprocess.CompletedProcess:
    return run_in_production("import lms.settings", **overrides)


def test_secure_production_settings_start():
    result = import_settings()

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("_case", "overrides", "named_variable"),
    [
        ("debug on", {"DJANGO_DEBUG": "true"}, "DJANGO_DEBUG"),
        ("secret key missing", {"DJANGO_SECRET_KEY": None}, "DJANGO_SECRET_KEY"),
        (
            "development secret key",
            {"DJANGO_SECRET_KEY": "django-insecure-development-only-key-never-use-in-production"},
            "DJANGO_SECRET_KEY",
        ),
        ("short secret key", {"DJANGO_SECRET_KEY": "too-short-secret"}, "DJANGO_SECRET_KEY"),
        ("any host", {"DJANGO_ALLOWED_HOSTS": "*"}, "DJANGO_ALLOWED_HOSTS"),
        ("no hosts", {"DJANGO_ALLOWED_HOSTS": None}, "DJANGO_ALLOWED_HOSTS"),
        ("sqlite", {"DATABASE_URL": "sqlite:////tmp/lms.sqlite3"}, "DATABASE_URL"),
        ("no database url", {"DATABASE_URL": None}, "DATABASE_URL"),
        ("eager tasks", {"CELERY_TASK_ALWAYS_EAGER": "true"}, "CELERY_TASK_ALWAYS_EAGER"),
        ("no broker", {"CELERY_BROKER_URL": None}, "CELERY_BROKER_URL"),
        ("no redis", {"REDIS_URL": None}, "REDIS_URL"),
        (
            "webhooks to private addresses",
            {"WEBHOOKS_ALLOW_INSECURE_URLS": "true"},
            "WEBHOOKS_ALLOW_INSECURE_URLS",
        ),
    ],
)
def test_production_refuses_insecure_settings(_case, overrides, named_variable):
    result = import_settings(**overrides)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "Refusing to start with DJANGO_ENV=production" in result.stderr
    assert named_variable in result.stderr


def test_production_names_every_problem_at_once():
    result = import_settings(DJANGO_DEBUG="true", DJANGO_ALLOWED_HOSTS="*")

    assert "DJANGO_DEBUG" in result.stderr
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr


def test_unknown_environment_name_is_refused():
    result = import_settings(DJANGO_ENV="staging")

    assert result.returncode != 0
    assert "DJANGO_ENV" in result.stderr


def test_development_defaults_need_no_services():
    result = run_in_production(
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'], "
        "s.CELERY_TASK_ALWAYS_EAGER, s.EMAIL_BACKEND, s.DEBUG)",
        DJANGO_ENV=None,
        DJANGO_SECRET_KEY=None,
        DJANGO_ALLOWED_HOSTS=None,
        DATABASE_URL=None,
        REDIS_URL=None,
        CELERY_BROKER_URL=None,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        # django-prometheus' instrumented wrappers of SQLite and the local-memory cache.
        "django_prometheus.db.backends.sqlite3",
        "django_prometheus.cache.backends.locmem.LocMemCache",
        "True",
        "django.core.mail.backends.console.EmailBackend",
        "True",
    ]


def test_deploy_checks_are_clean_with_secure_production_settings():
    result = run_in_production(
        "import sys; from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])"
    )

    assert result.returncode == 0, result.stderr + result.stdout


def test_sentry_is_on_only_with_a_dsn():
    probe = (
        "import django; django.setup(); import sentry_sdk; "
        "client = sentry_sdk.get_client(); "
        "print(client.is_active(), 'django' in client.integrations, "
        "'celery' in client.integrations)"
    )
    development = {"DJANGO_ENV": None, "DATABASE_URL": None, "REDIS_URL": None}

    without = run_in_production(probe, **development, CELERY_BROKER_URL=None)
    with_dsn = run_in_production(
        probe, **development, CELERY_BROKER_URL=None, SENTRY_DSN="https://key@sentry.example/1"
    )

    assert without.stdout.split()[0] == "False", without.stderr
    assert with_dsn.stdout.split() == ["True", "True", "True"], with_dsn.stderr


def test_production_cookies_are_secure_and_same_site():
    result = run_in_production(
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
        "s.SESSION_COOKIE_SAMESITE, s.CSRF_COOKIE_SAMESITE, s.ACCOUNTS_REQUIRE_VERIFIED_EMAIL)"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "Lax", "Lax", "True"]


def test_deploy_checks_include_our_own_security_checks():
    """On the development defaults, whose cache is per process (accounts/tests/test_checks.py
    has every check)."""
    result = run_in_production(
        "from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check', '--deploy'])",
        DJANGO_ENV=None,
        DATABASE_URL=None,
        REDIS_URL=None,
        CELERY_BROKER_URL=None,
    )

    assert result.returncode != 0
    assert "(accounts.E001)" in result.stderr


def test_security_settings_have_the_documented_defaults(settings):
    assert settings.ACCOUNTS_LOGIN_MAX_FAILURES == 5
    assert settings.ACCOUNTS_LOCKOUT_MINUTES == 15
    assert settings.ACCOUNTS_EMAIL_VERIFICATION_HOURS == 24
    assert settings.ACCOUNTS_PASSWORD_RESET_MINUTES == 30
    assert settings.ACCOUNTS_MFA_CHALLENGE_MINUTES == 10
    assert settings.MFA_REQUIRED_FOR_STAFF is False
    assert settings.AUTHENTICATION_BACKENDS == ["accounts.backends.LockoutModelBackend"]
    assert settings.SIMPLE_JWT["CHECK_REVOKE_TOKEN"] is True


def test_production_logs_json_lines_and_development_plain_text():
    code = "from django.conf import settings as s; print(s.LOG_FORMAT, s.METRICS_TOKEN == '')"

    production = run_in_production(f"import django; django.setup(); {code}")
    development = run_in_production(
        f"import django; django.setup(); {code}",
        DJANGO_ENV=None,
        DJANGO_SECRET_KEY=None,
        DJANGO_ALLOWED_HOSTS=None,
        DATABASE_URL=None,
        REDIS_URL=None,
        CELERY_BROKER_URL=None,
    )

    assert production.stdout.split() == ["json", "True"], production.stderr
    assert development.stdout.split() == ["plain", "True"], development.stderr
