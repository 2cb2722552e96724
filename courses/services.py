"""Every write to categories, courses, modules and lessons.

Content writes lock the course row first, so positions are assigned and reordered one writer at
a time, and invalidate the course's cached outline and the catalog.
"""

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Model, ProtectedError
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from courses import caching, hooks
from courses.errors import (
    CourseHasEnrollments,
    CourseNotPublishable,
    InvalidInstructor,
    InvalidOrder,
    SlugTaken,
)
from courses.models import Category, Course, Lesson, Module
from courses.selectors import course_get_for_update

COURSE_EDITABLE_FIELDS = (
    "slug",
    "title",
    "subtitle",
    "description",
    "language",
    "level",
    "category",
    "cover_image",
    "price_amount",
    "currency",
    "seat_capacity",
    "enrollment_opens_at",
    "enrollment_closes_at",
    "metadata",
    "certificate_enabled",
)
MODULE_EDITABLE_FIELDS = ("title", "description")
LESSON_EDITABLE_FIELDS = (
    "title",
    "kind",
    "body",
    "video_url",
    "duration_seconds",
    "attachment",
    "is_preview",
    "is_required",
    "available_from",
    "available_after_days",
)
# Lesson fields whose change alters which lessons count toward progress.
LESSON_PROGRESS_FIELDS = {"is_required"}


def _model_update(instance: Model, *, fields: Iterable[str], data: dict[str, Any]) -> set[str]:
    """Set the given fields from data, validate, save only what changed; return what changed."""
    changed = {name for name in fields if name in data and getattr(instance, name) != data[name]}
    for name in changed:
        setattr(instance, name, data[name])
    if changed:
        instance.full_clean()
        instance.save(update_fields=[*changed, "updated_at"])
    return changed


def _unique_slug(base: str, *, exclude_pk: uuid.UUID | None = None) -> str:
    base = slugify(base)[:100].strip("-") or f"course-{uuid.uuid4().hex[:8]}"
    candidates = Course.objects.filter(slug__startswith=base)
    if exclude_pk is not None:
        candidates = candidates.exclude(pk=exclude_pk)
    taken = set(candidates.values_list("slug", flat=True))
    slug, suffix = base, 2
    while slug in taken:
        slug, suffix = f"{base}-{suffix}", suffix + 1
    return slug


def _save_course(course: Course, **save_kwargs: Any) -> None:
    """Save under a savepoint so a lost slug race answers 409 instead of breaking the request."""
    try:
        with transaction.atomic():
            course.save(**save_kwargs)
    except IntegrityError:
        if Course.objects.filter(slug=course.slug).exclude(pk=course.pk).exists():
            raise SlugTaken() from None
        raise


def _check_slug_free(slug: str, *, exclude_pk: uuid.UUID | None = None) -> None:
    others = Course.objects.filter(slug=slug)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        raise SlugTaken()


def _validate_co_instructors(users: Sequence[User], *, owner: User) -> list[User]:
    if any(not user.is_active or not (user.is_instructor or user.is_admin) for user in users):
        raise InvalidInstructor()
    return [user for user in users if user.pk != owner.pk]


# --- Categories ---------------------------------------------------------------------------


def category_create(*, name: str, slug: str = "", parent: Category | None = None) -> Category:
    category = Category(name=name, slug=slug or slugify(name), parent=parent)
    category.full_clean()
    category.save()
    caching.invalidate_catalog()
    return category


# --- Courses ------------------------------------------------------------------------------


@transaction.atomic
def course_create(
    *,
    owner: User,
    title: str,
    slug: str = "",
    co_instructors: Sequence[User] = (),
    **fields: Any,
) -> Course:
    """A new draft owned by `owner`. A slug is made from the title when none is given."""
    unknown = set(fields) - set(COURSE_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown course fields: {sorted(unknown)}")
    if slug:
        slug = slug.lower()
        _check_slug_free(slug)
    else:
        slug = _unique_slug(title)
    course = Course(owner=owner, title=title, slug=slug, **fields)
    course.full_clean(validate_unique=False)
    _save_course(course)
    course.co_instructors.set(_validate_co_instructors(co_instructors, owner=owner))
    caching.invalidate_course(course.pk)
    return course


@transaction.atomic
def course_update(*, course: Course, actor: User, data: dict[str, Any]) -> Course:
    """Change a course's fields; only the owner and admins change the co-instructors."""
    course = course_get_for_update(pk=course.pk)
    if "slug" in data:
        data = {**data, "slug": data["slug"].lower()}
        _check_slug_free(data["slug"], exclude_pk=course.pk)
    seat_capacity = data.get("seat_capacity", course.seat_capacity)
    if seat_capacity is not None and seat_capacity < course.enrollment_count:
        raise ValidationError(
            {"seat_capacity": f"{course.enrollment_count} learners are already enrolled."},
            code="capacity_below_enrolled",
        )
    changed = set()
    try:
        with transaction.atomic():
            changed = _model_update(course, fields=COURSE_EDITABLE_FIELDS, data=data)
    except IntegrityError:
        if "slug" in data and Course.objects.filter(slug=data["slug"]).exists():
            raise SlugTaken() from None
        raise
    if "co_instructors" in data:
        if not (actor.is_admin or actor.pk == course.owner_id):
            raise PermissionDenied("Only the owner or an admin can change the co-instructors.")
        course.co_instructors.set(
            _validate_co_instructors(data["co_instructors"], owner=course.owner)
        )
        changed.add("co_instructors")
    if changed:
        caching.invalidate_course(course.pk)
    return course


def publication_problems(course: Course) -> dict[str, list[str]]:
    """What keeps a course from being published, by field; empty when it is ready."""
    problems: dict[str, list[str]] = {}
    if not course.title.strip():
        problems["title"] = ["A published course needs a title."]
    if not course.description.strip():
        problems["description"] = ["A published course needs a description."]
    modules = list(course.modules.all())
    if not modules:
        problems["modules"] = ["A published course needs at least one module."]
    elif not Lesson.objects.filter(module__course=course).exists():
        problems["lessons"] = ["A published course needs at least one lesson."]
    return problems


@transaction.atomic
def course_publish(*, course: Course) -> Course:
    """Publish a draft or archived course after validating it; publishing twice is a no-op."""
    course = course_get_for_update(pk=course.pk)
    if course.status == Course.Status.PUBLISHED:
        return course
    problems = publication_problems(course)
    if problems:
        raise CourseNotPublishable(fields=problems)
    course.status = Course.Status.PUBLISHED
    course.published_at = course.published_at or timezone.now()
    course.save(update_fields=["status", "published_at", "updated_at"])
    caching.invalidate_course(course.pk)
    return course


@transaction.atomic
def course_archive(*, course: Course) -> Course:
    """Take a course out of the catalog; enrolled learners keep their access."""
    course = course_get_for_update(pk=course.pk)
    if course.status != Course.Status.ARCHIVED:
        course.status = Course.Status.ARCHIVED
        course.save(update_fields=["status", "updated_at"])
        caching.invalidate_course(course.pk)
    return course


@transaction.atomic
def course_delete(*, course: Course) -> None:
    """Hard-delete a course without enrolments (409 otherwise: archive it instead)."""
    course = course_get_for_update(pk=course.pk)
    if course.enrollment_count:
        raise CourseHasEnrollments()
    course_id = course.pk
    try:
        with transaction.atomic():
            course.delete()
    except ProtectedError:
        # Enrolments (and later orders) protect the course even when none is active.
        raise CourseHasEnrollments() from None
    caching.invalidate_course(course_id)


def course_enrollment_count_add(*, course: Course, delta: int) -> None:
    """Adjust the seats taken. The caller (the enrolment service) holds the course lock.

    The catalog cache is not invalidated: seat counts there may lag by the cache TTL, while
    the enrolment service always checks the locked row.
    """
    Course.objects.filter(pk=course.pk).update(enrollment_count=F("enrollment_count") + delta)
    course.refresh_from_db(fields=["enrollment_count"])


@transaction.atomic
def course_duplicate(*, course: Course) -> Course:
    """A draft copy with the same team, modules and lessons (files are shared, not copied)."""
    original = course_get_for_update(pk=course.pk)
    copy = Course(
        owner=original.owner,
        title=f"{original.title} (copy)"[:200],
        slug=_unique_slug(f"{original.slug}-copy"),
        **{
            name: getattr(original, name)
            for name in COURSE_EDITABLE_FIELDS
            if name not in ("slug", "title")
        },
    )
    _save_course(copy)
    copy.co_instructors.set(original.co_instructors.all())
    modules = list(original.modules.order_by("position").prefetch_related("lessons"))
    new_modules = Module.objects.bulk_create(
        Module(course=copy, title=m.title, description=m.description, position=m.position)
        for m in modules
    )
    Lesson.objects.bulk_create(
        Lesson(
            module=new_module,
            position=lesson.position,
            **{name: getattr(lesson, name) for name in LESSON_EDITABLE_FIELDS},
        )
        for module, new_module in zip(modules, new_modules, strict=True)
        for lesson in module.lessons.all()
    )
    caching.invalidate_course(copy.pk)
    return copy


# --- Modules and lessons ------------------------------------------------------------------


def _next_position(model: type[Module] | type[Lesson], **parent: Any) -> int:
    current = model.objects.filter(**parent).aggregate(last=Max("position"))["last"]
    return (current or 0) + 1


def _reorder(model: type[Module] | type[Lesson], *, parent: dict[str, Any], ids: list) -> None:
    """Give the parent's children positions 1..n in the order of `ids`.

    The caller holds the course lock. Two steps keep the unique (parent, position) constraint
    valid row by row: first every position moves above both the old and the new range, then
    each row takes its final place.
    """
    siblings = model.objects.filter(**parent)
    current = set(siblings.values_list("pk", flat=True))
    requested = [uuid.UUID(str(pk)) for pk in ids]
    problems = []
    if len(set(requested)) != len(requested):
        problems.append("The order lists an item more than once.")
    if missing := current - set(requested):
        problems.append(f"Missing: {', '.join(sorted(str(pk) for pk in missing))}.")
    if unknown := set(requested) - current:
        problems.append(f"Not part of this parent: {', '.join(sorted(str(pk) for pk in unknown))}.")
    if problems:
        raise InvalidOrder(fields={"order": problems})
    offset = max(siblings.aggregate(last=Max("position"))["last"] or 0, len(requested)) + 1
    siblings.update(position=F("position") + offset)
    rows: list[Any] = [model(pk=pk, position=index) for index, pk in enumerate(requested, 1)]
    model.objects.bulk_update(rows, ["position"])


@transaction.atomic
def module_create(*, course: Course, title: str, description: str = "") -> Module:
    course = course_get_for_update(pk=course.pk)
    module = Module(
        course=course,
        title=title,
        description=description,
        position=_next_position(Module, course=course),
    )
    module.full_clean()
    module.save()
    caching.invalidate_course(course.pk)
    return module


@transaction.atomic
def module_update(*, module: Module, data: dict[str, Any]) -> Module:
    course_get_for_update(pk=module.course_id)
    module = Module.objects.get(pk=module.pk)  # compare with the stored row, not the caller's
    if _model_update(module, fields=MODULE_EDITABLE_FIELDS, data=data):
        caching.invalidate_course(module.course_id)
    return module


@transaction.atomic
def module_delete(*, module: Module) -> None:
    """Delete a module and its lessons; learners' progress follows."""
    course_get_for_update(pk=module.course_id)
    course_id = module.course_id
    module.delete()
    hooks.content_changed(course_id=course_id)
    caching.invalidate_course(course_id)


@transaction.atomic
def modules_reorder(*, course: Course, order: list[uuid.UUID]) -> list[Module]:
    """Set the order of all the course's modules in one atomic call."""
    course = course_get_for_update(pk=course.pk)
    _reorder(Module, parent={"course": course}, ids=order)
    caching.invalidate_course(course.pk)
    return list(Module.objects.filter(course=course).order_by("position"))


@transaction.atomic
def lesson_create(
    *, module: Module, title: str, attachment: UploadedFile | None = None, **fields: Any
) -> Lesson:
    course_get_for_update(pk=module.course_id)
    lesson = Lesson(
        module=module,
        title=title,
        position=_next_position(Lesson, module=module),
        **fields,
    )
    if attachment is not None:
        lesson.attachment = attachment
    lesson.full_clean()
    lesson.save()
    hooks.content_changed(course_id=module.course_id)
    caching.invalidate_course(module.course_id)
    return lesson


@transaction.atomic
def lesson_update(*, lesson: Lesson, data: dict[str, Any]) -> Lesson:
    course_id = lesson.module.course_id
    course_get_for_update(pk=course_id)
    lesson = Lesson.objects.select_related("module").get(pk=lesson.pk)  # the stored row
    changed = _model_update(lesson, fields=LESSON_EDITABLE_FIELDS, data=data)
    if changed & LESSON_PROGRESS_FIELDS:
        hooks.content_changed(course_id=course_id)
    if changed:
        caching.invalidate_course(course_id)
    return lesson


@transaction.atomic
def lesson_delete(*, lesson: Lesson) -> None:
    course_id = lesson.module.course_id
    course_get_for_update(pk=course_id)
    lesson.delete()
    hooks.content_changed(course_id=course_id)
    caching.invalidate_course(course_id)


@transaction.atomic
def lessons_reorder(*, module: Module, order: list[uuid.UUID]) -> list[Lesson]:
    """Set the order of all the module's lessons in one atomic call."""
    course_get_for_update(pk=module.course_id)
    _reorder(Lesson, parent={"module": module}, ids=order)
    caching.invalidate_course(module.course_id)
    return list(Lesson.objects.filter(module=module).order_by("position"))
