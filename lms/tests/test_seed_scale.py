"""manage.py seed_scale: the benchmark data set, small here, as the services would leave it."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Q

from accounts.models import User
from accounts.scale import EMAIL_DOMAIN, SCALE_PASSWORD
from courses.models import Category, Course, Lesson
from enrollments.models import Enrollment, LessonProgress
from enrollments.services import enrollment_progress_recount

pytestmark = pytest.mark.django_db

SMALL = {
    "students": 60,
    "instructors": 4,
    "courses": 12,
    "published": 8,
    "modules": 2,
    "lessons": 3,
    "enrollments": 150,
    "completions": 400,
}


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_scale", stdout=out, **{**SMALL, **options})
    return out.getvalue()


def test_seed_scale_loads_the_requested_counts():
    seed()

    assert User.objects.filter(role=User.Role.STUDENT).count() == 60
    assert User.objects.filter(role=User.Role.INSTRUCTOR).count() == 4
    assert Course.objects.count() == 12
    assert Course.objects.filter(status=Course.Status.PUBLISHED).count() == 8
    assert Lesson.objects.count() == 12 * 2 * 3
    assert Enrollment.objects.count() == 150
    assert LessonProgress.objects.count() == 400


def test_seed_scale_multiplies_counts_by_the_scale_factor():
    seed(scale=0.5)

    assert User.objects.filter(role=User.Role.STUDENT).count() == 30
    assert Enrollment.objects.count() == 75
    assert Lesson.objects.count() == 6 * 2 * 3  # the shape of a course is not scaled


def test_seed_scale_leaves_the_counters_as_the_services_keep_them():
    seed()

    drifted = sum(
        enrollment_progress_recount(course_id=pk)
        for pk in Course.objects.values_list("pk", flat=True)
    )
    seats = dict(
        Course.objects.annotate(
            seats=Count("enrollments", filter=Q(enrollments__status__in=Enrollment.HOLDS_SEAT))
        ).values_list("pk", "seats")
    )
    assert drifted == 0
    assert dict(Course.objects.values_list("pk", "enrollment_count")) == seats


def test_seed_scale_completes_enrolments_whose_required_lessons_are_all_done():
    seed()

    for enrollment in Enrollment.objects.exclude(status=Enrollment.Status.CANCELLED):
        required = Lesson.objects.filter(module__course=enrollment.course, is_required=True)
        done = enrollment.completed_required_lessons == required.count()
        assert (enrollment.status == Enrollment.Status.COMPLETED) == done
    assert Enrollment.objects.filter(status=Enrollment.Status.COMPLETED).exists()


def test_seed_scale_enrols_only_in_published_or_archived_courses_with_the_right_source():
    seed()

    assert not Enrollment.objects.filter(course__status=Course.Status.DRAFT).exists()
    assert not Enrollment.objects.filter(course__price_amount=0, source="purchase").exists()
    assert not Enrollment.objects.filter(course__price_amount__gt=0, source="free").exists()


def test_seed_scale_is_reproducible_with_the_same_seed():
    seed(seed=7)
    first = sorted(Enrollment.objects.values_list("pk", "user__email", "course__slug"))
    LessonProgress.objects.all().delete()
    Enrollment.objects.all().delete()
    Course.objects.all().delete()
    Category.objects.all().delete()
    User.objects.all().delete()

    seed(seed=7)

    assert sorted(Enrollment.objects.values_list("pk", "user__email", "course__slug")) == first


def test_seed_scale_accounts_sign_in_with_the_documented_password():
    seed()

    user = User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}", role="student").first()
    assert user.check_password(SCALE_PASSWORD)
    assert user.email_verified_at is not None


def test_seed_scale_dry_run_writes_nothing():
    output = seed(dry_run=True)

    assert "rolled back" in output
    assert not User.objects.exists()
    assert not Enrollment.objects.exists()


def test_seed_scale_refuses_a_database_that_already_has_the_data_set():
    seed()

    with pytest.raises(CommandError, match="already loaded"):
        seed()


def test_seed_scale_refuses_more_completions_than_lessons():
    with pytest.raises(CommandError, match="completions"):
        seed(completions=150 * 6 + 1)

    assert not User.objects.exists()


def test_seed_scale_prints_progress_and_a_summary_with_timings():
    output = seed()

    assert "Lesson progress: 400 / 400 rows" in output
    assert "total" in output
    assert "Scale data set loaded in" in output
