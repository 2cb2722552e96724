"""Demo enrolments for `manage.py seed_demo`: the demo students in the published demo courses.

Everything goes through the enrolment services, so seats, progress and completion are what
a learner would get. Running it again changes nothing: enrollment_create finds the existing
enrolments, and only lessons not completed yet are completed.
"""

from django.core.management.base import OutputWrapper
from django.utils import timezone

from accounts.models import User
from courses.models import Course, Lesson
from courses.selectors import lesson_list_for_course
from enrollments.models import Enrollment
from enrollments.selectors import learner_state
from enrollments.services import enrollment_create, lesson_complete
from lms.exceptions import ApplicationError

# (learner, course slug, source, how many lessons to complete in reading order; None: all).
# The paid course is a staff grant: a purchase would need a payment behind it.
DEMO_ENROLLMENTS: list[tuple[str, str, str, int | None]] = [
    ("student@example.com", "python-for-beginners", Enrollment.Source.FREE, 3),
    ("student@example.com", "django-rest-apis", Enrollment.Source.ADMIN, 2),
    ("student2@example.com", "python-for-beginners", Enrollment.Source.FREE, None),
]


def _open_lessons(enrollment: Enrollment) -> list[Lesson]:
    """The course's lessons in reading order, without those still locked (drip, dates)."""
    now = timezone.now()
    lessons = lesson_list_for_course(course_id=enrollment.course_id).select_related("module")
    return [
        lesson
        for lesson in lessons
        if (unlocks_at := lesson.unlocks_at(enrollment.enrolled_at)) is None or unlocks_at <= now
    ]


def _complete_lessons(enrollment: Enrollment, *, count: int | None) -> None:
    done = learner_state(enrollment.user, enrollment.course_id).completed_lesson_ids
    for lesson in _open_lessons(enrollment)[:count]:
        # lesson_complete is idempotent, but it would still move last_accessed_at.
        if lesson.pk not in done:
            lesson_complete(user=enrollment.user, lesson=lesson)


def seed(*, stdout: OutputWrapper) -> None:
    """Enrol the demo students and give them some progress (once).

    Precondition: the demo users and courses exist (seed_demo runs accounts and courses first).
    """
    for email, slug, source, lessons in DEMO_ENROLLMENTS:
        user = User.objects.filter(email=email).first()
        course = Course.objects.filter(slug=slug).first()
        if user is None or course is None:
            stdout.write(f"enrolment  {email} in {slug} (skipped: no such user or course)")
            continue
        try:
            enrollment, _ = enrollment_create(user=user, course=course, source=source)
        except ApplicationError as error:  # e.g. the demo course was archived since
            stdout.write(f"enrolment  {email} in {slug} (skipped: {error.code})")
            continue
        _complete_lessons(enrollment, count=lessons)
        enrollment.refresh_from_db()
        stdout.write(
            f"enrolment  {email} in {slug} ({enrollment.status}, {enrollment.progress_percent}%)"
        )
