"""A real Celery worker process consumes a real task from the Redis broker (not eager).

Runs when CELERY_BROKER_URL points at a broker (CI sets it); skipped otherwise.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from accounts.tests.factories import PASSWORD
from lms.celery import app as celery_app
from lms.tests.processes import BASE_DIR

BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not BROKER_URL or BROKER_URL.startswith("memory://"),
        reason="no broker configured: set CELERY_BROKER_URL=redis://... to run a real worker",
    ),
]


def database_url_for_worker() -> str:
    """The test database, so tasks that query see what the test wrote."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker_outbox(tmp_path):
    """Start `celery worker` on the emails queue, writing mail into a directory; stop it after."""
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "lms.settings",
        "DATABASE_URL": database_url_for_worker(),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_URL": f"filemail:///{outbox}",  # four slashes: an absolute path
    }
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "lms", "worker"),
            *("--queues", "emails", "--pool", "solo", "--loglevel", "INFO"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            *("--hostname", f"test-{uuid.uuid4().hex[:8]}@%h"),
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield outbox
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
    log.close()


@pytest.fixture
def tasks_sent_to_the_broker():
    was_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = was_eager


def wait_for_mail(outbox: Path, text: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in outbox.glob("*.log"):
            content = message.read_text()
            if text in content:
                return content
        time.sleep(0.2)
    worker_log = (outbox.parent / "worker.log").read_text()
    raise AssertionError(f"no email containing {text!r} arrived in {timeout} s:\n{worker_log}")


def test_a_real_worker_sends_the_welcome_email(
    api_client, worker_outbox, tasks_sent_to_the_broker, tmp_path
):
    email = f"worker-{uuid.uuid4().hex[:8]}@example.com"

    response = api_client.post(
        reverse("accounts_api:register"),
        {"email": email, "password": PASSWORD, "full_name": "Wanda Worker"},
    )

    assert response.status_code == 201
    # Registration also mails the verification link: wait for the welcome email itself.
    message = wait_for_mail(worker_outbox, "Subject: Welcome")
    assert email in message
    assert "Hello Wanda Worker" in message
    assert "text/html" in message


def test_readiness_reaches_the_real_broker(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = BROKER_URL

    response = client.get("/health/ready")

    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == "ok"
