"""manage.py export_enrollments: the back-office CSV of enrolments.

(Kept with the operations tests; the command lives in enrollments/management/commands.)
"""

import csv
import io
import os

import pytest
from django.core.management import CommandError, call_command

from accounts.tests.factories import UserFactory
from courses.tests.factories import CourseFactory
from enrollments.tests.factories import EnrollmentFactory
from lms.tests.processes import run_python

pytestmark = pytest.mark.django_db


def export(*args: str) -> tuple[list[dict], str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("export_enrollments", *args, stdout=out, stderr=err)
    return list(csv.DictReader(io.StringIO(out.getvalue()))), err.getvalue()


def test_every_enrolment_is_exported_with_its_learner_course_and_times():
    enrollment = EnrollmentFactory(
        user=UserFactory(email="ada@example.com", full_name="Ada Lovelace"), completed=True
    )

    rows, err = export()

    assert rows == [
        {
            "enrollment_id": str(enrollment.pk),
            "course_slug": enrollment.course.slug,
            "course_title": enrollment.course.title,
            "email": "ada@example.com",
            "full_name": "Ada Lovelace",
            "status": "completed",
            "source": "free",
            "progress_percent": "0",
            "completed_required_lessons": "0",
            "enrolled_at": enrollment.enrolled_at.isoformat(),
            "completed_at": enrollment.completed_at.isoformat(),
            "cancelled_at": "",
            "last_accessed_at": "",
        }
    ]
    assert "1 enrolment(s) exported to standard output." in err


def test_one_course_and_some_statuses():
    course = CourseFactory(published=True, slug="sql-basics")
    kept = EnrollmentFactory(course=course)
    EnrollmentFactory(course=course, cancelled=True)
    EnrollmentFactory()

    rows, _ = export("--course", "SQL-Basics", "--status", "active", "--status", "completed")

    assert [row["enrollment_id"] for row in rows] == [str(kept.pk)]


def test_an_unknown_course_fails():
    with pytest.raises(CommandError, match="No course with the slug 'nope'"):
        export("--course", "nope")


def test_output_to_a_file(tmp_path):
    EnrollmentFactory.create_batch(3)
    target = tmp_path / "enrollments.csv"

    rows, err = export("--output", str(target))

    assert rows == []
    assert len(list(csv.DictReader(target.open(encoding="utf-8")))) == 3
    assert f"3 enrolment(s) exported to {target}." in err


def test_an_unwritable_output_fails(tmp_path):
    with pytest.raises(CommandError, match="Cannot write"):
        export("--output", str(tmp_path / "missing" / "enrollments.csv"))


def test_formula_cells_are_neutralised():
    EnrollmentFactory(user=UserFactory(full_name='=HYPERLINK("http://evil")'))

    rows, _ = export()

    assert rows[0]["full_name"].startswith("'=")


def test_progress_is_reported_on_long_exports(monkeypatch):
    monkeypatch.setattr("enrollments.management.commands.export_enrollments.PROGRESS_EVERY", 2)
    EnrollmentFactory.create_batch(5)

    rows, err = export()

    assert len(rows) == 5
    assert "... 2 of 5" in err
    assert "... 4 of 5" in err


def test_help_explains_the_command_and_its_options():
    env = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}

    result = run_python(
        "from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'export_enrollments', '--help'])",
        env,
    )

    assert result.returncode == 0, result.stderr
    assert "Write enrolments as CSV" in result.stdout
    for option in ("--course SLUG", "--status", "--output FILE"):
        assert option in result.stdout
