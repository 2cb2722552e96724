"""Every periodic job declared in CELERY_BEAT_SCHEDULE runs a task that exists, and says why
it runs when it does."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from lms.celery import app as celery_app

SCHEDULE = settings.CELERY_BEAT_SCHEDULE


@pytest.fixture(scope="module")
def registered_tasks() -> set[str]:
    # What a worker imports at start-up: the apps' tasks modules and CELERY_IMPORTS.
    celery_app.loader.import_default_modules()
    celery_app.autodiscover_tasks(force=True)
    return set(celery_app.tasks)


@pytest.mark.parametrize(
    "name", [pytest.param(name, id=f"_case {name}") for name in sorted(SCHEDULE)]
)
def test_scheduled_task_is_registered(name, registered_tasks):
    assert SCHEDULE[name]["task"] in registered_tasks


@pytest.mark.parametrize(
    "name", [pytest.param(name, id=f"_case {name}") for name in sorted(SCHEDULE)]
)
def test_scheduled_job_has_a_comment_explaining_it(name):
    source = (Path(settings.BASE_DIR) / "lms" / "settings.py").read_text().splitlines()
    line = next(index for index, text in enumerate(source) if re.match(rf'\s+"{name}": {{', text))

    assert source[line - 1].strip().startswith("#"), f"add a comment above {name!r}"


def test_the_schedule_holds_the_certificate_and_digest_jobs():
    tasks = {entry["task"] for entry in SCHEDULE.values()}

    assert {
        "certificates.tasks.certificates_retry_pending_task",
        "certificates.tasks.weekly_digest_send_task",
    } <= tasks


def test_beat_uses_the_database_scheduler():
    assert settings.CELERY_BEAT_SCHEDULER == "django_celery_beat.schedulers:DatabaseScheduler"


# Transactional: the scheduler calls close_old_connections(), which closes a connection that
# is inside a test's atomic block (autocommit off), as on PostgreSQL.
@pytest.mark.django_db(transaction=True)
def test_the_database_scheduler_lists_every_job_for_the_admin():
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    DatabaseScheduler(app=celery_app)  # what `celery beat` does at start-up

    rows = dict(PeriodicTask.objects.values_list("name", "task"))
    assert {name: rows.get(name) for name in SCHEDULE} == {
        name: entry["task"] for name, entry in SCHEDULE.items()
    }
    assert PeriodicTask.objects.get(name="send-weekly-digest").crontab.day_of_week == "mon"
