"""Enrolling, cancelling, completing lessons and courses.

Locks are always taken in the same order, course row first, then the enrolment row, so
concurrent enrolments, cancellations and completions serialise instead of deadlocking.
"""

import uuid
from datetime import datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from accounts.selectors import user_check_email_verified
from courses.errors import LessonLocked, NotEnrolled
from courses.models import Course, Lesson
from courses.selectors import course_get_for_update
from courses.services import course_enrollment_count_add
from enrollments import hooks
from enrollments.errors import (
    CompletedByAssessment,
    CourseArchived,
    CourseFull,
    CourseNotPublished,
    EnrollmentClosed,
    EnrollmentNotActive,
    PaymentRequired,
)
from enrollments.models import Enrollment, LessonProgress
from lms import events
from lms.mail import send_templated_email


def _publish(event_type: str, enrollment: Enrollment, *, course: Course | None = None) -> None:
    """Announce an enrolment event inside the caller's transaction (webhook outbox, metrics)."""
    course = course or enrollment.course
    events.publish(
        event_type,
        {
            "enrollment_id": enrollment.pk,
            "user_id": enrollment.user_id,
            "course_id": enrollment.course_id,
            "course_slug": course.slug,
            "status": enrollment.status,
            "source": enrollment.source,
            "enrolled_at": enrollment.enrolled_at,
            "completed_at": enrollment.completed_at,
        },
    )


def _check_enrollable(*, course: Course, source: str, now: datetime) -> None:
    """The rules every enrolment path shares. The caller holds the course lock."""
    if course.status == Course.Status.DRAFT:
        raise CourseNotPublished()
    if course.status == Course.Status.ARCHIVED:
        raise CourseArchived()
    if source == Enrollment.Source.FREE and not course.is_free:
        raise PaymentRequired()
    if not course.is_open_for_enrollment(now):
        raise EnrollmentClosed()
    if course.seat_capacity is not None and course.enrollment_count >= course.seat_capacity:
        raise CourseFull()


def enrollment_create(
    *, user: User, course: Course, source: str, now: datetime | None = None
) -> tuple[Enrollment, bool]:
    """Enrol a learner: the one path for free, purchase, admin and import enrolments.

    Returns the enrolment and whether it now holds a new seat (False when the learner was
    already enrolled, which is not an error). A cancelled or refunded enrolment is
    reactivated with its progress. The course row lock makes the seat check exact under
    concurrency; the (user, course) unique constraint backs it up.
    """
    now = now or timezone.now()
    if source == Enrollment.Source.FREE:
        user_check_email_verified(user=user)  # staff grants and imports are exempt
    with transaction.atomic():
        course = course_get_for_update(pk=course.pk)
        enrollment = Enrollment.objects.select_for_update().filter(user=user, course=course).first()
        if enrollment is not None and enrollment.is_active:
            return enrollment, False
        _check_enrollable(course=course, source=source, now=now)
        if enrollment is None:
            enrollment = Enrollment(user=user, course=course, source=source, enrolled_at=now)
            enrollment.full_clean(validate_unique=False, validate_constraints=False)
            enrollment.save()
        else:
            enrollment.status = Enrollment.Status.ACTIVE
            enrollment.source = source
            enrollment.cancelled_at = None
            enrollment.save(update_fields=["status", "source", "cancelled_at", "updated_at"])
        course_enrollment_count_add(course=course, delta=1)
        _recount(Enrollment.objects.filter(pk=enrollment.pk), course_id=course.pk)
        enrollment.refresh_from_db()
        _publish(events.ENROLLMENT_CREATED, enrollment, course=course)
        _complete_if_done(enrollment, now=now)
        send_templated_email(
            to=[user.email],
            subject=f"You are enrolled in {course.title}",
            template="course_enrolled",
            context={
                "full_name": user.full_name,
                "course_title": course.title,
                "course_url": f"{settings.SITE_URL}/courses/{course.slug}/",
            },
        )
        for callback in hooks.enrollment_callbacks():
            transaction.on_commit(partial(callback, enrollment.pk))
    return enrollment, True


@transaction.atomic
def enrollment_cancel(
    *, enrollment: Enrollment, status: str = Enrollment.Status.CANCELLED
) -> Enrollment:
    """End access (cancelled, or refunded by payments); the row and progress are kept.

    Cancelling twice is a no-op; a refunded enrolment stays refunded.
    """
    course = course_get_for_update(pk=enrollment.course_id)
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if enrollment.status == status:
        return enrollment
    if enrollment.status == Enrollment.Status.REFUNDED:
        raise EnrollmentNotActive()
    if enrollment.is_active:
        course_enrollment_count_add(course=course, delta=-1)
    enrollment.status = status
    enrollment.cancelled_at = timezone.now()
    enrollment.save(update_fields=["status", "cancelled_at", "updated_at"])
    for callback in hooks.revocation_callbacks():
        transaction.on_commit(partial(callback, enrollment.pk, status))
    return enrollment


def _active_enrollment_for_update(*, user: User, course_id: uuid.UUID) -> Enrollment:
    enrollment = (
        Enrollment.objects.select_for_update()
        .filter(user=user, course_id=course_id, status__in=Enrollment.HOLDS_SEAT)
        .first()
    )
    if enrollment is None:
        raise NotEnrolled()
    return enrollment


def _check_unlocked(*, lesson: Lesson, enrollment: Enrollment, now: datetime) -> None:
    unlocks_at = lesson.unlocks_at(enrollment.enrolled_at)
    if unlocks_at and unlocks_at > now:
        raise LessonLocked(unlocks_at=unlocks_at)


def _required_lesson_total(course_id: uuid.UUID) -> int:
    return Lesson.objects.filter(module__course_id=course_id, is_required=True).count()


@transaction.atomic
def lesson_complete(
    *, user: User, lesson: Lesson, now: datetime | None = None
) -> tuple[LessonProgress, Enrollment]:
    """Mark a lesson complete for an enrolled learner (idempotent) and update the progress.

    The stored count moves by one instead of recounting the course; completing the last
    requirement completes the enrolment.
    """
    now = now or timezone.now()
    course_id = lesson.module.course_id
    enrollment = _active_enrollment_for_update(user=user, course_id=course_id)
    _check_unlocked(lesson=lesson, enrollment=enrollment, now=now)
    # A new record is written completed at once (no second UPDATE for the usual case).
    progress, created = LessonProgress.objects.get_or_create(
        enrollment=enrollment, lesson=lesson, defaults={"completed_at": now}
    )
    updates: dict[str, Any] = {"last_accessed_at": now}
    total = None
    if created or progress.completed_at is None:
        if not created:
            progress.completed_at = now
            progress.save(update_fields=["completed_at", "updated_at"])
        if lesson.is_required:
            total = _required_lesson_total(course_id)
            done = enrollment.completed_required_lessons + 1
            updates |= {
                "completed_required_lessons": done,
                "progress_percent": min(done * 100 // total, 100) if total else 0,
            }
    for name, value in updates.items():
        setattr(enrollment, name, value)
    enrollment.save(update_fields=[*updates, "updated_at"])
    _complete_if_done(enrollment, now=now, total=total)
    return progress, enrollment


def lesson_complete_by_learner(
    *, user: User, lesson: Lesson, now: datetime | None = None
) -> tuple[LessonProgress, Enrollment]:
    """A learner marks a lesson done. Quiz and assignment lessons complete only through their
    assessment (a pass or a passing grade), never by hand."""
    if lesson.kind in (Lesson.Kind.QUIZ, Lesson.Kind.ASSIGNMENT):
        raise CompletedByAssessment()
    return lesson_complete(user=user, lesson=lesson, now=now)


@transaction.atomic
def lesson_progress_save(
    *,
    user: User,
    lesson: Lesson,
    position_seconds: int,
    time_spent_seconds: int = 0,
    now: datetime | None = None,
) -> LessonProgress:
    """Remember the video position and add time spent (a delta since the last call)."""
    now = now or timezone.now()
    enrollment = _active_enrollment_for_update(user=user, course_id=lesson.module.course_id)
    _check_unlocked(lesson=lesson, enrollment=enrollment, now=now)
    progress, _ = LessonProgress.objects.get_or_create(enrollment=enrollment, lesson=lesson)
    LessonProgress.objects.filter(pk=progress.pk).update(
        position_seconds=position_seconds,
        time_spent_seconds=F("time_spent_seconds") + time_spent_seconds,
        updated_at=now,
    )
    Enrollment.objects.filter(pk=enrollment.pk).update(last_accessed_at=now, updated_at=now)
    progress.refresh_from_db()
    return progress


def _requirements_met(enrollment: Enrollment, *, total: int) -> bool:
    """The completion rule: every required lesson done, plus the registered requirements."""
    return (
        total > 0
        and enrollment.completed_required_lessons >= total
        and hooks.extra_requirements_met(enrollment)
    )


def _schedule_completion_callbacks(enrollment: Enrollment) -> None:
    """Run the completion callbacks once the transaction that completed `enrollment` commits."""
    for callback in hooks.completion_callbacks():
        transaction.on_commit(partial(callback, enrollment.pk))


def _complete_if_done(enrollment: Enrollment, *, now: datetime, total: int | None = None) -> bool:
    """Complete an active enrolment whose requirements are met; once. Caller holds its lock.

    `total` is the course's required lesson count when the caller has just counted it.
    """
    if enrollment.status != Enrollment.Status.ACTIVE:
        return False
    if total is None:
        total = _required_lesson_total(enrollment.course_id)
    if not _requirements_met(enrollment, total=total):
        return False
    enrollment.status = Enrollment.Status.COMPLETED
    enrollment.completed_at = now
    enrollment.save(update_fields=["status", "completed_at", "updated_at"])
    _publish(events.ENROLLMENT_COMPLETED, enrollment)
    _schedule_completion_callbacks(enrollment)
    return True


@transaction.atomic
def enrollment_evaluate_completion(*, enrollment: Enrollment) -> bool:
    """Re-check completion after something outside lessons changed (e.g. a quiz was passed)."""
    course_get_for_update(pk=enrollment.course_id)
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    return _complete_if_done(enrollment, now=timezone.now())


def _recount(enrollments: QuerySet[Enrollment], *, course_id: uuid.UUID) -> int:
    """Set the stored progress of `enrollments` (of one course) from their lesson records.

    Returns how many rows had drifted. Two UPDATE statements whatever the number of rows.
    """
    total = _required_lesson_total(course_id)
    done = Coalesce(
        Subquery(
            LessonProgress.objects.filter(
                enrollment=OuterRef("pk"), completed_at__isnull=False, lesson__is_required=True
            )
            .order_by()
            .values("enrollment")
            .annotate(count=Count("pk"))
            .values("count")
        ),
        Value(0),
    )
    expected_percent = done * 100 / total if total else Value(0)
    drifted = (
        enrollments.annotate(expected_done=done, expected_percent=expected_percent)
        .filter(
            ~Q(completed_required_lessons=F("expected_done"))
            | ~Q(progress_percent=F("expected_percent"))
        )
        .count()
    )
    enrollments.update(completed_required_lessons=done)
    enrollments.update(
        progress_percent=F("completed_required_lessons") * 100 / total if total else Value(0)
    )
    return drifted


@transaction.atomic
def enrollment_progress_recount(*, course_id: uuid.UUID) -> int:
    """Recount every enrolment of a course and complete those now done; return the drift.

    Runs when the course's lessons change (the courses content hook) and from
    `manage.py recompute_progress`.
    """
    course_get_for_update(pk=course_id)
    drifted = _recount(Enrollment.objects.filter(course_id=course_id), course_id=course_id)
    total = _required_lesson_total(course_id)
    candidates = Enrollment.objects.select_for_update().filter(
        course_id=course_id,
        status=Enrollment.Status.ACTIVE,
        completed_required_lessons__gte=total,
    )
    now = timezone.now()
    for enrollment in candidates if total else []:
        _complete_if_done(enrollment, now=now)
    return drifted


@transaction.atomic
def enrollment_mark_completed(*, enrollment: Enrollment) -> Enrollment:
    """Complete an active enrolment whatever its progress (staff override from the admin).

    Fires the completion callbacks after the commit, like a completion earned through the
    lessons. Anything but an active enrolment is returned unchanged.
    """
    course_get_for_update(pk=enrollment.course_id)
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if enrollment.status != Enrollment.Status.ACTIVE:
        return enrollment
    enrollment.status = Enrollment.Status.COMPLETED
    enrollment.completed_at = timezone.now()
    enrollment.save(update_fields=["status", "completed_at", "updated_at"])
    _publish(events.ENROLLMENT_COMPLETED, enrollment)
    _schedule_completion_callbacks(enrollment)
    return enrollment
