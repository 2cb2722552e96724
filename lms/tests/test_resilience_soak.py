"""A bounded load soak against the live server: gunicorn (2 workers, DEBUG off) on 127.0.0.1
serving the test database, mixed reads and writes from several client threads for
SOAK_SECONDS (default 20; the benchmark soaks for 2 minutes). No answer may be a 5xx, and
the server must not open more database connections than it has workers (persistent
connections are reused, never leaked).
"""

import http.client
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
from django.conf import settings
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import UserFactory
from courses.tests.factories import course_with_content
from enrollments.services import enrollment_create
from lms.tests.processes import BASE_DIR

pytestmark = [
    pytest.mark.resilience,
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "20"))
WORKERS = 2
CLIENTS = 6
APPLICATION_NAME = "lms-soak"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url() -> str:
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{db['NAME']}?application_name={APPLICATION_NAME}"


@pytest.fixture
def server(tmp_path):
    port = free_port()
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "lms.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,  # the tokens below are signed with it
        "DATABASE_URL": database_url(),
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "EMAIL_URL": "dummymail://",
        "NUM_PROXIES": "1",  # X-Forwarded-For: many clients, as behind a proxy
        "LOG_LEVEL": "WARNING",
    }
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "lms.wsgi:application"),
            *("--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS), "--timeout", "60"),
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if request(port, "GET", "/health/live")[0] == 200:
                break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        raise AssertionError((tmp_path / "gunicorn.log").read_text())
    yield port
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def request(port: int, method: str, path: str, token: str | None = None) -> tuple[int, bytes]:
    headers = {"X-Forwarded-For": f"10.9.{random.randint(0, 255)}.{random.randint(1, 254)}"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        client.request(method, path, headers=headers)
        response = client.getresponse()
        return response.status, response.read()
    finally:
        client.close()


@pytest.fixture
def traffic():
    """Requests of a small learning site: catalog, outlines, lessons, progress, enrolments."""
    courses = [
        course_with_content(published=True, modules=2, lessons_per_module=3) for _ in range(4)
    ]
    lessons = {
        course.pk: [lesson.pk for module in course.modules.all() for lesson in module.lessons.all()]
        for course in courses
    }
    learners = UserFactory.create_batch(12)
    for learner in learners:
        enrollment_create(user=learner, course=courses[0], source="free")
    newcomers = UserFactory.create_batch(40)
    first = courses[0].pk
    mix = [("GET", "/api/v1/courses/", None), ("GET", "/api/v1/courses/?ordering=title", None)]
    for learner in learners:
        token = str(AccessToken.for_user(learner))
        mix += [
            ("GET", f"/api/v1/courses/{first}/outline/", token),
            ("GET", f"/api/v1/lessons/{random.choice(lessons[first])}/", token),
            ("GET", "/api/v1/me/enrollments/", token),
            ("POST", f"/api/v1/lessons/{random.choice(lessons[first])}/complete/", token),
        ]
    for newcomer in newcomers:
        course = random.choice(courses[1:])
        mix.append(
            ("POST", f"/api/v1/courses/{course.pk}/enroll/", str(AccessToken.for_user(newcomer)))
        )
    return mix


def db_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            [APPLICATION_NAME],
        )
        return cursor.fetchone()[0]


def test_a_bounded_mixed_load_has_no_5xx_and_no_connection_growth(server, traffic):
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + SOAK_SECONDS

    def client() -> None:
        rng = random.Random()
        for _ in range(100_000):  # bounded in count as well as in time
            if time.monotonic() >= deadline:
                return
            method, path, token = rng.choice(traffic)
            status, _ = request(server, method, path, token)
            with lock:
                statuses[status] += 1

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    samples = []
    while any(thread.is_alive() for thread in threads):
        samples.append(db_connections())
        time.sleep(0.5)
    for thread in threads:
        thread.join()

    server_errors = {status: count for status, count in statuses.items() if status >= 500}
    assert server_errors == {}
    assert set(statuses) <= {200, 201}, statuses
    assert sum(statuses.values()) >= 50
    assert max(samples) <= WORKERS, samples
    assert samples[-1] <= WORKERS
