"""Fixtures shared by every app's tests, and the test-only settings tweaks."""

from collections.abc import Callable

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory


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
