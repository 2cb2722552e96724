"""Fixtures shared by every app's tests, and the test-only settings tweaks."""

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
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


# --- Server-rendered pages ------------------------------------------------------------------


@pytest.fixture
def page_client(db) -> Callable[[User | None], Client]:
    """page_client(user) -> a Django test client signed in with a session (anonymous for None)."""

    def make(user: User | None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


BROWSER_VIEWPORTS = {
    "desktop": {"width": 1280, "height": 800},
    "phone": {"width": 390, "height": 844},
}


@pytest.fixture
def browser_sign_in(live_server, page) -> Callable[[User], None]:
    """browser_sign_in(user): the browser page gets that user's session cookie (no login form)."""

    def sign_in(user: User) -> None:
        client = Client()
        client.force_login(user)
        session = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session.value, "url": live_server.url}]
        )

    return sign_in


@pytest.fixture
def page_problems(page) -> list[str]:
    """Console errors, uncaught script errors and failed requests of `page`, as they happen."""
    problems: list[str] = []

    def on_console(message) -> None:
        if message.type == "error":
            problems.append(f"console error: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "requestfailed", lambda request: problems.append(f"failed: {request.url} {request.failure}")
    )
    return problems


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where browser tests leave screenshots: $PYTEST_ARTIFACTS, else test-artifacts/ (ignored)."""
    root = os.environ.get("PYTEST_ARTIFACTS") or Path(__file__).resolve().parent / "test-artifacts"
    path = Path(root) / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def capture_page(page, artifacts_dir) -> Callable[[str], list[str]]:
    """capture_page(name): full-page screenshots at desktop and phone widths.

    Returns the viewports where the page scrolls sideways (an empty list when it fits).
    """

    def capture(name: str) -> list[str]:
        original = page.viewport_size
        overflowing = []
        for label, size in BROWSER_VIEWPORTS.items():
            page.set_viewport_size(size)
            page.screenshot(path=artifacts_dir / f"{name}-{label}.png", full_page=True)
            if page.evaluate("document.documentElement.scrollWidth > window.innerWidth"):
                overflowing.append(label)
        if original:
            page.set_viewport_size(original)
        return overflowing

    return capture
