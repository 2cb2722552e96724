import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from accounts.tests.factories import UserFactory
from courses.models import Course, Lesson
from courses.tests.factories import course_with_content
from enrollments import services
from enrollments.management.commands import import_users
from enrollments.models import Enrollment

pytestmark = pytest.mark.django_db

HEADER = "email,full_name,course\n"


@pytest.fixture
def course():
    return course_with_content(lessons_per_module=4, slug="python-basics", published=True)


@pytest.fixture
def write_csv(tmp_path):
    def write(text, name="users.csv"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def run(command, *args, **options):
    """(stdout, stderr) of a command that succeeds."""
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command(command, *args, stdout=stdout, stderr=stderr, **options)
    return stdout.getvalue(), stderr.getvalue()


def run_failing(command, *args, **options):
    """(stdout, stderr, CommandError) of a command that fails."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command(command, *args, stdout=stdout, stderr=stderr, **options)
    return stdout.getvalue(), stderr.getvalue(), excinfo.value


# --- import_users -------------------------------------------------------------------------


def test_import_creates_accounts_without_password_and_enrols_them(write_csv, course):
    path = write_csv(HEADER + "ada@example.com,Ada Lovelace,python-basics\n")

    stdout, stderr = run("import_users", path)

    user = User.objects.get(email="ada@example.com")
    enrollment = Enrollment.objects.get(user=user)
    course.refresh_from_db()
    assert user.full_name == "Ada Lovelace"
    assert user.role == User.Role.STUDENT
    assert user.has_usable_password() is False
    assert (enrollment.course_id, enrollment.source) == (course.pk, Enrollment.Source.IMPORT)
    assert course.enrollment_count == 1
    assert stderr == ""
    assert stdout == ("1 row(s): 1 account(s) created, 1 enrolled, 0 already enrolled, 0 failed.\n")


def test_import_reports_bad_rows_by_line_and_imports_the_good_ones(write_csv, course):
    full = course_with_content(slug="full-course", published=True, seat_capacity=1)
    services.enrollment_create(user=UserFactory(), course=full, source=Enrollment.Source.FREE)
    path = write_csv(
        HEADER
        + "good@example.com,Good One,python-basics\n"
        + "not-an-email,Bad Email,python-basics\n"
        + "lost@example.com,Lost,no-such-course\n"
        + "late@example.com,Late,full-course\n"
        + "\n"
        + "second@example.com,Second Good,\n"
    )

    stdout, stderr, error = run_failing("import_users", path)

    assert stderr.splitlines() == [
        "line 3: not-an-email: invalid: email: Enter a valid email address.",
        "line 4: lost@example.com: course_not_found: No course with the slug 'no-such-course'.",
        "line 5: late@example.com: course_full: Every seat in this course is taken.",
    ]
    assert str(error) == "3 row(s) failed; the other rows were imported."
    assert stdout == ("5 row(s): 2 account(s) created, 1 enrolled, 0 already enrolled, 3 failed.\n")
    assert User.objects.filter(email__in=["good@example.com", "second@example.com"]).count() == 2
    assert Enrollment.objects.filter(user__email="good@example.com", course=course).exists()
    assert not User.objects.filter(email__in=["lost@example.com", "late@example.com"]).exists()


def test_import_finds_an_existing_account_whatever_the_case(write_csv, course):
    user = UserFactory(email="grace@example.com", full_name="Grace Hopper")
    path = write_csv(HEADER + "  GRACE@Example.COM ,Someone Else,python-basics\n")

    stdout, _ = run("import_users", path)

    user.refresh_from_db()
    assert User.objects.filter(email__iexact="grace@example.com").count() == 1
    assert user.full_name == "Grace Hopper"
    assert Enrollment.objects.filter(user=user, course=course).exists()
    assert "0 account(s) created, 1 enrolled" in stdout


def test_import_counts_learners_already_enrolled(write_csv, student, course):
    services.enrollment_create(user=student, course=course, source=Enrollment.Source.FREE)
    path = write_csv(HEADER + f"{student.email},{student.full_name},python-basics\n")

    stdout, _ = run("import_users", path)

    enrollment = Enrollment.objects.get(user=student)
    assert enrollment.source == Enrollment.Source.FREE
    assert "0 enrolled, 1 already enrolled, 0 failed" in stdout


def test_import_enrols_in_a_paid_course_without_payment(write_csv):
    course_with_content(slug="paid-course", published=True, paid=True)
    path = write_csv(HEADER + "payer@example.com,Pat Payer,paid-course\n")

    run("import_users", path)

    enrollment = Enrollment.objects.get(user__email="payer@example.com")
    assert enrollment.source == Enrollment.Source.IMPORT
    assert enrollment.status == Enrollment.Status.ACTIVE


def test_import_creates_instructors_and_refuses_other_roles(write_csv):
    path = write_csv(
        "email,full_name,role\n"
        "teacher@example.com,Tea Cher,Instructor\n"
        "boss@example.com,Bo Ss,admin\n"
    )

    _, stderr, _ = run_failing("import_users", path)

    teacher = User.objects.get(email="teacher@example.com")
    assert (teacher.role, teacher.is_staff) == (User.Role.INSTRUCTOR, True)
    assert not User.objects.filter(email="boss@example.com").exists()
    assert stderr == (
        "line 3: boss@example.com: invalid_role: The role must be student or instructor, "
        "not 'admin'.\n"
    )


def test_import_refuses_to_enrol_a_deactivated_account(write_csv, course):
    UserFactory(email="gone@example.com", inactive=True)
    path = write_csv(HEADER + "gone@example.com,Gone,python-basics\n")

    _, stderr, _ = run_failing("import_users", path)

    assert stderr == "line 2: gone@example.com: user_inactive: The account is deactivated.\n"
    assert not Enrollment.objects.exists()


def test_import_dry_run_writes_nothing(write_csv, course, mailoutbox):
    path = write_csv(HEADER + "ada@example.com,Ada Lovelace,python-basics\n")

    stdout, _ = run("import_users", path, dry_run=True)

    course.refresh_from_db()
    assert not User.objects.filter(email="ada@example.com").exists()
    assert not Enrollment.objects.exists()
    assert course.enrollment_count == 0
    assert mailoutbox == []
    assert stdout == (
        "Dry run, nothing saved. "
        "1 row(s): 1 account(s) created, 1 enrolled, 0 already enrolled, 0 failed.\n"
    )


def test_import_dry_run_reports_what_would_fail(write_csv):
    course_with_content(slug="one-seat", published=True, seat_capacity=1)
    path = write_csv(
        HEADER + "first@example.com,First,one-seat\nsecond@example.com,Second,one-seat\n"
    )

    _, stderr, error = run_failing("import_users", path, dry_run=True)

    assert (
        stderr == "line 3: second@example.com: course_full: Every seat in this course is taken.\n"
    )
    assert str(error) == "1 row(s) failed."
    assert not User.objects.filter(email__in=["first@example.com", "second@example.com"]).exists()


def test_import_reports_progress_on_large_files(write_csv, monkeypatch):
    monkeypatch.setattr(import_users, "PROGRESS_EVERY", 2)
    path = write_csv(
        "email,full_name\n" + "".join(f"user-{n}@example.org,User {n}\n" for n in range(5))
    )

    stdout, _ = run("import_users", path)

    assert stdout.splitlines()[:2] == ["... 2 rows", "... 4 rows"]
    assert User.objects.filter(email__endswith="@example.org").count() == 5


def test_import_fails_for_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_users", str(tmp_path / "missing.csv"), stdout=io.StringIO())


def test_import_fails_for_missing_columns(write_csv):
    path = write_csv("email,course\nada@example.com,python-basics\n")

    with pytest.raises(CommandError, match=r"has no column\(s\): full_name\."):
        call_command("import_users", path, stdout=io.StringIO())

    assert not User.objects.filter(email="ada@example.com").exists()


def test_import_fails_for_an_unknown_column(write_csv):
    path = write_csv("email,full_name,coarse\nada@example.com,Ada,python-basics\n")

    with pytest.raises(CommandError, match=r"unknown column\(s\): coarse\."):
        call_command("import_users", path, stdout=io.StringIO())


# --- recompute_progress -------------------------------------------------------------------


def test_recompute_progress_repairs_a_corrupted_enrolment(student, other_student, course):
    enrollment, _ = services.enrollment_create(
        user=student, course=course, source=Enrollment.Source.FREE
    )
    services.enrollment_create(user=other_student, course=course, source=Enrollment.Source.FREE)
    lesson = Lesson.objects.filter(module__course=course).order_by("position").first()
    services.lesson_complete(user=student, lesson=lesson)
    Enrollment.objects.filter(pk=enrollment.pk).update(
        completed_required_lessons=3, progress_percent=75
    )

    stdout, _ = run("recompute_progress", course="python-basics")

    enrollment.refresh_from_db()
    assert (enrollment.completed_required_lessons, enrollment.progress_percent) == (1, 25)
    assert stdout == (
        "python-basics: 1 enrolment(s) repaired\n"
        "1 course(s) recounted; 1 enrolment(s) had drifted.\n"
    )


def test_recompute_progress_covers_every_course_with_enrolments(student, course):
    other = course_with_content(slug="another-course", published=True)
    course_with_content(slug="nobody-enrolled", published=True)
    for enrolled_in in (course, other):
        services.enrollment_create(user=student, course=enrolled_in, source=Enrollment.Source.FREE)

    stdout, _ = run("recompute_progress")

    assert stdout == (
        "another-course: 0 enrolment(s) repaired\n"
        "python-basics: 0 enrolment(s) repaired\n"
        "2 course(s) recounted; 0 enrolment(s) had drifted.\n"
    )


def test_recompute_progress_fails_for_an_unknown_course():
    with pytest.raises(CommandError) as excinfo:
        call_command("recompute_progress", course="no-such-course", stdout=io.StringIO())

    assert str(excinfo.value) == "No course with the slug 'no-such-course'."


# --- seed_demo (enrollments/demo.py) ------------------------------------------------------


def _demo_state():
    return sorted(
        Enrollment.objects.values_list(
            "user__email",
            "course__slug",
            "status",
            "source",
            "progress_percent",
            "completed_at",
            "last_accessed_at",
            "updated_at",
        )
    )


def test_seed_demo_enrols_the_demo_students_with_progress():
    run("seed_demo")

    state = {
        (email, slug): (status, source, progress)
        for email, slug, status, source, progress, *_ in _demo_state()
    }
    assert state == {
        ("student@example.com", "python-for-beginners"): ("active", "free", 37),
        ("student@example.com", "django-rest-apis"): ("active", "admin", 40),
        ("student2@example.com", "python-for-beginners"): ("completed", "free", 100),
    }
    assert Course.objects.get(slug="python-for-beginners").enrollment_count == 2


def test_seed_demo_run_again_changes_no_enrolment():
    run("seed_demo")
    before = _demo_state()

    stdout, _ = run("seed_demo")

    assert _demo_state() == before
    assert "enrolment  student2@example.com in python-for-beginners (completed, 100%)" in (
        stdout.splitlines()
    )
