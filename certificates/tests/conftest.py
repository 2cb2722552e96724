"""Fixtures of the certificates tests: a course with certificates and a learner enrolled in it."""

import io

import pytest
from pypdf import PdfReader

from courses.models import Lesson
from courses.tests.factories import course_with_content
from enrollments import services as enrollment_services
from enrollments.models import Enrollment


@pytest.fixture
def course(instructor):
    """Published, free, certificates on, owned by `instructor`: one module of two lessons."""
    return course_with_content(
        lessons_per_module=2, owner=instructor, published=True, title="Practical Cryptography"
    )


@pytest.fixture
def enrollment(student, course) -> Enrollment:
    enrollment, _ = enrollment_services.enrollment_create(
        user=student, course=course, source=Enrollment.Source.FREE
    )
    return enrollment


def complete_course(enrollment: Enrollment) -> Enrollment:
    """Complete every lesson of the enrolment's course through the enrolment service."""
    for lesson in Lesson.objects.filter(module__course=enrollment.course):
        _, enrollment = enrollment_services.lesson_complete(user=enrollment.user, lesson=lesson)
    return enrollment


@pytest.fixture
def completed(enrollment, django_capture_on_commit_callbacks) -> Enrollment:
    """The learner completed the course, and everything after the commits ran (eagerly)."""
    with django_capture_on_commit_callbacks(execute=True):
        return complete_course(enrollment)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
