"""A Celery worker for the integration tests, which can be made to fail at a chosen point.

    python -m certificates.tests.worker_main MODE [celery worker options...]

MODE is `normal`, `crash-before-commit` (the process dies after the PDF is stored and the
row updated, before the transaction commits) or `hang-in-render` (rendering never ends; the
file named by $RENDER_STARTED_MARKER is created when it starts, so the test can kill it).

A task of a worker that died is handed back by Redis after the visibility timeout; the tests
shorten it to seconds (production keeps CELERY_BROKER_TRANSPORT_OPTIONS) so that a restarted
worker picks the task up at once.
"""

import os
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings")
django.setup()

from certificates import services  # noqa: E402 (needs django.setup())
from lms.celery import app  # noqa: E402


def _crash(certificate: object) -> None:
    os._exit(1)  # no commit, no acknowledgement: what a power cut does


def _hang(*args: object) -> bytes:
    Path(os.environ["RENDER_STARTED_MARKER"]).touch()
    time.sleep(600)
    raise AssertionError("the test should have killed this worker")


def main() -> None:
    mode, options = sys.argv[1], sys.argv[2:]
    app.conf.broker_transport_options = {
        **app.conf.broker_transport_options,
        "visibility_timeout": 3,
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
    if mode == "crash-before-commit":
        services._send_issued_email = _crash  # runs inside the transaction, after the save
    elif mode == "hang-in-render":
        services.render_certificate_pdf = _hang
    elif mode != "normal":
        raise SystemExit(f"unknown mode {mode!r}")
    app.worker_main(["worker", *options])


if __name__ == "__main__":
    main()
