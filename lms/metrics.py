"""Business and worker metrics for Prometheus, next to django-prometheus' request/DB/cache ones.

Counters count what happened: domain events through `lms.events` (as they are published,
inside their transaction), emails, Celery task outcomes, webhook deliveries. Gauges that
describe the database (pending webhook deliveries) are computed when /metrics is scraped,
from callbacks apps register with `register_scrape_gauge`.

Processes: with PROMETHEUS_MULTIPROC_DIR set (the container image sets it), every process
(gunicorn workers, Celery pool processes) writes its samples to files in that directory, and
an exporter sums them: /metrics on the web server, and on a Celery worker the small HTTP
server `worker_exporter_start` opens on CELERY_METRICS_PORT. Without it (development), the
process' own registry is served. docs/deploy.md explains how Prometheus scrapes both.
"""

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from lms import events

logger = logging.getLogger(__name__)

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
    # Samples are written there as soon as a metric exists (below, and django-prometheus').
    Path(os.environ[MULTIPROCESS_DIR_VARIABLE]).mkdir(parents=True, exist_ok=True)

ENROLLMENTS_CREATED = Counter(
    "lms_enrollments_created_total", "Enrolments that took a seat, by source.", ["source"]
)
ENROLLMENTS_COMPLETED = Counter("lms_enrollments_completed_total", "Enrolments completed.")
ORDERS_PAID = Counter("lms_orders_paid_total", "Orders paid, by currency.", ["currency"])
ORDERS_PAID_AMOUNT = Counter(
    "lms_orders_paid_amount_minor_total",
    "Amount of the paid orders in minor units (cents), by currency.",
    ["currency"],
)
ORDERS_REFUNDED = Counter(
    "lms_orders_refunded_total", "Orders refunded, by currency.", ["currency"]
)
ORDERS_REFUNDED_AMOUNT = Counter(
    "lms_orders_refunded_amount_minor_total",
    "Amount refunded in minor units (cents), by currency.",
    ["currency"],
)
CERTIFICATES_ISSUED = Counter("lms_certificates_issued_total", "Certificates issued.")
CERTIFICATES_FAILED = Counter(
    "lms_certificates_failed_total", "Certificate renderings that failed for good."
)
SUBMISSIONS_GRADED = Counter("lms_submissions_graded_total", "Assignment submissions graded.")
EMAILS = Counter("lms_emails_total", "Emails handed to the mail server, by outcome.", ["outcome"])
CELERY_TASKS = Counter(
    "lms_celery_tasks_total",
    "Celery task runs by queue, task and outcome (succeeded, failed, retried).",
    ["queue", "task", "outcome"],
)
CELERY_TASK_DURATION = Histogram(
    "lms_celery_task_duration_seconds", "Celery task run time.", ["queue", "task"]
)
WEBHOOK_DELIVERIES = Counter(
    "lms_webhook_delivery_attempts_total",
    "Webhook delivery attempts by outcome (succeeded, retry, failed).",
    ["outcome"],
)
WEBHOOK_DELIVERY_DURATION = Histogram(
    "lms_webhook_delivery_duration_seconds",
    "Time a webhook receiver took to answer (or to fail).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15),
)


def _money(event: events.Event) -> tuple[str, int]:
    return str(event.data.get("currency", "")).upper(), int(event.data.get("amount", 0))


def _count_event(event: events.Event) -> None:
    if event.type == events.ENROLLMENT_CREATED:
        ENROLLMENTS_CREATED.labels(source=event.data.get("source", "")).inc()
    elif event.type == events.ENROLLMENT_COMPLETED:
        ENROLLMENTS_COMPLETED.inc()
    elif event.type == events.ORDER_PAID:
        currency, amount = _money(event)
        ORDERS_PAID.labels(currency=currency).inc()
        ORDERS_PAID_AMOUNT.labels(currency=currency).inc(amount)
    elif event.type == events.ORDER_REFUNDED:
        currency, amount = _money(event)
        ORDERS_REFUNDED.labels(currency=currency).inc()
        ORDERS_REFUNDED_AMOUNT.labels(currency=currency).inc(amount)
    elif event.type == events.CERTIFICATE_ISSUED:
        CERTIFICATES_ISSUED.inc()
    elif event.type == events.SUBMISSION_GRADED:
        SUBMISSIONS_GRADED.inc()


def event_count(event: events.Event) -> None:
    """The lms.events subscriber: count the event as it is published.

    Events are published at the end of their service, after the change is saved, so a cause
    that rolls back after it is rare; counting here, rather than in an on_commit callback,
    keeps the services' transactions free of extra commit hooks.
    """
    _count_event(event)


events.subscribe(event_count)


# --- Gauges computed at scrape time ---------------------------------------------------------
ScrapeGauge = tuple[str, str, Callable[[], float]]
_scrape_gauges: dict[str, ScrapeGauge] = {}


def register_scrape_gauge(name: str, documentation: str, callback: Callable[[], float]) -> None:
    """Report `callback()` as the gauge `name` on every /metrics scrape (keep it one query)."""
    _scrape_gauges[name] = (name, documentation, callback)


class ScrapeGaugeCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        for name, documentation, callback in list(_scrape_gauges.values()):
            yield GaugeMetricFamily(name, documentation, value=callback())


def is_multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROCESS_DIR_VARIABLE))


def metrics_page(*, with_scrape_gauges: bool = True) -> bytes:
    """The Prometheus text page: every process' samples (or this one's) plus the gauges."""
    registry = CollectorRegistry()
    if with_scrape_gauges:
        registry.register(ScrapeGaugeCollector())
    if is_multiprocess():
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY) + generate_latest(registry)


def multiprocess_dir_reset() -> None:
    """Empty PROMETHEUS_MULTIPROC_DIR before a server forks its workers (stale samples of the
    previous run would be added in otherwise). Called by gunicorn's on_starting hook and the
    Celery worker's main process."""
    directory = os.environ.get(MULTIPROCESS_DIR_VARIABLE)
    if not directory:
        return
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)


def process_dead(pid: int) -> None:
    """Drop a finished worker process' live gauges (its counters are kept)."""
    if is_multiprocess():
        multiprocess.mark_process_dead(pid)


def worker_exporter_start(port: int, address: str = "0.0.0.0") -> None:  # noqa: S104
    """Serve the worker's metrics (all its pool processes) on http://<address>:<port>/metrics.

    A Celery worker has no web server; Prometheus scrapes this one. Business gauges are left
    to the web server's /metrics, so they are not reported twice.
    """
    if is_multiprocess():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    start_http_server(port, addr=address, registry=registry)
    logger.info("Worker metrics served on port %s", port)
