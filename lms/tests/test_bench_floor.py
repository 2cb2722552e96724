"""/bench/floor: the benchmark's floor view, served only when BENCH_FLOOR_VIEW is on."""

import importlib

import pytest
from django.urls import clear_url_caches

from lms import urls

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor_on(settings):
    settings.BENCH_FLOOR_VIEW = True
    importlib.reload(urls)
    clear_url_caches()
    yield
    settings.BENCH_FLOOR_VIEW = False
    importlib.reload(urls)
    clear_url_caches()


def test_the_floor_is_not_served_by_default(client):
    assert client.get("/bench/floor").status_code == 404


def test_the_floor_answers_a_small_fixed_json_when_turned_on(client, floor_on):
    response = client.get("/bench/floor")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_the_floor_passes_through_the_whole_middleware_stack(client, floor_on):
    response = client.get("/bench/floor")

    # Set by middleware the health probes skip: the request id, the security headers.
    assert response["X-Request-ID"]
    assert response["X-Content-Type-Options"] == "nosniff"
