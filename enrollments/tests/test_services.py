from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from courses import services as course_services
from courses.errors import LessonLocked, NotEnrolled
from courses.models import Course, Lesson
from courses.tests.factories import CourseFactory, LessonFactory, course_with_content
from enrollments import hooks, services
from enrollments.errors import (
    CourseArchived,
    CourseFull,
    CourseNotPublished,
    EnrollmentClosed,
    EnrollmentNotActive,
    PaymentRequired,
)
from enrollments.models import Enrollment, LessonProgress

pytestmark = pytest.mark.django_db

FREE = Enrollment.Source.FREE


def _lessons(course: Course) -> list[Lesson]:
    return list(
        Lesson.objects.filter(module__course=course).order_by("module__position", "position")
    )


def _enrol(user, course, source=FREE) -> Enrollment:
    enrollment, _ = services.enrollment_create(user=user, course=course, source=source)
    return enrollment


@pytest.fixture
def course():
    return course_with_content(modules=2, lessons_per_module=2, published=True)


# --- Enrolling ----------------------------------------------------------------------------


def test_enrolling_creates_an_active_enrolment_and_takes_a_seat(student, course):
    enrollment, created = services.enrollment_create(user=student, course=course, source=FREE)

    course.refresh_from_db()
    assert created is True
    assert enrollment.status == Enrollment.Status.ACTIVE
    assert enrollment.source == FREE
    assert course.enrollment_count == 1


def test_enrolling_sends_the_enrolment_email_after_commit(
    student, course, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _enrol(student, course)

    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [student.email]
    assert course.title in mailoutbox[0].subject
    assert f"/courses/{course.slug}/" in mailoutbox[0].body


def test_enrolling_twice_keeps_one_seat(student, course):
    _enrol(student, course)

    _, created = services.enrollment_create(user=student, course=course, source=FREE)

    course.refresh_from_db()
    assert created is False
    assert course.enrollment_count == 1
    assert Enrollment.objects.count() == 1


def test_free_enrolment_in_a_paid_course_needs_payment(student, mailoutbox):
    course = course_with_content(published=True, paid=True)

    with pytest.raises(PaymentRequired):
        _enrol(student, course)

    course.refresh_from_db()
    assert Enrollment.objects.count() == 0
    assert course.enrollment_count == 0


def test_purchase_enrols_in_a_paid_course(student):
    course = course_with_content(published=True, paid=True)

    enrollment = _enrol(student, course, source=Enrollment.Source.PURCHASE)

    assert enrollment.source == Enrollment.Source.PURCHASE


def test_draft_course_takes_no_enrolment(student):
    with pytest.raises(CourseNotPublished):
        _enrol(student, course_with_content())


def test_archived_course_takes_no_enrolment(student):
    with pytest.raises(CourseArchived):
        _enrol(student, course_with_content(archived=True))


@pytest.mark.parametrize(
    ("opens", "closes"),
    [(timedelta(days=1), None), (None, timedelta(days=-1)), (timedelta(days=2), timedelta(days=3))],
)
def test_enrolment_outside_the_window_is_closed(student, opens, closes):
    now = timezone.now()
    course = course_with_content(
        published=True,
        enrollment_opens_at=now + opens if opens else None,
        enrollment_closes_at=now + closes if closes else None,
    )

    with pytest.raises(EnrollmentClosed):
        _enrol(student, course)


def test_full_course_refuses_the_next_learner(student, other_student):
    course = course_with_content(published=True, seat_capacity=1)
    _enrol(other_student, course)

    with pytest.raises(CourseFull):
        _enrol(student, course)

    assert Enrollment.objects.filter(course=course).count() == 1


def test_every_path_applies_the_seat_limit(student, other_student):
    course = course_with_content(published=True, seat_capacity=1)
    _enrol(other_student, course)

    with pytest.raises(CourseFull):
        _enrol(student, course, source=Enrollment.Source.ADMIN)


# --- Cancelling and re-enrolling ----------------------------------------------------------


def test_cancelling_frees_the_seat_and_keeps_the_row(student, course):
    enrollment = _enrol(student, course)

    services.enrollment_cancel(enrollment=enrollment)

    enrollment.refresh_from_db()
    course.refresh_from_db()
    assert enrollment.status == Enrollment.Status.CANCELLED
    assert enrollment.cancelled_at is not None
    assert course.enrollment_count == 0


def test_cancelling_twice_changes_nothing(student, course):
    enrollment = _enrol(student, course)
    services.enrollment_cancel(enrollment=enrollment)

    services.enrollment_cancel(enrollment=enrollment)

    course.refresh_from_db()
    assert course.enrollment_count == 0


def test_revocation_hook_runs_after_commit_with_the_new_status(
    student, course, monkeypatch, django_capture_on_commit_callbacks
):
    calls: list = []
    monkeypatch.setattr(hooks, "_revocation_callbacks", [lambda *args: calls.append(args)])
    enrollment = _enrol(student, course)

    with django_capture_on_commit_callbacks(execute=True):
        services.enrollment_cancel(enrollment=enrollment, status=Enrollment.Status.REFUNDED)

    assert calls == [(enrollment.pk, "refunded")]


def test_refunded_enrolment_cannot_be_cancelled(student, course):
    enrollment = _enrol(student, course)
    services.enrollment_cancel(enrollment=enrollment, status=Enrollment.Status.REFUNDED)

    with pytest.raises(EnrollmentNotActive):
        services.enrollment_cancel(enrollment=enrollment)


def test_re_enrolling_reactivates_the_row_with_its_progress(student, course):
    enrollment = _enrol(student, course)
    services.lesson_complete(user=student, lesson=_lessons(course)[0])
    services.enrollment_cancel(enrollment=enrollment)

    again, created = services.enrollment_create(user=student, course=course, source=FREE)

    course.refresh_from_db()
    assert created is True
    assert again.pk == enrollment.pk
    assert again.status == Enrollment.Status.ACTIVE
    assert again.progress_percent == 25
    assert course.enrollment_count == 1


# --- Lessons and progress -----------------------------------------------------------------


def test_completing_a_lesson_updates_the_progress(student, course):
    _enrol(student, course)

    progress, enrollment = services.lesson_complete(user=student, lesson=_lessons(course)[0])

    assert progress.completed_at is not None
    assert enrollment.completed_required_lessons == 1
    assert enrollment.progress_percent == 25
    assert enrollment.last_accessed_at is not None


def test_completing_a_lesson_twice_counts_once(student, course):
    _enrol(student, course)
    first, _ = services.lesson_complete(user=student, lesson=_lessons(course)[0])

    second, enrollment = services.lesson_complete(user=student, lesson=_lessons(course)[0])

    assert second.completed_at == first.completed_at
    assert enrollment.progress_percent == 25
    assert LessonProgress.objects.count() == 1


def test_optional_lessons_do_not_count_toward_progress(student, course):
    _enrol(student, course)
    optional = _lessons(course)[0]
    Lesson.objects.filter(pk=optional.pk).update(is_required=False)
    optional.refresh_from_db()
    services.enrollment_progress_recount(course_id=course.pk)

    _, enrollment = services.lesson_complete(user=student, lesson=optional)

    assert enrollment.progress_percent == 0


def test_completing_without_an_enrolment_is_refused(student, course):
    with pytest.raises(NotEnrolled):
        services.lesson_complete(user=student, lesson=_lessons(course)[0])

    assert LessonProgress.objects.count() == 0


def test_completing_after_cancelling_is_refused(student, course):
    services.enrollment_cancel(enrollment=_enrol(student, course))

    with pytest.raises(NotEnrolled):
        services.lesson_complete(user=student, lesson=_lessons(course)[0])


def test_lesson_before_its_release_date_is_locked(student, course):
    _enrol(student, course)
    release = timezone.now() + timedelta(days=3)
    lesson = _lessons(course)[0]
    Lesson.objects.filter(pk=lesson.pk).update(available_from=release)
    lesson.refresh_from_db()

    with pytest.raises(LessonLocked) as error:
        services.lesson_complete(user=student, lesson=lesson)

    assert error.value.unlocks_at == release
    assert LessonProgress.objects.count() == 0


def test_drip_lesson_unlocks_days_after_enrolment(student, course):
    enrollment = _enrol(student, course)
    lesson = _lessons(course)[0]
    Lesson.objects.filter(pk=lesson.pk).update(available_after_days=7)
    lesson.refresh_from_db()

    with pytest.raises(LessonLocked):
        services.lesson_complete(user=student, lesson=lesson)
    progress, _ = services.lesson_complete(
        user=student, lesson=lesson, now=enrollment.enrolled_at + timedelta(days=7, seconds=1)
    )

    assert progress.completed_at is not None


def test_saving_the_position_adds_time_spent(student, course):
    _enrol(student, course)
    lesson = _lessons(course)[0]
    services.lesson_progress_save(
        user=student, lesson=lesson, position_seconds=30, time_spent_seconds=30
    )

    progress = services.lesson_progress_save(
        user=student, lesson=lesson, position_seconds=75, time_spent_seconds=45
    )

    assert progress.position_seconds == 75
    assert progress.time_spent_seconds == 75
    assert progress.completed_at is None


# --- Completion ---------------------------------------------------------------------------


@pytest.fixture
def completions(monkeypatch):
    """Record the completion hook's calls."""
    calls: list = []
    monkeypatch.setattr(hooks, "_completion_callbacks", [calls.append])
    return calls


def test_completing_every_required_lesson_completes_the_enrolment_once(
    student, course, completions, django_capture_on_commit_callbacks
):
    enrollment = _enrol(student, course)

    with django_capture_on_commit_callbacks(execute=True):
        for lesson in _lessons(course):
            services.lesson_complete(user=student, lesson=lesson)
        services.lesson_complete(user=student, lesson=_lessons(course)[-1])

    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.COMPLETED
    assert enrollment.completed_at is not None
    assert enrollment.progress_percent == 100
    assert completions == [enrollment.pk]


def test_completion_hook_does_not_fire_when_the_transaction_rolls_back(
    student, course, completions, django_capture_on_commit_callbacks
):
    _enrol(student, course)
    for lesson in _lessons(course)[:-1]:
        services.lesson_complete(user=student, lesson=lesson)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.lesson_complete(user=student, lesson=_lessons(course)[-1])

    assert len(callbacks) == 1  # queued for the commit, not run inside the transaction
    assert completions == []


def test_a_registered_requirement_holds_back_completion(student, course, monkeypatch):
    monkeypatch.setattr(hooks, "_completion_requirements", [lambda enrollment: False])
    enrollment = _enrol(student, course)

    for lesson in _lessons(course):
        services.lesson_complete(user=student, lesson=lesson)

    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE
    assert enrollment.progress_percent == 100


def test_removing_the_last_missing_lesson_completes_the_enrolment(student, course):
    enrollment = _enrol(student, course)
    *done, missing = _lessons(course)
    for lesson in done:
        services.lesson_complete(user=student, lesson=lesson)

    course_services.lesson_delete(lesson=missing)

    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.COMPLETED
    assert enrollment.progress_percent == 100


def test_adding_a_required_lesson_lowers_the_progress(student, course, instructor):
    _enrol(student, course)
    services.lesson_complete(user=student, lesson=_lessons(course)[0])

    course_services.lesson_create(module=course.modules.first(), title="New")

    enrollment = Enrollment.objects.get(user=student)
    assert enrollment.progress_percent == 20


def test_recount_repairs_drift_and_reports_it(student, other_student, course):
    _enrol(student, course)
    _enrol(other_student, course)
    services.lesson_complete(user=student, lesson=_lessons(course)[0])
    drift = {"completed_required_lessons": 3, "progress_percent": 75}
    Enrollment.objects.filter(user=student).update(**drift)

    drifted = services.enrollment_progress_recount(course_id=course.pk)

    enrollment = Enrollment.objects.get(user=student)
    assert drifted == 1
    assert (enrollment.completed_required_lessons, enrollment.progress_percent) == (1, 25)


def test_course_with_enrolments_cannot_be_deleted(student, course):
    from courses.errors import CourseHasEnrollments

    services.enrollment_cancel(enrollment=_enrol(student, course))

    with pytest.raises(CourseHasEnrollments):
        course_services.course_delete(course=course)

    assert Course.objects.filter(pk=course.pk).exists()


def test_course_without_lessons_is_never_completed(student):
    course = CourseFactory(published=True)

    enrollment = _enrol(student, course)

    assert enrollment.status == Enrollment.Status.ACTIVE
    assert enrollment.progress_percent == 0


def test_enrolment_counts_only_active_and_completed(student, other_student, course):
    _enrol(student, course)
    services.enrollment_cancel(enrollment=_enrol(other_student, course))
    third = UserFactory()
    _enrol(third, course)

    course.refresh_from_db()
    assert course.enrollment_count == 2


def test_lesson_factory_helper_is_in_reading_order(course):
    extra = LessonFactory(module=course.modules.get(position=1), position=3)

    assert _lessons(course)[2] == extra
