"""Prometheus metrics: /metrics access, request/DB/cache metrics, business counters, Celery
task outcomes, worker processes (multiprocess mode), and probes past the Host check."""

import os
import smtplib
import socket

import pytest
from django.urls import reverse
from prometheus_client import REGISTRY

from courses.tests.factories import course_with_content
from lms import events, metrics
from lms.celery import task_queue
from lms.mail import send_email_task
from lms.tests.processes import run_python
from webhooks.tasks import webhook_deliveries_dispatch_due_task

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-0123456789abcdef"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def production_metrics(settings):
    settings.IS_PRODUCTION = True
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []
    return settings


# --- Access -------------------------------------------------------------------------------
def test_metrics_are_open_in_development(client):
    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert "django_http_requests_latency_seconds_by_view_method" in body
    assert "django_db_execute_total" in body or "django_db_new_connections_total" in body
    assert "django_cache_get_total" in body


def test_metrics_are_closed_in_production_without_a_token_or_allow_list(client, production_metrics):
    response = client.get("/metrics")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize(
    ("_case", "authorization", "expected"),
    [
        ("_right token", f"Bearer {TOKEN}", 200),
        ("_wrong token", "Bearer nope", 403),
        ("_no token", "", 403),
        ("_other scheme", f"Basic {TOKEN}", 403),
    ],
)
def test_the_metrics_token(client, production_metrics, _case, authorization, expected):
    production_metrics.METRICS_TOKEN = TOKEN

    response = client.get("/metrics", HTTP_AUTHORIZATION=authorization)

    assert response.status_code == expected


@pytest.mark.parametrize(
    ("_case", "address", "expected"),
    [("_allowed network", "10.0.3.7", 200), ("_elsewhere", "203.0.113.9", 403)],
)
def test_the_metrics_ip_allow_list(client, production_metrics, _case, address, expected):
    production_metrics.METRICS_ALLOWED_IPS = ["10.0.0.0/16", "192.0.2.1"]

    response = client.get("/metrics", REMOTE_ADDR=address)

    assert response.status_code == expected


def test_probes_and_scrapes_pass_the_host_check_by_ip(client, production_metrics):
    production_metrics.ALLOWED_HOSTS = ["lms.example.com"]
    production_metrics.METRICS_TOKEN = TOKEN
    pod = "10.42.0.17:8000"

    assert client.get("/health/live", HTTP_HOST=pod).status_code == 200
    assert client.get("/health/ready", HTTP_HOST=pod).status_code == 200
    assert (
        client.get("/metrics", HTTP_HOST=pod, HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code
        == 200
    )
    assert client.get("/", HTTP_HOST=pod).status_code == 400  # everything else is checked


# --- Business counters --------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_enrolments_created_and_completed_are_counted(auth_client, student):
    course = course_with_content(published=True)
    created = sample("lms_enrollments_created_total", source="free")
    completed = sample("lms_enrollments_completed_total")

    auth_client(student).post(reverse("enrollments_api:course-enroll", args=[course.pk]))
    lesson = course.modules.get().lessons.get()
    auth_client(student).post(reverse("enrollments_api:lesson-complete", args=[lesson.pk]))

    assert sample("lms_enrollments_created_total", source="free") == created + 1
    assert sample("lms_enrollments_completed_total") == completed + 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("event_type", "data", "counter", "labels"),
    [
        (events.ORDER_PAID, {"amount": 4900, "currency": "usd"}, "lms_orders_paid", "USD"),
        (events.ORDER_REFUNDED, {"amount": 2900, "currency": "EUR"}, "lms_orders_refunded", "EUR"),
    ],
)
def test_orders_are_counted_with_their_amounts(event_type, data, counter, labels):
    count = sample(f"{counter}_total", currency=labels)
    amount = sample(f"{counter}_amount_minor_total", currency=labels)

    events.publish(event_type, data)

    assert sample(f"{counter}_total", currency=labels) == count + 1
    assert sample(f"{counter}_amount_minor_total", currency=labels) == amount + data["amount"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("event_type", "counter"),
    [
        (events.CERTIFICATE_ISSUED, "lms_certificates_issued_total"),
        (events.SUBMISSION_GRADED, "lms_submissions_graded_total"),
    ],
)
def test_other_domain_events_are_counted(event_type, counter):
    before = sample(counter)

    events.publish(event_type, {})

    assert sample(counter) == before + 1


def test_sent_emails_are_counted():
    before = sample("lms_emails_total", outcome="sent")

    send_email_task.apply(
        kwargs={"to": ["a@example.com"], "subject": "s", "text_body": "t", "html_body": "h"}
    )

    assert sample("lms_emails_total", outcome="sent") == before + 1


def test_failed_emails_are_counted(settings, monkeypatch):
    def refuse(*args, **kwargs):
        raise smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"no such user")})

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    before = sample("lms_emails_total", outcome="failed")

    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send_email_task.apply(
            kwargs={"to": ["a@example.com"], "subject": "s", "text_body": "t", "html_body": "h"}
        )

    assert sample("lms_emails_total", outcome="failed") == before + 1


# --- Celery -------------------------------------------------------------------------------
def test_task_outcomes_are_counted_per_queue_and_task():
    labels = {"queue": "emails", "task": "lms.mail.send_email_task", "outcome": "succeeded"}
    before = sample("lms_celery_tasks_total", **labels)

    send_email_task.apply(
        kwargs={"to": ["a@example.com"], "subject": "s", "text_body": "t", "html_body": "h"}
    )

    assert sample("lms_celery_tasks_total", **labels) == before + 1
    assert sample(
        "lms_celery_task_duration_seconds_count",
        queue="emails",
        task="lms.mail.send_email_task",
    )


def test_failed_tasks_are_counted(monkeypatch):
    monkeypatch.setattr(
        "webhooks.services.webhook_endpoints_due",
        lambda **kwargs: (_ for _ in ()).throw(ConnectionError("database gone")),
    )
    labels = {
        "queue": "webhooks",
        "task": "webhooks.tasks.webhook_deliveries_dispatch_due_task",
        "outcome": "failed",
    }
    before = sample("lms_celery_tasks_total", **labels)

    # As in a worker: the failure is recorded, not raised to the caller.
    result = webhook_deliveries_dispatch_due_task.apply(throw=False)

    assert isinstance(result.result, ConnectionError)
    assert sample("lms_celery_tasks_total", **labels) == before + 1


def test_a_task_queue_comes_from_its_route():
    assert task_queue(send_email_task) == "emails"
    assert task_queue(webhook_deliveries_dispatch_due_task) == "webhooks"


# --- Gauges at scrape time ----------------------------------------------------------------
def test_pending_webhook_deliveries_are_a_gauge(client):
    from webhooks.tests.factories import WebhookDeliveryFactory

    WebhookDeliveryFactory.create_batch(2)
    WebhookDeliveryFactory(failed=True)

    body = client.get("/metrics").content.decode()

    assert "lms_webhook_deliveries_pending 2.0" in body


# --- Several processes (gunicorn workers, Celery pool processes) --------------------------
def test_samples_of_several_processes_are_added_up(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    count = "from lms import metrics; metrics.EMAILS.labels(outcome='sent').inc()"

    first = run_python(count, env)
    second = run_python(count, env)
    page = run_python(
        "import sys; from lms import metrics; "
        "sys.stdout.write(metrics.metrics_page(with_scrape_gauges=False).decode())",
        env,
    )

    assert first.returncode == second.returncode == page.returncode == 0, page.stderr
    assert 'lms_emails_total{outcome="sent"} 2.0' in page.stdout


def test_a_worker_serves_its_metrics_on_its_own_port(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = (
        "import urllib.request; from lms import metrics; "
        "metrics.EMAILS.labels(outcome='sent').inc(); "
        f"metrics.worker_exporter_start({port}, '127.0.0.1'); "
        f"print(urllib.request.urlopen('http://127.0.0.1:{port}/metrics', timeout=5)"
        ".read().decode())"
    )

    result = run_python(
        code, {"PATH": os.environ["PATH"], "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    )

    assert result.returncode == 0, result.stderr
    assert 'lms_emails_total{outcome="sent"} 1.0' in result.stdout


def test_the_multiprocess_directory_is_emptied_before_a_server_starts(tmp_path, monkeypatch):
    (tmp_path / "counter_123.db").write_bytes(b"stale")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    metrics.multiprocess_dir_reset()

    assert list(tmp_path.iterdir()) == []
