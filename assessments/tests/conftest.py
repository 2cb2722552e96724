"""Fixtures of the assessments tests: a published course with a quiz lesson and an assignment
lesson, taught by `instructor`, with `student` enrolled; private files in a temporary
directory."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from assessments.tests.factories import AssignmentFactory, QuizFactory
from courses.models import Lesson
from courses.tests.factories import CourseFactory, LessonFactory, ModuleFactory
from enrollments.models import Enrollment
from enrollments.services import enrollment_create

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "private", "base_url": None},
        },
    }


@pytest.fixture
def course(instructor):
    return CourseFactory(owner=instructor, published=True)


@pytest.fixture
def module(course):
    return ModuleFactory(course=course, position=1)


@pytest.fixture
def quiz_lesson(module):
    return LessonFactory(module=module, kind=Lesson.Kind.QUIZ, position=1, title="Quiz one")


@pytest.fixture
def assignment_lesson(module):
    return LessonFactory(module=module, kind=Lesson.Kind.ASSIGNMENT, position=2, title="Essay one")


@pytest.fixture
def quiz(quiz_lesson):
    return QuizFactory(lesson=quiz_lesson)


@pytest.fixture
def assignment(assignment_lesson):
    return AssignmentFactory(lesson=assignment_lesson)


def enrol(user, course) -> Enrollment:
    enrollment, _ = enrollment_create(user=user, course=course, source=Enrollment.Source.ADMIN)
    return enrollment


@pytest.fixture
def enrolled(student, course):
    """`student`'s enrolment in `course`."""
    return enrol(student, course)


def pdf_file(name="essay.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")
