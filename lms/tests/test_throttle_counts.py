"""Each request is counted once by the throttles: anonymous ones by IP (anon rate), signed-in
ones by user (user rate). Every count is a cache round trip, on every request."""

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db

CATALOG = "/api/v1/courses/"


def test_an_anonymous_request_is_counted_by_the_anon_throttle_only(api_client):
    api_client.get(CATALOG)

    assert cache.get("throttle_anon_127.0.0.1") is not None
    assert cache.get("throttle_user_127.0.0.1") is None


def test_a_signed_in_request_is_counted_by_the_user_throttle(auth_client, student):
    auth_client(student).get(CATALOG)

    assert cache.get(f"throttle_user_{student.pk}") is not None
    assert cache.get("throttle_anon_127.0.0.1") is None
