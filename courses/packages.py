"""Course packages: a course's content as plain JSON, to move it between servers or keep a copy.

A package holds the course's settings and its modules and lessons in reading order; it never
holds ids, the owner, co-instructors, the status or enrolments. Files (the cover image, lesson
attachments) are not exported either: a `file` lesson arrives without its attachment.

    {"format": "lms-course", "version": 1,
     "course": {"slug": ..., "title": ..., ...},
     "modules": [{"title": ..., "description": ..., "position": 1,
                  "lessons": [{"title": ..., "kind": "text", ..., "position": 1}]}]}

Later apps add per-lesson data (assessments: "quizzes") by registering a `LessonExtension`
from their AppConfig.ready(), so this module never imports them.
"""

import copy
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Model, Prefetch
from django.utils.dateparse import parse_datetime

from accounts.models import User
from courses.errors import PackageInvalid
from courses.models import Category, Course, Lesson, Module
from courses.services import _unique_slug, course_create, lesson_create, module_create

PACKAGE_FORMAT = "lms-course"
PACKAGE_VERSION = 1

Problems = dict[str, list[str]]
T = TypeVar("T")


@dataclass(frozen=True)
class LessonExtension:
    """Extra data a later app keeps per lesson, under its own `key` in each lesson dict.

    - export(lessons) -> {lesson id: JSON-serialisable value}; lessons left out get no key.
    - validate(value, path) -> {JSON path: [messages]}; empty when the value is valid.
    - create(lesson, value) runs inside the import transaction, after the lesson is created;
      both are called only for lessons that have the key. Raise PackageInvalid to refuse.
    """

    key: str
    export: Callable[[list[Lesson]], dict[uuid.UUID, Any]]
    validate: Callable[[Any, str], Problems]
    create: Callable[[Lesson, Any], None]


_lesson_extensions: dict[str, LessonExtension] = {}


# --- The format ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Key:
    """One key of a package object: its JSON type, whether null and absence are allowed."""

    kind: type
    required: bool = False
    nullable: bool = False


# Keys are listed in the order they are exported in.
COURSE_KEYS: dict[str, _Key] = {
    "slug": _Key(str),
    "title": _Key(str, required=True),
    "subtitle": _Key(str),
    "description": _Key(str),
    "language": _Key(str),
    "level": _Key(str),
    "category": _Key(str, nullable=True),
    "price_amount": _Key(int),
    "currency": _Key(str),
    "seat_capacity": _Key(int, nullable=True),
    "enrollment_opens_at": _Key(datetime, nullable=True),
    "enrollment_closes_at": _Key(datetime, nullable=True),
    "metadata": _Key(dict),
    "certificate_enabled": _Key(bool),
}
MODULE_KEYS: dict[str, _Key] = {
    "title": _Key(str, required=True),
    "description": _Key(str),
    "position": _Key(int),
    "lessons": _Key(list),
}
LESSON_KEYS: dict[str, _Key] = {
    "title": _Key(str, required=True),
    "kind": _Key(str),
    "body": _Key(str),
    "video_url": _Key(str),
    "duration_seconds": _Key(int),
    "is_preview": _Key(bool),
    "is_required": _Key(bool),
    "available_from": _Key(datetime, nullable=True),
    "available_after_days": _Key(int, nullable=True),
    "position": _Key(int),
}
PACKAGE_KEYS: dict[str, _Key] = {
    "format": _Key(str, required=True),
    "version": _Key(int, required=True),
    "course": _Key(dict, required=True),
    "modules": _Key(list),
}

_EXPECTED = {
    str: "a string",
    int: "an integer",
    bool: "true or false",
    dict: "an object",
    list: "a list",
    datetime: "an ISO 8601 date-time with a time zone, such as 2026-01-31T09:00:00Z",
}


def register_lesson_extension(extension: LessonExtension) -> None:
    """Add per-lesson data to packages; registering a key again (tests, reloads) replaces it."""
    if extension.key in LESSON_KEYS:
        raise ValueError(f"{extension.key!r} is already a lesson key.")
    _lesson_extensions[extension.key] = extension


def package_dumps(package: dict[str, Any]) -> str:
    """The canonical text of a package: equal content gives byte-identical files."""
    return json.dumps(package, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


# --- Export -------------------------------------------------------------------------------


def _datetime_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def course_export_package(*, course: Course) -> dict[str, Any]:
    """The course as a JSON-serialisable package (see the module docstring); files are left out.

    Positions are exported as 1..n in reading order, so gaps left by deletions do not show.
    At most three queries, plus what the registered lesson extensions need.
    """
    modules = list(
        Module.objects.filter(course=course)
        .order_by("position")
        .prefetch_related(Prefetch("lessons", queryset=Lesson.objects.order_by("position")))
    )
    lessons = [lesson for module in modules for lesson in module.lessons.all()]
    extension_values = {
        key: extension.export(lessons) for key, extension in sorted(_lesson_extensions.items())
    }
    return {
        "format": PACKAGE_FORMAT,
        "version": PACKAGE_VERSION,
        "course": {
            "slug": course.slug,
            "title": course.title,
            "subtitle": course.subtitle,
            "description": course.description,
            "language": course.language,
            "level": course.level,
            "category": course.category.slug if course.category else None,
            "price_amount": course.price_amount,
            "currency": course.currency,
            "seat_capacity": course.seat_capacity,
            "enrollment_opens_at": _datetime_text(course.enrollment_opens_at),
            "enrollment_closes_at": _datetime_text(course.enrollment_closes_at),
            "metadata": copy.deepcopy(course.metadata),
            "certificate_enabled": course.certificate_enabled,
        },
        "modules": [
            {
                "title": module.title,
                "description": module.description,
                "position": module_position,
                "lessons": [
                    _lesson_data(lesson, position=lesson_position, extensions=extension_values)
                    for lesson_position, lesson in enumerate(module.lessons.all(), start=1)
                ],
            }
            for module_position, module in enumerate(modules, start=1)
        ],
    }


def _lesson_data(
    lesson: Lesson, *, position: int, extensions: dict[str, dict[uuid.UUID, Any]]
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": lesson.title,
        "kind": lesson.kind,
        "body": lesson.body,
        "video_url": lesson.video_url,
        "duration_seconds": lesson.duration_seconds,
        "is_preview": lesson.is_preview,
        "is_required": lesson.is_required,
        "available_from": _datetime_text(lesson.available_from),
        "available_after_days": lesson.available_after_days,
        "position": position,
    }
    for key, values in extensions.items():
        if lesson.pk in values:
            data[key] = values[lesson.pk]
    return data


# --- Validation ---------------------------------------------------------------------------


@dataclass
class _LessonPlan:
    path: str
    fields: dict[str, Any]
    extensions: dict[str, Any]


@dataclass
class _ModulePlan:
    path: str
    fields: dict[str, Any]
    lessons: list[_LessonPlan]


@dataclass
class _CoursePlan:
    fields: dict[str, Any]
    category_slug: str | None
    modules: list[_ModulePlan] = field(default_factory=list)


class _Checker:
    """Collects every problem of a package by JSON path instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: Problems = {}

    def add(self, path: str, message: str) -> None:
        self.problems.setdefault(path, []).append(message)

    def values(
        self, data: dict[str, Any], keys: dict[str, _Key], path: str, *, extra: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """The keys of `data` that have the right JSON type, converted; problems for the rest."""
        prefix = f"{path}." if path else ""
        for name in data:
            if name not in keys and name not in extra:
                self.add(f"{prefix}{name}", "Unknown key.")
        values: dict[str, Any] = {}
        for name, key in keys.items():
            if name not in data:
                if key.required:
                    self.add(f"{prefix}{name}", "This key is required.")
                continue
            value = data[name]
            if value is None and key.nullable:
                values[name] = None
                continue
            converted = _converted(value, key.kind)
            if converted is None:
                expected = _EXPECTED[key.kind] + (" or null" if key.nullable else "")
                self.add(f"{prefix}{name}", f"Expected {expected}.")
            else:
                values[name] = converted
        return values

    def model(self, instance: Model, path: str, *, exclude: set[str]) -> None:
        """Run the model's own validation (lengths, choices, URLs, clean()) on an unsaved row."""
        try:
            instance.full_clean(exclude=exclude, validate_unique=False)
        except DjangoValidationError as error:
            for name, messages in error.message_dict.items():
                if name in exclude:
                    continue
                target = path if name == NON_FIELD_ERRORS else f"{path}.{name}"
                for message in messages:
                    self.add(target, message)


def _converted(value: Any, kind: type) -> Any:
    """The value as `kind`, or None when it has another JSON type (true is not an integer)."""
    if kind is datetime:
        parsed = parse_datetime(value) if isinstance(value, str) else None
        return parsed if parsed is not None and parsed.tzinfo is not None else None
    if isinstance(value, bool) and kind is not bool:
        return None
    return value if isinstance(value, kind) else None


def _ordered(items: list[tuple[int, str, T]], *, checker: _Checker) -> list[T]:
    """Siblings (position, path, plan) sorted by position; a problem for a repeated position."""
    seen: dict[int, str] = {}
    for position, path, _ in items:
        if position < 1:
            checker.add(f"{path}.position", "Expected a positive integer.")
        elif position in seen:
            checker.add(
                f"{path}.position", f"Position {position} is also used by {seen[position]}."
            )
        else:
            seen[position] = path
    return [plan for _, _, plan in sorted(items, key=lambda item: item[0])]


def _objects(value: list[Any], path: str, checker: _Checker) -> Iterator[tuple[int, str, dict]]:
    """The list's items that are objects, with index and path; a problem for any other item."""
    for index, item in enumerate(value):
        if isinstance(item, dict):
            yield index, f"{path}[{index}]", item
        else:
            checker.add(f"{path}[{index}]", "Expected an object.")


def _check_package(package: Any) -> _CoursePlan:
    """Every problem at once, or the package's content as values ready for the services."""
    if not isinstance(package, dict):
        raise PackageInvalid({"package": ["Expected a JSON object."]})
    checker = _Checker()
    top = checker.values(package, PACKAGE_KEYS, "")
    if "format" in top and top["format"] != PACKAGE_FORMAT:
        checker.add("format", f"Expected {PACKAGE_FORMAT!r}.")
    if "version" in top and top["version"] != PACKAGE_VERSION:
        checker.add(
            "version", f"Version {top['version']} is not supported; expected {PACKAGE_VERSION}."
        )
    course = _check_course(top["course"], checker) if "course" in top else None
    modules = _ordered(
        [
            _check_module(data, path, index, checker)
            for index, path, data in _objects(top.get("modules", []), "modules", checker)
        ],
        checker=checker,
    )
    if checker.problems or course is None:
        raise PackageInvalid(checker.problems)
    course.modules = modules
    return course


def _check_course(data: dict[str, Any], checker: _Checker) -> _CoursePlan:
    fields = checker.values(data, COURSE_KEYS, "course")
    category_slug = fields.pop("category", None)
    exclude = {"owner", "category"} | (set(COURSE_KEYS) - set(fields))
    if fields.get("slug"):
        fields["slug"] = fields["slug"].lower()
    else:
        # No slug (or an empty one): the import makes one from the title.
        fields.pop("slug", None)
        exclude.add("slug")
    checker.model(Course(**fields), "course", exclude=exclude)
    return _CoursePlan(fields=fields, category_slug=category_slug)


def _check_module(
    data: dict[str, Any], path: str, index: int, checker: _Checker
) -> tuple[int, str, _ModulePlan]:
    fields = checker.values(data, MODULE_KEYS, path)
    position = fields.pop("position", index + 1)
    lesson_list = fields.pop("lessons", [])
    exclude = {"course", "position", "lessons"} | (set(MODULE_KEYS) - set(fields))
    checker.model(Module(**fields), path, exclude=exclude)
    lessons = _ordered(
        [
            _check_lesson(lesson_data, lesson_path, lesson_index, checker)
            for lesson_index, lesson_path, lesson_data in _objects(
                lesson_list, f"{path}.lessons", checker
            )
        ],
        checker=checker,
    )
    return position, path, _ModulePlan(path=path, fields=fields, lessons=lessons)


def _check_lesson(
    data: dict[str, Any], path: str, index: int, checker: _Checker
) -> tuple[int, str, _LessonPlan]:
    fields = checker.values(data, LESSON_KEYS, path, extra=tuple(_lesson_extensions))
    position = fields.pop("position", index + 1)
    exclude = {"module", "position", "attachment"} | (set(LESSON_KEYS) - set(fields))
    checker.model(Lesson(**fields), path, exclude=exclude)
    extensions = {}
    for key, extension in sorted(_lesson_extensions.items()):
        if key in data:
            for problem_path, messages in extension.validate(data[key], f"{path}.{key}").items():
                for message in messages:
                    checker.add(problem_path, message)
            extensions[key] = data[key]
    return position, path, _LessonPlan(path=path, fields=fields, extensions=extensions)


# --- Import -------------------------------------------------------------------------------


@contextmanager
def _problems_at(path: str) -> Iterator[None]:
    """A model error the checks above missed still names where in the package it comes from."""
    try:
        yield
    except DjangoValidationError as error:
        raise PackageInvalid(
            {
                path if name == NON_FIELD_ERRORS else f"{path}.{name}": messages
                for name, messages in error.message_dict.items()
            }
        ) from error


def course_import_package(*, package: dict[str, Any], owner: User) -> Course:
    """Create a draft course owned by `owner` from a package; nothing is written on error.

    The whole package is checked first and every problem is raised at once as PackageInvalid,
    keyed by JSON path. The package's slug is kept when free, otherwise a free one is made from
    it (`intro` becomes `intro-2`). A category is looked up by slug; an unknown one leaves the
    course without a category (categories are not created). Modules and lessons are created in
    position order and numbered 1..n. The caller checks that `owner` may teach.
    """
    plan = _check_package(package)
    with transaction.atomic():
        fields = dict(plan.fields)
        slug = fields.pop("slug", "")
        if slug and Course.objects.filter(slug=slug).exists():
            slug = _unique_slug(slug)
        category = (
            Category.objects.filter(slug=plan.category_slug).first() if plan.category_slug else None
        )
        with _problems_at("course"):
            course = course_create(owner=owner, slug=slug, category=category, **fields)
        for module_plan in plan.modules:
            with _problems_at(module_plan.path):
                module = module_create(course=course, **module_plan.fields)
            for lesson_plan in module_plan.lessons:
                with _problems_at(lesson_plan.path):
                    lesson = lesson_create(module=module, **lesson_plan.fields)
                for key, value in lesson_plan.extensions.items():
                    _lesson_extensions[key].create(lesson, value)
    return course
