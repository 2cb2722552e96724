"""gunicorn's settings: `gunicorn --config python:lms.gunicorn_conf lms.wsgi:application`.

Environment: GUNICORN_WORKERS (default 3), GUNICORN_BIND (default 0.0.0.0:8000),
GUNICORN_TIMEOUT (default 30 s). No access log: the application logs every request itself
(lms.request, JSON in production, with the request id and without query strings, which can
hold tokens). This module is read by the gunicorn master and imports nothing of the project.
"""

import os
from pathlib import Path
from typing import Any

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# The workers' heartbeat files stay off the overlay filesystem, where a slow fsync can make
# gunicorn kill a healthy worker.
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108
accesslog = None
errorlog = "-"
# Proxies in front terminate TLS; X-Forwarded-* are read by Django (SECURE_PROXY_SSL_HEADER).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server: Any) -> None:
    """Before the workers fork: forget the metric samples of a previous run."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink(missing_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    """A worker died or was recycled: drop its live gauges from /metrics (counters stay)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
