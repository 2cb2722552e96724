"""Stored progress always equals a full recount, whatever happens to lessons and learners."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import UserFactory
from courses import services as course_services
from courses.models import Lesson
from courses.tests.factories import course_with_content
from enrollments import services
from enrollments.models import Enrollment, LessonProgress

pytestmark = pytest.mark.django_db

# complete (learner, lesson), add a lesson (required?), remove a lesson, toggle required
steps = st.lists(
    st.one_of(
        st.tuples(st.just("complete"), st.integers(0, 2), st.integers(0, 20)),
        st.tuples(st.just("add"), st.booleans()),
        st.tuples(st.just("remove"), st.integers(0, 20)),
        st.tuples(st.just("toggle"), st.integers(0, 20)),
        st.tuples(st.just("cancel_and_return"), st.integers(0, 2)),
    ),
    min_size=1,
    max_size=25,
)


def _recount(enrollment: Enrollment) -> tuple[int, int]:
    required = Lesson.objects.filter(module__course=enrollment.course, is_required=True)
    done = LessonProgress.objects.filter(
        enrollment=enrollment, completed_at__isnull=False, lesson__in=required
    ).count()
    total = required.count()
    return done, done * 100 // total if total else 0


def _apply(step, course, learners) -> None:
    lessons = list(Lesson.objects.filter(module__course=course).order_by("pk"))
    kind = step[0]
    if kind == "complete" and lessons:
        services.lesson_complete(user=learners[step[1]], lesson=lessons[step[2] % len(lessons)])
    elif kind == "add":
        course_services.lesson_create(
            module=course.modules.first(), title="Added", is_required=step[1]
        )
    elif kind == "remove" and len(lessons) > 1:
        course_services.lesson_delete(lesson=lessons[step[1] % len(lessons)])
    elif kind == "toggle" and lessons:
        lesson = lessons[step[1] % len(lessons)]
        course_services.lesson_update(lesson=lesson, data={"is_required": not lesson.is_required})
    elif kind == "cancel_and_return":
        enrollment = Enrollment.objects.get(user=learners[step[1]], course=course)
        services.enrollment_cancel(enrollment=enrollment)
        services.enrollment_create(user=learners[step[1]], course=course, source="free")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=steps)
def test_stored_progress_equals_a_full_recount(steps):
    with transaction.atomic():
        course = course_with_content(modules=2, lessons_per_module=2, published=True)
        learners = UserFactory.create_batch(3)
        for learner in learners:
            services.enrollment_create(user=learner, course=course, source="free")

        for step in steps:
            _apply(step, course, learners)
            for enrollment in Enrollment.objects.filter(course=course):
                stored = (enrollment.completed_required_lessons, enrollment.progress_percent)
                assert stored == _recount(enrollment), step
        transaction.set_rollback(True)
