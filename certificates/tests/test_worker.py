"""Certificates rendered by a real Celery worker from the Redis broker (not eager), including a
worker that dies half-way: afterwards there is exactly one certificate and one email.

Runs when CELERY_BROKER_URL points at Redis and the database is PostgreSQL (CI); the worker
processes share the test database, so an in-memory SQLite one cannot serve.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings

from certificates.models import Certificate
from certificates.services import certificate_issue
from certificates.tests.conftest import pdf_text
from courses.models import Lesson
from enrollments.tests.factories import EnrollmentFactory
from lms.celery import app as celery_app
from lms.tests.processes import BASE_DIR
from lms.tests.test_celery_worker import BROKER_URL, database_url_for_worker

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not BROKER_URL or BROKER_URL.startswith("memory://"),
        reason="no broker configured: set CELERY_BROKER_URL=redis://... to run a real worker",
    ),
]

SUBJECT = "Subject: Your certificate for"


class Workers:
    """Starts worker processes on the certificates and emails queues; stops them after."""

    def __init__(self, tmp_path: Path) -> None:
        self.outbox = tmp_path / "outbox"
        self.outbox.mkdir()
        self.log_path = tmp_path / "workers.log"
        self.marker = tmp_path / "render-started"
        self.processes: list[subprocess.Popen] = []
        self._log = self.log_path.open("a")

    def start(self, mode: str = "normal") -> subprocess.Popen:
        env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "lms.settings",
            "DATABASE_URL": database_url_for_worker(),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EMAIL_URL": f"filemail:///{self.outbox}",  # four slashes: an absolute path
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "RENDER_STARTED_MARKER": str(self.marker),
        }
        self._log.write(f"\n===== worker ({mode})\n")
        self._log.flush()
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "certificates.tests.worker_main", mode),
                *("--queues", "certificates,emails", "--pool", "solo", "--loglevel", "INFO"),
                *("--without-gossip", "--without-mingle", "--without-heartbeat"),
                *("--hostname", f"test-{uuid.uuid4().hex[:8]}@%h"),
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def log(self) -> str:
        return self.log_path.read_text()

    def certificate_emails(self) -> list[str]:
        return [
            block
            for message in sorted(self.outbox.glob("*.log"))
            for block in message.read_text().split(SUBJECT)[1:]
        ]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
        self._log.close()


@pytest.fixture
def workers(tmp_path) -> Iterator[Workers]:
    workers = Workers(tmp_path)
    yield workers
    workers.stop()


@pytest.fixture
def tasks_sent_to_the_broker() -> Iterator[None]:
    was_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = was_eager


def wait_until(condition: Callable[[], object], what: str, workers: Workers, timeout=90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout} s. Worker output:\n{workers.log()}")


def certificate_status(certificate_id) -> str:
    return Certificate.objects.values_list("status", flat=True).get(pk=certificate_id)


def assert_one_issued_certificate_and_one_email(enrollment, workers: Workers) -> Certificate:
    certificate = Certificate.objects.get(enrollment=enrollment)
    wait_until(
        lambda: certificate_status(certificate.pk) == "issued", "the certificate issued", workers
    )
    wait_until(lambda: workers.certificate_emails(), "the certificate email", workers)
    time.sleep(3)  # room for a duplicate to show up, had there been one
    assert len(workers.certificate_emails()) == 1, workers.log()
    assert Certificate.objects.filter(enrollment=enrollment).count() == 1
    certificate.refresh_from_db()
    assert certificate.verification_code in workers.certificate_emails()[0]
    with certificate.pdf.open("rb") as pdf:
        data = pdf.read()
    assert data.startswith(b"%PDF-")
    assert certificate.learner_name in pdf_text(data)
    return certificate


def test_completing_a_course_gives_an_issued_certificate_a_pdf_and_one_email(
    auth_client, student, course, workers, tasks_sent_to_the_broker
):
    enrollment = EnrollmentFactory(user=student, course=course)
    workers.start()
    client = auth_client(student)

    for lesson in Lesson.objects.filter(module__course=course):
        assert client.post(f"/api/v1/lessons/{lesson.pk}/complete/").status_code == 200

    certificate = assert_one_issued_certificate_and_one_email(enrollment, workers)
    assert certificate.source == Certificate.Source.COMPLETION
    assert certificate.course_title == course.title


def test_a_crash_between_render_and_commit_ends_with_one_certificate_and_one_email(
    workers, tasks_sent_to_the_broker
):
    enrollment = EnrollmentFactory(completed=True)
    crashing = workers.start("crash-before-commit")

    certificate, _ = certificate_issue(enrollment=enrollment, source=Certificate.Source.STAFF)
    wait_until(lambda: crashing.poll() is not None, "the worker crashed", workers)

    assert certificate_status(certificate.pk) == "pending"
    assert workers.certificate_emails() == []
    workers.start()
    assert_one_issued_certificate_and_one_email(enrollment, workers)


def test_a_worker_killed_mid_render_ends_with_one_certificate_and_one_email(
    workers, tasks_sent_to_the_broker
):
    enrollment = EnrollmentFactory(completed=True)
    hanging = workers.start("hang-in-render")

    certificate, _ = certificate_issue(enrollment=enrollment, source=Certificate.Source.STAFF)
    wait_until(workers.marker.exists, "the render started", workers)
    hanging.kill()
    hanging.wait(timeout=20)

    assert certificate_status(certificate.pk) == "pending"
    workers.start()
    assert_one_issued_certificate_and_one_email(enrollment, workers)
