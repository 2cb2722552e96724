"""Reads of enrolments and progress: the learner's view, the roster and the analytics."""

import uuid
from typing import Any

from django.db.models import (
    Avg,
    Count,
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.shortcuts import get_object_or_404

from accounts.models import User
from courses.hooks import LearnerState
from courses.models import Course, Lesson
from courses.selectors import AnyUser, user_can_manage_course
from enrollments import hooks
from enrollments.models import Enrollment, LessonProgress


def learner_state(user: User, course_id: uuid.UUID) -> LearnerState:
    """The courses app's learner-state provider: enrolment and completed lessons.

    One query: the enrolment LEFT JOINed to its completed lessons (a row per lesson, or one
    row with no lesson), since the outline and every lesson read ask it.
    """
    rows = list(
        Enrollment.objects.filter(user=user, course_id=course_id, status__in=Enrollment.HOLDS_SEAT)
        .annotate(
            completed=FilteredRelation(
                "lesson_progress", condition=Q(lesson_progress__completed_at__isnull=False)
            )
        )
        .values_list("enrolled_at", "completed__lesson_id")
    )
    if not rows:
        return LearnerState()
    return LearnerState(
        is_enrolled=True,
        enrolled_at=rows[0][0],
        completed_lesson_ids=frozenset(lesson for _, lesson in rows if lesson is not None),
    )


def _next_lesson(field: str) -> Subquery:
    """The first lesson in reading order that the enrolment has not completed."""
    completed = LessonProgress.objects.filter(
        enrollment=OuterRef(OuterRef("pk")), lesson=OuterRef("pk"), completed_at__isnull=False
    )
    return Subquery(
        Lesson.objects.filter(module__course=OuterRef("course"))
        .exclude(Exists(completed))
        .order_by("module__position", "position")
        .values(field)[:1]
    )


def enrollment_list_for_learner(*, user: User) -> QuerySet[Enrollment]:
    """My learning: every enrolment with its course and the lesson to continue with."""
    return (
        Enrollment.objects.filter(user=user)
        .select_related("course", "course__owner")
        .annotate(next_lesson_id=_next_lesson("id"), next_lesson_title=_next_lesson("title"))
        .order_by(F("last_accessed_at").desc(nulls_last=True), "-enrolled_at")
    )


def enrollment_get_visible(*, user: AnyUser, pk: uuid.UUID) -> Enrollment:
    """The learner's own enrolment; the course's instructors and admins see any of theirs."""
    enrollment = get_object_or_404(
        Enrollment.objects.select_related("course", "course__owner", "user"), pk=pk
    )
    if enrollment.user_id == user.pk or user_can_manage_course(user=user, course=enrollment.course):
        return enrollment
    raise Enrollment.DoesNotExist


def enrollment_for_learner(*, user: User, course: Course) -> Enrollment | None:
    return Enrollment.objects.filter(user=user, course=course).first()


def course_roster(*, course: Course) -> QuerySet[Enrollment]:
    """The course's learners with their progress (filtered and ordered by RosterFilter)."""
    return (
        Enrollment.objects.filter(course=course)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


def course_analytics(*, course: Course, user: User) -> dict[str, Any]:
    """Enrolment and completion figures for instructors, in two aggregate queries, plus the
    sections later apps register (revenue, quiz averages)."""
    holding = Q(status__in=Enrollment.HOLDS_SEAT)
    totals = Enrollment.objects.filter(course=course).aggregate(
        total=Count("pk"),
        active=Count("pk", filter=Q(status=Enrollment.Status.ACTIVE)),
        completed=Count("pk", filter=Q(status=Enrollment.Status.COMPLETED)),
        cancelled=Count("pk", filter=Q(status=Enrollment.Status.CANCELLED)),
        refunded=Count("pk", filter=Q(status=Enrollment.Status.REFUNDED)),
        average_progress=Avg("progress_percent", filter=holding),
    )
    learners = totals["active"] + totals["completed"]
    funnel = (
        Lesson.objects.filter(module__course=course)
        .order_by("module__position", "position")
        .annotate(
            completions=Count(
                "progress_records",
                filter=Q(
                    progress_records__completed_at__isnull=False,
                    progress_records__enrollment__status__in=Enrollment.HOLDS_SEAT,
                ),
            )
        )
        .values("id", "title", "module__position", "position", "is_required", "completions")
    )
    return {
        "sections": {
            name: section(course)
            for name, section in hooks.analytics_sections(
                include_owner_only=user.is_admin or course.owner_id == user.pk
            ).items()
        },
        "enrollments": {
            key: totals[key] for key in ("total", "active", "completed", "cancelled", "refunded")
        },
        "completion_rate": round(totals["completed"] / learners, 4) if learners else 0.0,
        "average_progress": round(totals["average_progress"] or 0.0, 2),
        "lessons": [
            {
                "id": row["id"],
                "title": row["title"],
                "module_position": row["module__position"],
                "position": row["position"],
                "is_required": row["is_required"],
                "completions": row["completions"],
                "completion_rate": round(row["completions"] / learners, 4) if learners else 0.0,
            }
            for row in funnel
        ],
    }
