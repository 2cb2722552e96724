"""Redis down: readiness says so, the API keeps answering from the database, and everything
recovers without a restart when Redis comes back (the production cache configuration, with
real Redis servers: one on a dead port, one this test starts and stops)."""

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import PASSWORD, UserFactory
from courses.tests.factories import course_with_content
from enrollments.services import enrollment_create
from lms.settings import redis_cache

pytestmark = [pytest.mark.resilience, pytest.mark.django_db]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


DEAD_REDIS = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there


@pytest.fixture
def redis_is_down(settings):
    settings.CACHES = {"default": redis_cache(DEAD_REDIS)}


@pytest.fixture
def learning(db):
    """A published course with a learner enrolled in it."""
    course = course_with_content(published=True, modules=2, lessons_per_module=2)
    learner = UserFactory()
    enrollment_create(user=learner, course=course, source="free")
    lesson = course.modules.order_by("position").first().lessons.order_by("position").first()
    return course, learner, lesson


def bearer(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def test_ready_is_503_while_redis_is_down(client, redis_is_down):
    response = client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "unavailable"
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/v1/courses/", id="_case catalog"),
        pytest.param("/api/v1/courses/?search=course", id="_case search"),
        pytest.param("/api/v1/courses/{course}/", id="_case course"),
        pytest.param("/api/v1/courses/{course}/outline/", id="_case outline"),
    ],
)
def test_anonymous_reads_are_served_from_the_database_while_redis_is_down(
    api_client, learning, redis_is_down, path
):
    course, _, _ = learning

    response = api_client.get(path.format(course=course.pk))

    assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/v1/me/", id="_case me"),
        pytest.param("/api/v1/me/enrollments/", id="_case my enrolments"),
        pytest.param("/api/v1/courses/{course}/outline/", id="_case outline"),
        pytest.param("/api/v1/lessons/{lesson}/", id="_case lesson"),
    ],
)
def test_token_authenticated_reads_work_while_redis_is_down(learning, redis_is_down, path):
    course, learner, lesson = learning

    response = bearer(learner).get(path.format(course=course.pk, lesson=lesson.pk))

    assert response.status_code == 200


def test_lesson_completion_works_while_redis_is_down(learning, redis_is_down):
    _, learner, lesson = learning

    response = bearer(learner).post(f"/api/v1/lessons/{lesson.pk}/complete/")

    assert response.status_code == 200
    assert response.json()["progress"]["completed_at"] is not None


def test_login_answers_while_the_throttle_cache_is_down(api_client, redis_is_down):
    user = UserFactory()

    response = api_client.post(
        "/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200
    assert "access" in response.json()


# --- Redis goes away and comes back -----------------------------------------------------


class RedisServer:
    """A throw-away redis-server on 127.0.0.1 that can be stopped and started again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_redis(settings) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    server = RedisServer(free_port())
    server.start()
    settings.CACHES = {"default": redis_cache(f"redis://127.0.0.1:{server.port}/0")}
    yield server
    server.stop()


def catalog_queries(client: APIClient) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/courses/").status_code == 200
    return len(queries.captured_queries)


def test_everything_recovers_without_a_restart_when_redis_returns(client, learning, own_redis):
    api = APIClient()
    assert client.get("/health/ready").status_code == 200
    catalog_queries(api)
    assert catalog_queries(api) == 0  # a cache hit

    own_redis.stop()
    down = client.get("/health/ready")
    uncached = catalog_queries(api)
    own_redis.start()
    up = client.get("/health/ready")
    catalog_queries(api)

    assert down.status_code == 503
    assert uncached > 0  # served from the database
    assert up.status_code == 200
    assert catalog_queries(api) == 0  # cached again, same process, same connection pool
    assert cache.get("health:probe") is not None
