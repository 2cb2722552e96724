"""Real concurrent requests on PostgreSQL: seats are never oversold, nobody enrols twice.

Each thread is a separate client with its own database connection, all released together by
a barrier. PostgreSQL's default max_connections is 100, so 100 requests are spread over 40
connections that run at once.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from courses.models import Course
from courses.tests.factories import course_with_content
from enrollments.models import Enrollment

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CONNECTIONS = 40


def _enrol_all(users, course) -> list[tuple[int, str | None]]:
    barrier = threading.Barrier(min(CONNECTIONS, len(users)))
    thread_state = threading.local()

    def enrol(user) -> tuple[int, str | None]:
        client = APIClient()
        client.force_authenticate(user)
        try:
            if not getattr(thread_state, "started", False):
                thread_state.started = True
                barrier.wait(timeout=30)  # the first request of every thread starts together
            response = client.post(f"/api/v1/courses/{course.pk}/enroll/")
            return response.status_code, response.json().get("code")
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=CONNECTIONS) as pool:
        return list(pool.map(enrol, users))


def test_a_10_seat_course_takes_exactly_10_of_100_concurrent_learners():
    course = course_with_content(published=True, seat_capacity=10)
    learners = UserFactory.create_batch(100)

    results = _enrol_all(learners, course)

    course.refresh_from_db()
    assert sorted(status for status, _ in results).count(201) == 10
    assert {code for status, code in results if status != 201} == {"course_full"}
    assert Enrollment.objects.filter(course=course).count() == 10
    assert course.enrollment_count == 10


def test_20_concurrent_requests_by_one_learner_make_one_enrolment():
    course = course_with_content(published=True, seat_capacity=10)
    learner = UserFactory()

    results = _enrol_all([learner] * 20, course)

    assert sorted(status for status, _ in results) == [200] * 19 + [201]
    assert Enrollment.objects.filter(course=course, user=learner).count() == 1
    assert Course.objects.get(pk=course.pk).enrollment_count == 1
