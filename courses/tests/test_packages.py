import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from accounts.tests.factories import UserFactory
from courses import packages
from courses.errors import PackageInvalid
from courses.models import Course, Lesson, Module
from courses.packages import (
    LessonExtension,
    course_export_package,
    course_import_package,
    package_dumps,
    register_lesson_extension,
)
from courses.tests.factories import CategoryFactory, CourseFactory, LessonFactory, ModuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def full_course(instructor):
    """A published course using every exported field, with content created out of order."""
    category = CategoryFactory(slug="programming")
    course = CourseFactory(
        slug="python-basics",
        title="Python basics",
        subtitle="From zero to scripts",
        description="Variables, loops and functions.",
        language="pt-BR",
        level=Course.Level.BEGINNER,
        category=category,
        price_amount=4900,
        currency="EUR",
        seat_capacity=30,
        enrollment_opens_at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        enrollment_closes_at=datetime(2026, 2, 1, 17, 30, tzinfo=UTC),
        metadata={"tags": ["python", "beginner"], "hours": 6},
        certificate_enabled=False,
        owner=instructor,
        published=True,
    )
    second = ModuleFactory(course=course, title="Loops", description="for and while", position=5)
    first = ModuleFactory(course=course, title="Basics", description="Start here", position=2)
    LessonFactory(module=first, title="Variables", position=3, is_preview=True)
    LessonFactory(
        module=first,
        title="Intro video",
        position=1,
        video=True,
        duration_seconds=420,
        available_from=datetime(2026, 1, 10, 8, 0, tzinfo=UTC),
    )
    LessonFactory(
        module=second,
        title="for loops",
        position=1,
        kind=Lesson.Kind.ASSIGNMENT,
        is_required=False,
        available_after_days=7,
    )
    return course


def _package(**course: Any) -> dict[str, Any]:
    return {
        "format": "lms-course",
        "version": 1,
        "course": {"slug": "imported", "title": "Imported", **course},
        "modules": [
            {
                "title": "Module",
                "lessons": [{"title": "Lesson", "kind": "text", "body": "Read me."}],
            }
        ],
    }


@pytest.fixture
def extensions(monkeypatch):
    """An empty extension registry for the test, restored afterwards."""
    monkeypatch.setattr(packages, "_lesson_extensions", {})


def test_course_export_package_has_the_documented_shape(instructor):
    course = CourseFactory(slug="tiny", title="Tiny", owner=instructor)
    module = ModuleFactory(course=course, title="Only module", position=1)
    LessonFactory(module=module, title="Only lesson", body="Hello.", position=1)

    package = course_export_package(course=course)

    assert package == {
        "format": "lms-course",
        "version": 1,
        "course": {
            "slug": "tiny",
            "title": "Tiny",
            "subtitle": "A subtitle",
            "description": "What the course teaches.",
            "language": "en",
            "level": "all_levels",
            "category": None,
            "price_amount": 0,
            "currency": "USD",
            "seat_capacity": None,
            "enrollment_opens_at": None,
            "enrollment_closes_at": None,
            "metadata": {},
            "certificate_enabled": True,
        },
        "modules": [
            {
                "title": "Only module",
                "description": "",
                "position": 1,
                "lessons": [
                    {
                        "title": "Only lesson",
                        "kind": "text",
                        "body": "Hello.",
                        "video_url": "",
                        "duration_seconds": 300,
                        "is_preview": False,
                        "is_required": True,
                        "available_from": None,
                        "available_after_days": None,
                        "position": 1,
                    }
                ],
            }
        ],
    }


def test_course_export_package_writes_times_as_utc_iso_strings(full_course):
    package = course_export_package(course=full_course)

    assert package["course"]["enrollment_opens_at"] == "2026-01-05T09:00:00Z"
    assert package["course"]["enrollment_closes_at"] == "2026-02-01T17:30:00Z"
    assert package["modules"][0]["lessons"][0]["available_from"] == "2026-01-10T08:00:00Z"


def test_course_export_package_lists_content_in_position_order_numbered_from_one(full_course):
    package = course_export_package(course=full_course)

    outline = [
        (
            module["position"],
            module["title"],
            [(lesson["position"], lesson["title"]) for lesson in module["lessons"]],
        )
        for module in package["modules"]
    ]
    assert outline == [
        (1, "Basics", [(1, "Intro video"), (2, "Variables")]),
        (2, "Loops", [(1, "for loops")]),
    ]


def test_course_export_package_is_byte_identical_when_run_again(full_course):
    first = package_dumps(course_export_package(course=full_course))

    second = package_dumps(course_export_package(course=full_course))

    assert first == second


def test_round_trip_gives_the_same_package_apart_from_the_slug(full_course, other_instructor):
    exported = course_export_package(course=full_course)

    imported = course_import_package(package=copy.deepcopy(exported), owner=other_instructor)
    exported_again = course_export_package(course=imported)

    assert exported_again["course"].pop("slug") == "python-basics-2"
    exported["course"].pop("slug")
    assert package_dumps(exported_again) == package_dumps(exported)


def test_round_trip_keeps_the_slug_when_it_is_free(full_course, other_instructor):
    exported = course_export_package(course=full_course)
    Course.objects.filter(pk=full_course.pk).update(slug="renamed")

    imported = course_import_package(package=exported, owner=other_instructor)

    assert package_dumps(course_export_package(course=imported)) == package_dumps(exported)


def test_course_import_package_creates_a_draft_owned_by_the_owner(full_course, other_instructor):
    package = course_export_package(course=full_course)

    imported = course_import_package(package=package, owner=other_instructor)

    imported.refresh_from_db()
    assert imported.status == Course.Status.DRAFT
    assert imported.published_at is None
    assert imported.owner == other_instructor
    assert imported.pk != full_course.pk
    assert Module.objects.filter(course=imported).count() == 2
    assert Lesson.objects.filter(module__course=imported).count() == 3


def test_course_import_package_keeps_a_free_slug(instructor):
    imported = course_import_package(package=_package(slug="Fresh-Slug"), owner=instructor)

    assert imported.slug == "fresh-slug"


def test_course_import_package_gives_a_taken_slug_a_fresh_one(instructor):
    CourseFactory(slug="intro")
    CourseFactory(slug="intro-2")

    imported = course_import_package(package=_package(slug="intro"), owner=instructor)

    assert imported.slug == "intro-3"


def test_course_import_package_makes_a_slug_from_the_title_when_there_is_none(instructor):
    package = _package(title="Data Science 101")
    del package["course"]["slug"]

    imported = course_import_package(package=package, owner=instructor)

    assert imported.slug == "data-science-101"


def test_course_import_package_links_the_category_by_slug(instructor):
    category = CategoryFactory(slug="design")

    imported = course_import_package(package=_package(category="design"), owner=instructor)

    assert imported.category == category


def test_course_import_package_leaves_an_unknown_category_empty(instructor):
    imported = course_import_package(package=_package(category="no-such"), owner=instructor)

    assert imported.category is None


def test_course_import_package_uses_model_defaults_for_absent_keys(instructor):
    imported = course_import_package(package=_package(), owner=instructor)

    lesson = Lesson.objects.get(module__course=imported)
    assert (imported.price_amount, imported.currency, imported.level) == (0, "USD", "all_levels")
    assert (lesson.position, lesson.is_required, lesson.duration_seconds) == (1, True, 0)


def test_course_import_package_creates_content_in_position_order(instructor):
    package = _package()
    package["modules"] = [
        {"title": "Second", "position": 20, "lessons": []},
        {
            "title": "First",
            "position": 10,
            "lessons": [{"title": "B", "position": 2}, {"title": "A", "position": 1}],
        },
    ]

    imported = course_import_package(package=package, owner=instructor)

    modules = list(imported.modules.order_by("position").values_list("position", "title"))
    lessons = list(
        Lesson.objects.filter(module__course=imported)
        .order_by("position")
        .values_list("position", "title")
    )
    assert modules == [(1, "First"), (2, "Second")]
    assert lessons == [(1, "A"), (2, "B")]


def test_course_import_package_reports_each_problem_with_its_path(instructor):
    package = _package(price_amount=-100, currency="XYZ")
    package["version"] = 2
    package["modules"][0]["lessons"].append({"title": "Quiz", "kind": "poll"})
    del package["modules"][0]["title"]
    courses_before = Course.objects.count()

    with pytest.raises(PackageInvalid) as excinfo:
        course_import_package(package=package, owner=instructor)

    assert excinfo.value.code == "package_invalid"
    assert excinfo.value.fields == {
        "version": ["Version 2 is not supported; expected 1."],
        "course.price_amount": ["Ensure this value is greater than or equal to 0."],
        "course.currency": ["Value 'XYZ' is not a valid choice."],
        "modules[0].title": ["This key is required."],
        "modules[0].lessons[1].kind": ["Value 'poll' is not a valid choice."],
    }
    assert Course.objects.count() == courses_before


def test_course_import_package_reports_wrong_json_types(instructor):
    package = _package(price_amount="49.00", certificate_enabled="yes", seat_capacity=True)
    package["modules"][0]["lessons"][0]["available_from"] = "2026-01-10 08:00"
    package["modules"].append("Module two")

    with pytest.raises(PackageInvalid) as excinfo:
        course_import_package(package=package, owner=instructor)

    assert excinfo.value.fields == {
        "course.price_amount": ["Expected an integer."],
        "course.seat_capacity": ["Expected an integer or null."],
        "course.certificate_enabled": ["Expected true or false."],
        "modules[0].lessons[0].available_from": [
            "Expected an ISO 8601 date-time with a time zone, such as 2026-01-31T09:00:00Z or null."
        ],
        "modules[1]": ["Expected an object."],
    }


def test_course_import_package_rejects_unknown_keys(instructor):
    package = _package(status="published")
    package["modules"][0]["lessons"][0]["id"] = "0b5e"

    with pytest.raises(PackageInvalid) as excinfo:
        course_import_package(package=package, owner=instructor)

    assert excinfo.value.fields == {
        "course.status": ["Unknown key."],
        "modules[0].lessons[0].id": ["Unknown key."],
    }


def test_course_import_package_reports_the_models_own_rules(instructor):
    package = _package(
        enrollment_opens_at="2026-02-01T00:00:00Z", enrollment_closes_at="2026-01-01T00:00:00Z"
    )
    package["modules"][0]["lessons"][0].update(kind="video", video_url="")

    with pytest.raises(PackageInvalid) as excinfo:
        course_import_package(package=package, owner=instructor)

    assert excinfo.value.fields == {
        "course.enrollment_closes_at": ["Enrolment must close after it opens."],
        "modules[0].lessons[0].video_url": ["A video lesson needs a video URL."],
    }


def test_course_import_package_rejects_repeated_positions(instructor):
    package = _package()
    package["modules"][0]["lessons"] = [
        {"title": "A", "position": 1},
        {"title": "B", "position": 1},
        {"title": "C", "position": 0},
    ]

    with pytest.raises(PackageInvalid) as excinfo:
        course_import_package(package=package, owner=instructor)

    assert excinfo.value.fields == {
        "modules[0].lessons[1].position": ["Position 1 is also used by modules[0].lessons[0]."],
        "modules[0].lessons[2].position": ["Expected a positive integer."],
    }


@pytest.mark.parametrize(
    ("package", "fields"),
    [
        pytest.param([], {"package": ["Expected a JSON object."]}, id="_case not an object"),
        pytest.param(
            {"format": "scorm", "version": 1, "course": {"title": "T"}},
            {"format": ["Expected 'lms-course'."]},
            id="_case another format",
        ),
        pytest.param(
            {},
            {
                "format": ["This key is required."],
                "version": ["This key is required."],
                "course": ["This key is required."],
            },
            id="_case empty object",
        ),
    ],
)
def test_course_import_package_rejects_what_is_not_a_course_package(package, fields, instructor):
    with pytest.raises(PackageInvalid) as excinfo:
        course_import_package(package=package, owner=instructor)

    assert excinfo.value.fields == fields
    assert not Course.objects.exists()


def test_lesson_extension_adds_its_key_to_the_export(extensions, full_course):
    register_lesson_extension(
        LessonExtension(
            key="quizzes",
            export=lambda lessons: {lesson.pk: [{"question": lesson.title}] for lesson in lessons},
            validate=lambda value, path: {},
            create=lambda lesson, value: None,
        )
    )

    package = course_export_package(course=full_course)

    assert package["modules"][0]["lessons"][0]["quizzes"] == [{"question": "Intro video"}]


def test_lesson_extension_receives_its_key_on_import(extensions, instructor):
    received = []
    register_lesson_extension(
        LessonExtension(
            key="quizzes",
            export=lambda lessons: {},
            validate=lambda value, path: {},
            create=lambda lesson, value: received.append((lesson.title, value)),
        )
    )
    package = _package()
    package["modules"][0]["lessons"][0]["quizzes"] = [{"question": "Why?"}]

    course_import_package(package=package, owner=instructor)

    assert received == [("Lesson", [{"question": "Why?"}])]


def test_lesson_extension_problems_are_reported_with_their_path(extensions, instructor):
    register_lesson_extension(
        LessonExtension(
            key="quizzes",
            export=lambda lessons: {},
            validate=lambda value, path: {f"{path}[0].question": ["Ask something."]},
            create=lambda lesson, value: None,
        )
    )
    package = _package()
    package["modules"][0]["lessons"][0]["quizzes"] = [{"question": ""}]

    with pytest.raises(PackageInvalid) as excinfo:
        course_import_package(package=package, owner=instructor)

    assert excinfo.value.fields == {"modules[0].lessons[0].quizzes[0].question": ["Ask something."]}


def test_course_import_package_writes_nothing_when_a_late_step_fails(extensions, instructor):
    def fail(lesson: Lesson, value: Any) -> None:
        raise PackageInvalid({"modules[0].lessons[0].quizzes": ["Cannot be stored."]})

    register_lesson_extension(
        LessonExtension(
            key="quizzes", export=lambda lessons: {}, validate=lambda value, path: {}, create=fail
        )
    )
    package = _package()
    package["modules"][0]["lessons"][0]["quizzes"] = []

    with pytest.raises(PackageInvalid):
        course_import_package(package=package, owner=instructor)

    assert not Course.objects.exists()
    assert not Module.objects.exists()
    assert not Lesson.objects.exists()


def test_register_lesson_extension_refuses_a_built_in_key(extensions):
    extension = LessonExtension(
        key="title", export=lambda lessons: {}, validate=lambda v, p: {}, create=lambda x, v: None
    )

    with pytest.raises(ValueError, match="already a lesson key"):
        register_lesson_extension(extension)


def test_imported_courses_are_independent_of_the_owner_of_the_original(full_course):
    owner = UserFactory(admin=True)

    imported = course_import_package(package=course_export_package(course=full_course), owner=owner)

    assert imported.owner == owner
    assert list(imported.co_instructors.all()) == []
