"""Cached catalog pages and outlines, invalidated by version keys (never by key scans).

Each course has a version token, and so has the catalog as a whole. Cached entries embed the
token in their key, or (catalog pages and the API's outline) are stored with the token they
were computed under and read together with the current one in a single MGET; either way a
write only has to replace the token: old entries stop counting and expire on their own.
Tokens are random, so an evicted token can never bring back an entry written under an
earlier one.
"""

import hashlib
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")

CATALOG_VERSION_KEY = "courses:catalog:version"
COURSE_VERSION_KEY = "courses:course:{course_id}:version"


def _version(key: str) -> str:
    version = cache.get(key)
    if version is None:
        cache.add(key, uuid.uuid4().hex, timeout=None)
        version = cache.get(key)
    return str(version)


def _bump(*keys: str) -> None:
    cache.set_many({key: uuid.uuid4().hex for key in keys}, timeout=None)


def invalidate_course(course_id: uuid.UUID) -> None:
    """Call on every write to a course, its modules or its lessons.

    The tokens are replaced now (this transaction's own later reads see the change) and again
    after commit, so a concurrent read that cached the old rows in between is dropped too.
    """
    keys = (CATALOG_VERSION_KEY, COURSE_VERSION_KEY.format(course_id=course_id))
    _bump(*keys)
    transaction.on_commit(partial(_bump, *keys))


def invalidate_catalog() -> None:
    """Call on writes that change catalog pages but no course (e.g. a new category)."""
    _bump(CATALOG_VERSION_KEY)
    transaction.on_commit(partial(_bump, CATALOG_VERSION_KEY))


def _get_or_compute(key: str, compute: Callable[[], T]) -> T:
    value: T | None = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=settings.COURSES_CACHE_TTL)
    return value


def _versioned_get(version_key: str, key: str) -> tuple[str | None, Any]:
    """The current version token and the entry stored under `key`, in one round trip
    (MGET). The entry is a (version, value) pair: it counts only if written under the
    current token, which is the same rule as a key that embeds the token."""
    found = cache.get_many([version_key, key])
    version = found.get(version_key)
    entry = found.get(key)
    if version is not None and isinstance(entry, tuple) and entry[0] == version:
        return str(version), entry[1]
    return (None if version is None else str(version)), None


def _versioned_get_or_compute(version_key: str, key: str, compute: Callable[[], T]) -> T:
    version, value = _versioned_get(version_key, key)
    if value is None:
        version = version or _version(version_key)
        value = compute()
        cache.set(key, (version, value), timeout=settings.COURSES_CACHE_TTL)
    return value


def _catalog_page_key(cache_key_source: str) -> str:
    return f"courses:catalog-page:{hashlib.sha256(cache_key_source.encode()).hexdigest()}"


def catalog_page_cached(cache_key_source: str) -> dict[str, Any] | None:
    """The cached page for this URL, if any. Only valid public listings are ever stored, so
    a hit needs no filter validation (the benchmark's cached-catalog path)."""
    _, value = _versioned_get(CATALOG_VERSION_KEY, _catalog_page_key(cache_key_source))
    return value


def catalog_page(cache_key_source: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A public catalog page, keyed by the full request URL (query string included)."""
    return _versioned_get_or_compute(
        CATALOG_VERSION_KEY, _catalog_page_key(cache_key_source), compute
    )


def course_outline_response(
    course_id: uuid.UUID, compute: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """The API's outline body for a caller who is not enrolled, already serialized (the
    flags of an enrolled caller are set on a copy). Same version token as the outline."""
    return _versioned_get_or_compute(
        COURSE_VERSION_KEY.format(course_id=course_id),
        f"courses:outline-response:{course_id}",
        compute,
    )


def course_outline(course_id: uuid.UUID, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The outline of one course, the same for every caller (completion flags come later)."""
    version = _version(COURSE_VERSION_KEY.format(course_id=course_id))
    return _get_or_compute(f"courses:outline:{course_id}:{version}", compute)
