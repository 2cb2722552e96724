import io
import json

import pytest
from django.core.management import CommandError, call_command

from accounts.tests.factories import UserFactory
from courses.models import Course, Lesson
from courses.packages import course_export_package, package_dumps
from courses.services import course_archive
from courses.tests.factories import course_with_content

pytestmark = pytest.mark.django_db


@pytest.fixture
def package_file(tmp_path, instructor):
    """A valid package on disk, exported from a course whose slug is then freed."""
    source = course_with_content(
        modules=2, lessons_per_module=2, slug="rust-intro", owner=instructor
    )
    path = tmp_path / "rust-intro.json"
    path.write_text(package_dumps(course_export_package(course=source)), encoding="utf-8")
    Course.objects.filter(pk=source.pk).update(slug="rust-intro-original")
    return path


def _import(path, owner_email):
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("import_course", str(path), owner=owner_email, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


# --- export_course ------------------------------------------------------------------------


def test_export_course_writes_the_canonical_package_to_stdout(instructor):
    course = course_with_content(modules=1, lessons_per_module=2, owner=instructor)
    stdout = io.StringIO()

    call_command("export_course", course.slug, stdout=stdout)

    assert stdout.getvalue() == package_dumps(course_export_package(course=course))


def test_export_course_writes_the_package_to_a_file(tmp_path, instructor):
    course = course_with_content(owner=instructor)
    output = tmp_path / "course.json"
    stdout = io.StringIO()

    call_command("export_course", course.slug, output=str(output), stdout=stdout)

    assert json.loads(output.read_text(encoding="utf-8")) == course_export_package(course=course)
    assert stdout.getvalue() == f"Exported {course.slug} to {output}.\n"


def test_export_course_fails_for_an_unknown_slug():
    with pytest.raises(CommandError) as excinfo:
        call_command("export_course", "no-such-course", stdout=io.StringIO())

    assert str(excinfo.value) == "No course with the slug 'no-such-course'."
    assert excinfo.value.returncode == 1


def test_export_course_fails_when_the_file_cannot_be_written(tmp_path, instructor):
    course = course_with_content(owner=instructor)

    with pytest.raises(CommandError, match="Cannot write"):
        call_command(
            "export_course",
            course.slug,
            output=str(tmp_path / "missing" / "x.json"),
            stdout=io.StringIO(),
        )


# --- import_course ------------------------------------------------------------------------


def test_import_course_creates_a_draft_and_prints_its_slug_and_id(package_file, instructor):
    stdout, _ = _import(package_file, instructor.email)

    course = Course.objects.get(slug="rust-intro")
    assert stdout == (
        f"Imported rust-intro (id {course.pk}) as a draft owned by {instructor.email}.\n"
    )
    assert course.status == Course.Status.DRAFT
    assert course.owner == instructor
    assert Lesson.objects.filter(module__course=course).count() == 4


def test_import_course_accepts_the_owner_email_in_any_case(package_file, instructor):
    _import(package_file, instructor.email.upper())

    assert Course.objects.get(slug="rust-intro").owner == instructor


def test_import_course_accepts_an_admin_as_owner(package_file):
    admin = UserFactory(admin=True)

    _import(package_file, admin.email)

    assert Course.objects.get(slug="rust-intro").owner == admin


def test_import_course_warns_when_the_slug_is_taken(package_file, instructor):
    _import(package_file, instructor.email)

    stdout, stderr = _import(package_file, instructor.email)

    assert stderr == "The slug 'rust-intro' is taken; imported as 'rust-intro-2'.\n"
    assert stdout.startswith("Imported rust-intro-2 (id ")


def test_import_course_warns_about_an_unknown_category(tmp_path, instructor):
    package = {
        "format": "lms-course",
        "version": 1,
        "course": {"slug": "c", "title": "C", "category": "no-such-category"},
    }
    path = tmp_path / "c.json"
    path.write_text(json.dumps(package), encoding="utf-8")

    _, stderr = _import(path, instructor.email)

    assert stderr == "No category with the slug 'no-such-category'; the course has no category.\n"


def test_import_course_requires_an_owner(package_file):
    with pytest.raises(CommandError, match="--owner"):
        call_command("import_course", str(package_file), stdout=io.StringIO())


@pytest.mark.parametrize(
    ("email", "message"),
    [
        pytest.param(
            "nobody@example.com", "No user with the email 'nobody@example.com'.", id="_case unknown"
        ),
        pytest.param(
            "student@example.com",
            "student@example.com is not an active instructor or admin.",
            id="_case student",
        ),
        pytest.param(
            "gone@example.com",
            "gone@example.com is not an active instructor or admin.",
            id="_case inactive",
        ),
    ],
)
def test_import_course_refuses_an_owner_who_cannot_teach(package_file, email, message):
    UserFactory(email="student@example.com")
    UserFactory(email="gone@example.com", instructor=True, inactive=True)

    with pytest.raises(CommandError) as excinfo:
        _import(package_file, email)

    assert str(excinfo.value) == message
    assert not Course.objects.filter(slug="rust-intro").exists()


def test_import_course_fails_for_a_missing_file(tmp_path, instructor):
    path = tmp_path / "nothing.json"

    with pytest.raises(CommandError) as excinfo:
        _import(path, instructor.email)

    assert str(excinfo.value) == f"No such file: {path}"
    assert excinfo.value.returncode == 1


def test_import_course_fails_for_invalid_json(tmp_path, instructor):
    path = tmp_path / "broken.json"
    path.write_text('{"format": "lms-course",\n  "version": 1,,}', encoding="utf-8")

    with pytest.raises(CommandError) as excinfo:
        _import(path, instructor.email)

    assert str(excinfo.value) == (
        f"{path} is not valid JSON: Expecting property name enclosed in double quotes "
        "(line 2, column 16)."
    )


def test_import_course_lists_every_problem_and_creates_nothing(tmp_path, instructor):
    package = {
        "format": "lms-course",
        "version": 1,
        "course": {"slug": "bad", "title": "", "price_amount": -1},
        "modules": [{"title": "M", "lessons": [{"title": "L", "kind": "podcast"}]}],
    }
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(package), encoding="utf-8")

    with pytest.raises(CommandError) as excinfo:
        _import(path, instructor.email)

    assert str(excinfo.value) == (
        f"{path}: The course package is not valid.\n"
        "  course.title: This field cannot be blank.\n"
        "  course.price_amount: Ensure this value is greater than or equal to 0.\n"
        "  modules[0].lessons[0].kind: Value 'podcast' is not a valid choice."
    )
    assert excinfo.value.returncode == 1
    assert not Course.objects.exists()


# --- seed_demo ----------------------------------------------------------------------------

DEMO_STATUSES = {
    "python-for-beginners": Course.Status.PUBLISHED,
    "django-rest-apis": Course.Status.PUBLISHED,
    "sql-fundamentals": Course.Status.PUBLISHED,
    "machine-learning-foundations": Course.Status.DRAFT,
}


def _seed():
    call_command("seed_demo", stdout=io.StringIO())


def test_seed_demo_creates_the_demo_courses_for_the_demo_instructor():
    _seed()

    courses = Course.objects.filter(owner__email="instructor@example.com")
    assert dict(courses.values_list("slug", "status")) == DEMO_STATUSES


def test_seed_demo_twice_creates_the_courses_once():
    _seed()
    lessons = Lesson.objects.count()

    _seed()

    assert dict(Course.objects.values_list("slug", "status")) == DEMO_STATUSES
    assert Lesson.objects.count() == lessons


def test_seed_demo_leaves_an_existing_demo_course_as_it_is():
    _seed()
    course_archive(course=Course.objects.get(slug="sql-fundamentals"))

    _seed()

    assert Course.objects.get(slug="sql-fundamentals").status == Course.Status.ARCHIVED


def test_seed_demo_free_course_has_modules_of_text_and_video_lessons():
    _seed()

    course = Course.objects.get(slug="python-for-beginners")
    kinds = set(Lesson.objects.filter(module__course=course).values_list("kind", flat=True))
    assert course.price_amount == 0
    assert course.modules.count() == 3
    assert kinds == {Lesson.Kind.TEXT, Lesson.Kind.VIDEO}


def test_seed_demo_paid_course_costs_49_dollars():
    _seed()

    course = Course.objects.get(slug="django-rest-apis")
    assert (course.price_amount, course.currency) == (4900, "USD")


def test_seed_demo_has_a_course_with_preview_lessons():
    _seed()

    previews = Lesson.objects.filter(module__course__slug="sql-fundamentals", is_preview=True)
    assert list(previews.order_by("position").values_list("title", flat=True)) == [
        "What a relational database is",
        "SELECT and WHERE",
    ]


def test_seed_demo_puts_the_courses_in_categories():
    _seed()

    categories = dict(Course.objects.values_list("slug", "category__slug"))
    assert categories == {
        "python-for-beginners": "programming",
        "django-rest-apis": "programming",
        "sql-fundamentals": "data-analytics",
        "machine-learning-foundations": "data-analytics",
    }
