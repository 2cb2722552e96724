"""The Celery app. Configuration lives in settings (the CELERY_* names).

The signal handlers below carry the request id from the request that sent a task into the
task's logs (a `request_id` message header), count task outcomes per queue for Prometheus,
and serve a worker's metrics (lms/metrics.py).
"""

import os
import time
from fnmatch import fnmatch
from typing import Any

import sentry_sdk
from celery import Celery, Task, signals

from lms import metrics
from lms.logs import request_id_var, task_var

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings")

app = Celery("lms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

REQUEST_ID_HEADER = "request_id"

# task id -> (context tokens to restore, start time), between task_prerun and task_postrun.
_running: dict[str, tuple[list[Any], float]] = {}


def task_queue(task: Task) -> str:
    """The queue a task was taken from (its route when it ran eagerly)."""
    delivery_info = getattr(task.request, "delivery_info", None) or {}
    queue = delivery_info.get("routing_key")
    if queue:
        return str(queue)
    for pattern, route in (app.conf.task_routes or {}).items():
        if fnmatch(task.name, pattern):
            return str(route.get("queue", app.conf.task_default_queue))
    return str(app.conf.task_default_queue)


@signals.before_task_publish.connect
def _request_id_to_headers(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """A task sent while a request (or another task) runs carries that request's id."""
    request_id = request_id_var.get()
    if request_id and headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


def _request_id_of(task: Task) -> str | None:
    request = task.request
    value = getattr(request, REQUEST_ID_HEADER, None)
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(REQUEST_ID_HEADER)
    return str(value) if value else None


@signals.task_prerun.connect
def _task_context_set(task_id: str = "", task: Task | None = None, **kwargs: Any) -> None:
    if task is None:
        return
    tokens: list[Any] = [task_var.set((task_id, task.name))]
    request_id = _request_id_of(task)
    if request_id:  # an eager task keeps the context of the request it runs in
        tokens.append(request_id_var.set(request_id))
        sentry_sdk.set_tag("request_id", request_id)
    _running[task_id] = (tokens, time.monotonic())


@signals.task_postrun.connect
def _task_context_reset(task_id: str = "", task: Task | None = None, **kwargs: Any) -> None:
    tokens, started = _running.pop(task_id, ([], None))
    if task is not None and started is not None:
        metrics.CELERY_TASK_DURATION.labels(queue=task_queue(task), task=task.name).observe(
            time.monotonic() - started
        )
    for token in reversed(tokens):
        token.var.reset(token)


def _count(task: Task | None, outcome: str) -> None:
    if task is not None:
        metrics.CELERY_TASKS.labels(queue=task_queue(task), task=task.name, outcome=outcome).inc()


@signals.task_success.connect
def _task_succeeded(sender: Task | None = None, **kwargs: Any) -> None:
    _count(sender, "succeeded")


@signals.task_failure.connect
def _task_failed(sender: Task | None = None, **kwargs: Any) -> None:
    _count(sender, "failed")


@signals.task_retry.connect
def _task_retried(sender: Task | None = None, **kwargs: Any) -> None:
    _count(sender, "retried")


@signals.worker_init.connect
def _worker_metrics_start(**kwargs: Any) -> None:
    """In the worker's main process, before the pool starts: fresh samples, and the exporter
    Prometheus scrapes when CELERY_METRICS_PORT is set."""
    from django.conf import settings

    metrics.multiprocess_dir_reset()
    if settings.CELERY_METRICS_PORT:
        metrics.worker_exporter_start(settings.CELERY_METRICS_PORT)


@signals.worker_process_shutdown.connect
def _worker_process_dead(pid: int | None = None, **kwargs: Any) -> None:
    metrics.process_dead(pid or os.getpid())
