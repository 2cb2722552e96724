"""Fixtures shared by every app's tests, and the test-only settings tweaks."""

import os
import shutil
from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://...")


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    # A fast hasher: the suite creates many users. Argon2 itself is tested explicitly.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttle counters and the token deny-list live in the cache: start every test empty."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def student(db) -> User:
    return UserFactory()


@pytest.fixture
def other_student(db) -> User:
    return UserFactory()


@pytest.fixture
def instructor(db) -> User:
    return UserFactory(instructor=True)


@pytest.fixture
def other_instructor(db) -> User:
    return UserFactory(instructor=True)


@pytest.fixture
def admin_user(db) -> User:
    return UserFactory(admin=True)


@pytest.fixture
def auth_client() -> Callable[[User | None], APIClient]:
    """auth_client(user) -> an APIClient authenticated as that user (anonymous for None)."""

    def make(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def role_user(request, db) -> User | None:
    """Indirect parametrisation by role name: anonymous, student, other_student, ..."""
    role = request.param
    return None if role == "anonymous" else request.getfixturevalue(role)


CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright; browser tests skip where it is not installed."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("Chromium is not installed (apt-get install chromium): browser test skipped")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop alive in this thread; the ORM calls made by
    # the tests and the live server are still synchronous, so allow them.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(chromium):
    context = chromium.new_context()
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()
