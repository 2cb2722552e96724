"""A real Celery worker: its logs carry the request id of the request that sent the task,
as JSON lines, and its own metrics exporter reports the task and the email.

Runs when CELERY_BROKER_URL points at a broker (CI sets it); skipped otherwise.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

from accounts.tests.factories import PASSWORD
from lms.celery import app as celery_app
from lms.tests.processes import BASE_DIR
from lms.tests.test_celery_worker import database_url_for_worker

BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not BROKER_URL or BROKER_URL.startswith("memory://"),
        reason="no broker configured: set CELERY_BROKER_URL=redis://... to run a real worker",
    ),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def worker(tmp_path):
    """`celery worker` on the emails queue with JSON logs and its metrics exporter."""
    port = free_port()
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "lms.settings",
        "DATABASE_URL": database_url_for_worker(),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_URL": f"filemail:///{outbox}",
        "LOG_FORMAT": "json",
        "CELERY_METRICS_PORT": str(port),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    log_path = tmp_path / "worker.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "lms", "worker"),
            *("--queues", "emails", "--pool", "prefork", "--concurrency", "1"),
            *("--loglevel", "INFO", "--without-gossip", "--without-mingle"),
            *("--without-heartbeat", "--hostname", f"obs-{uuid.uuid4().hex[:8]}@%h"),
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield log_path, port
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture
def tasks_sent_to_the_broker():
    was_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = was_eager


def wait_for(predicate, what: str, log_path, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"{what} did not happen in {timeout} s:\n{log_path.read_text()}")


def json_lines(log_path) -> list[dict]:
    lines = []
    for line in log_path.read_text().splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue  # celery's start-up banner
    return lines


def test_a_task_logs_the_request_id_and_the_worker_exports_metrics(
    api_client, worker, tasks_sent_to_the_broker
):
    log_path, port = worker
    email = f"obs-{uuid.uuid4().hex[:8]}@example.com"

    response = api_client.post(
        "/api/v1/auth/register/",
        {"email": email, "password": PASSWORD, "full_name": "Olga Observed"},
        HTTP_X_REQUEST_ID="req-worker-42",
    )

    assert response.status_code == 201
    # The broker may still hold other tests' email tasks: look for this request's.
    task_lines = wait_for(
        lambda: [
            line
            for line in json_lines(log_path)
            if line.get("task_name") == "lms.mail.send_email_task"
            and line.get("request_id") == "req-worker-42"
        ],
        "a log line of the email task with the request's id",
        log_path,
    )
    assert all(line["task_id"] for line in task_lines)
    assert PASSWORD not in log_path.read_text()

    def scraped() -> str:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as page:
                body = page.read().decode()
        except OSError:
            return ""
        succeeded = (
            'lms_celery_tasks_total{outcome="succeeded",queue="emails",'
            'task="lms.mail.send_email_task"}'
        )
        return body if succeeded in body else ""

    body = wait_for(scraped, "the task in the worker's metrics", log_path)
    sent = re.search(r'^lms_emails_total\{outcome="sent"\} (\S+)$', body, re.MULTILINE)
    assert sent is not None
    assert float(sent.group(1)) >= 1  # welcome (and verification) email, counted by the worker
