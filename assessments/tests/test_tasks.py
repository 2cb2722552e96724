"""The periodic task that closes expired quiz attempts."""

from decimal import Decimal

import pytest
from django.conf import settings
from freezegun import freeze_time

from assessments import services, tasks
from assessments.models import Attempt
from assessments.tests.conftest import enrol
from assessments.tests.factories import QuestionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def expired_attempts(quiz, course):
    """Three learners' timed attempts, started at 09:00 with a 10-minute limit."""
    QuestionFactory(quiz=quiz)
    quiz.time_limit_seconds = 600
    quiz.save()
    attempts = []
    with freeze_time("2030-05-01 09:00:00"):
        for _ in range(3):
            from accounts.tests.factories import UserFactory

            learner = UserFactory()
            enrol(learner, course)
            attempts.append(services.attempt_start(quiz=quiz, user=learner))
    return attempts


def test_the_task_is_scheduled_every_minute_for_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["close-expired-quiz-attempts"]

    assert entry["task"] == "assessments.tasks.attempt_close_expired_task"
    assert str(entry["schedule"]._orig_minute) == "*"


def test_the_task_closes_expired_attempts(expired_attempts):
    with freeze_time("2030-05-01 09:11:00"):
        closed = tasks.attempt_close_expired_task.delay().get()

    assert closed == 3
    assert set(Attempt.objects.values_list("status", flat=True)) == {Attempt.Status.EXPIRED}
    assert set(Attempt.objects.values_list("score_percent", flat=True)) == {Decimal("0.00")}


def test_the_task_leaves_running_attempts_alone(expired_attempts):
    with freeze_time("2030-05-01 09:09:00"):
        closed = tasks.attempt_close_expired_task.delay().get()

    assert closed == 0
    assert set(Attempt.objects.values_list("status", flat=True)) == {Attempt.Status.IN_PROGRESS}


def test_a_full_batch_enqueues_the_next_one(expired_attempts, monkeypatch):
    monkeypatch.setattr(tasks, "BATCH_SIZE", 2)

    with freeze_time("2030-05-01 09:11:00"):
        tasks.attempt_close_expired_task.delay()

    assert not Attempt.objects.filter(status=Attempt.Status.IN_PROGRESS).exists()


def test_running_the_task_twice_closes_each_attempt_once(expired_attempts):
    with freeze_time("2030-05-01 09:11:00"):
        first = tasks.attempt_close_expired_task.delay().get()
        second = tasks.attempt_close_expired_task.delay().get()

    assert (first, second) == (3, 0)
