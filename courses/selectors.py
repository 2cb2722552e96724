"""Reads of courses and their content, scoped to what the caller may see."""

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from courses import hooks
from courses.errors import LessonLocked, NotEnrolled
from courses.models import Category, Course, Lesson, Module

AnyUser = User | AnonymousUser


def user_teaches_course(*, user: AnyUser, course: Course) -> bool:
    """The owner or a co-instructor (admins are handled by the callers' role checks)."""
    if not user.is_authenticated:
        return False
    if course.owner_id == user.pk:
        return True
    # all() uses the prefetched co-instructors when the selector loaded them.
    return any(co_instructor.pk == user.pk for co_instructor in course.co_instructors.all())


def user_can_manage_course(*, user: AnyUser, course: Course) -> bool:
    """Change the course and its content, and see it while it is a draft."""
    if not user.is_authenticated or not user.is_active:
        return False
    return bool(user.is_admin or user_teaches_course(user=user, course=course))


def _taught_by(user: User) -> Q:
    return Q(owner=user) | Q(
        Exists(
            Course.co_instructors.through.objects.filter(course_id=OuterRef("pk"), user_id=user.pk)
        )
    )


def course_list_taught(*, user: User) -> QuerySet[Course]:
    """Courses this user owns or co-teaches, in any status."""
    return Course.objects.filter(_taught_by(user))


def course_list_visible(*, user: AnyUser) -> QuerySet[Course]:
    """Every course the user may open: published and archived ones, plus drafts they manage."""
    courses = Course.objects.all()
    if user.is_authenticated and user.is_admin:
        return courses
    public = Q(status__in=[Course.Status.PUBLISHED, Course.Status.ARCHIVED])
    if isinstance(user, User):
        return courses.filter(public | _taught_by(user))
    return courses.filter(public)


def course_list_for_catalog(*, user: AnyUser) -> QuerySet[Course]:
    """Course rows with what the catalog shows (owner, category, co-instructors)."""
    return (
        course_list_visible(user=user)
        .select_related("owner", "category")
        .prefetch_related(
            Prefetch("co_instructors", queryset=User.objects.order_by("full_name", "email"))
        )
    )


def course_search(queryset: QuerySet[Course], text: str) -> QuerySet[Course]:
    """Full-text search ranked by relevance on PostgreSQL; a plain icontains on SQLite."""
    text = text.strip()
    if not text:
        return queryset
    if connection.vendor == "postgresql":
        query = SearchQuery(text, search_type="websearch", config="english")
        return (
            queryset.filter(search_vector=query)
            .annotate(search_rank=SearchRank(F("search_vector"), query))
            .order_by("-search_rank", "-published_at", "pk")
        )
    return queryset.filter(
        Q(title__icontains=text) | Q(subtitle__icontains=text) | Q(description__icontains=text)
    )


def _id_or_slug(id_or_slug: str) -> Q:
    try:
        return Q(pk=uuid.UUID(id_or_slug))
    except ValueError:
        return Q(slug=id_or_slug)


def course_get_visible(*, user: AnyUser, id_or_slug: str) -> Course:
    """By UUID or slug; 404 when the course does not exist or is a draft the user cannot see."""
    return get_object_or_404(course_list_for_catalog(user=user), _id_or_slug(id_or_slug))


def course_get_visible_row(*, user: AnyUser, id_or_slug: str) -> Course:
    """Like course_get_visible, but the course row alone (one query, no owner, category or
    co-instructors): for reads that need no more than its id and fields, e.g. the outline."""
    return get_object_or_404(course_list_visible(user=user), _id_or_slug(id_or_slug))


def course_get_for_update(*, pk: uuid.UUID) -> Course:
    """Lock the course row. Call inside a transaction; order of locks: course, then content."""
    return Course.objects.select_for_update(of=("self",)).get(pk=pk)


def module_list(*, course: Course) -> QuerySet[Module]:
    return Module.objects.filter(course=course).order_by("position")


def module_get_visible(*, user: AnyUser, pk: uuid.UUID) -> Module:
    modules = Module.objects.select_related("course").filter(
        course__in=course_list_visible(user=user)
    )
    return get_object_or_404(modules, pk=pk)


def lesson_list(*, module: Module) -> QuerySet[Lesson]:
    return Lesson.objects.filter(module=module).order_by("position").defer("body")


def lesson_get_visible(*, user: AnyUser, pk: uuid.UUID) -> Lesson:
    lessons = Lesson.objects.select_related("module__course").filter(
        module__course__in=course_list_visible(user=user)
    )
    return get_object_or_404(lessons, pk=pk)


def lesson_list_for_course(*, course_id: uuid.UUID) -> QuerySet[Lesson]:
    """Every lesson of a course in reading order (module position, then lesson position)."""
    return (
        Lesson.objects.filter(module__course_id=course_id)
        .order_by("module__position", "position")
        .defer("body")
    )


def course_outline_data(*, course: Course) -> dict[str, Any]:
    """The outline as plain data (cacheable): modules with lessons in order, no bodies.

    Two queries whatever the size of the course.
    """
    modules = list(module_list(course=course).values("id", "title", "position"))
    lessons = (
        Lesson.objects.filter(module__course=course)
        .order_by("position")
        .values(
            "id",
            "module_id",
            "title",
            "kind",
            "position",
            "duration_seconds",
            "is_preview",
            "is_required",
            "available_from",
            "available_after_days",
        )
    )
    lessons_by_module: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for lesson in lessons:
        row: dict[str, Any] = dict(lesson)
        lessons_by_module[row.pop("module_id")].append(row)
    return {
        "course_id": course.pk,
        "modules": [{**module, "lessons": lessons_by_module[module["id"]]} for module in modules],
    }


def lesson_check_access(*, user: AnyUser, lesson: Lesson, now: datetime | None = None) -> None:
    """Raise unless the user may read the lesson's body now.

    Previews, the course's instructors and admins always may; enrolled learners once the
    lesson's release date and drip delay have passed (403 `lesson_locked` before).
    """
    course = lesson.module.course
    if lesson.is_preview or user_can_manage_course(user=user, course=course):
        return
    state = hooks.learner_state(user=_as_user(user), course_id=course.pk)
    if not state.is_enrolled:
        raise NotEnrolled()
    unlocks_at = lesson.unlocks_at(state.enrolled_at)
    if unlocks_at and unlocks_at > (now or timezone.now()):
        raise LessonLocked(unlocks_at=unlocks_at)


def _as_user(user: AnyUser) -> User | None:
    return user if isinstance(user, User) else None


def category_list() -> QuerySet[Category]:
    return Category.objects.select_related("parent").order_by("name")
