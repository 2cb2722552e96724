"""Real concurrent requests on PostgreSQL: attempt starts never exceed max attempts, and one
learner never holds two open attempts. Each thread is a separate client with its own
database connection, released together by a barrier."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from assessments import services
from assessments.models import Attempt
from assessments.tests.factories import QuestionFactory, QuizFactory
from courses.models import Lesson
from courses.tests.factories import CourseFactory, LessonFactory, ModuleFactory
from enrollments.models import Enrollment
from enrollments.services import enrollment_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REQUESTS = 20


def _start_all(user, quiz, count) -> list[tuple[int, str | None]]:
    barrier = threading.Barrier(count)

    def start(_) -> tuple[int, str | None]:
        client = APIClient()
        client.force_authenticate(user)
        try:
            barrier.wait(timeout=30)
            response = client.post(f"/api/v1/quizzes/{quiz.pk}/attempts/")
            return response.status_code, response.json().get("code")
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(start, range(count)))


@pytest.fixture
def setup():
    course = CourseFactory(published=True)
    lesson = LessonFactory(module=ModuleFactory(course=course), kind=Lesson.Kind.QUIZ)
    quiz = QuizFactory(lesson=lesson, max_attempts=3)
    QuestionFactory(quiz=quiz)
    learner = UserFactory()
    enrollment_create(user=learner, course=course, source=Enrollment.Source.ADMIN)
    return quiz, learner


def test_concurrent_starts_open_exactly_one_attempt(setup):
    quiz, learner = setup

    results = _start_all(learner, quiz, REQUESTS)

    assert sorted(status for status, _ in results) == [201] + [409] * (REQUESTS - 1)
    assert {code for status, code in results if status == 409} == {"attempt_in_progress"}
    assert Attempt.objects.filter(quiz=quiz, user=learner).count() == 1


def test_concurrent_starts_never_exceed_max_attempts(setup):
    quiz, learner = setup
    for _ in range(2):
        services.attempt_submit(
            attempt=services.attempt_start(quiz=quiz, user=learner), user=learner
        )

    results = _start_all(learner, quiz, REQUESTS)

    assert [status for status, _ in results].count(201) == 1
    assert Attempt.objects.filter(quiz=quiz, user=learner).count() == 3
    assert sorted(Attempt.objects.filter(user=learner).values_list("number", flat=True)) == [
        1,
        2,
        3,
    ]


def test_the_last_attempt_under_concurrency_is_refused_for_everyone_after(setup):
    quiz, learner = setup
    for _ in range(3):
        services.attempt_submit(
            attempt=services.attempt_start(quiz=quiz, user=learner), user=learner
        )

    results = _start_all(learner, quiz, REQUESTS)

    assert {(status, code) for status, code in results} == {(409, "max_attempts_reached")}
    assert Attempt.objects.filter(quiz=quiz, user=learner).count() == 3
