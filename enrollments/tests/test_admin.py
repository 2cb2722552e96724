import csv
import io

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.tests.factories import UserFactory
from courses.models import Course, Lesson
from courses.tests.factories import course_with_content
from enrollments import hooks, services
from enrollments.models import Enrollment
from enrollments.tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db

CHANGELIST_URL = reverse("admin:enrollments_enrollment_changelist")
ADD_URL = reverse("admin:enrollments_enrollment_add")


def change_url(enrollment):
    return reverse("admin:enrollments_enrollment_change", args=[enrollment.pk])


def delete_url(enrollment):
    return reverse("admin:enrollments_enrollment_delete", args=[enrollment.pk])


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def listed(response):
    return {enrollment.pk for enrollment in response.context["cl"].result_list}


def run_action(client, action, enrollments):
    return client.post(
        CHANGELIST_URL,
        {"action": action, "_selected_action": [str(enrollment.pk) for enrollment in enrollments]},
    )


def enrol(user, course, source=Enrollment.Source.FREE):
    enrollment, _ = services.enrollment_create(user=user, course=course, source=source)
    return enrollment


@pytest.fixture
def course(instructor):
    """Published, free, owned by `instructor`: 1 module of 2 lessons."""
    return course_with_content(lessons_per_module=2, owner=instructor, published=True)


@pytest.fixture
def other_course(other_instructor):
    return course_with_content(owner=other_instructor, published=True)


@pytest.fixture
def completions(monkeypatch):
    """The enrolment ids the completion callbacks were called with."""
    calls = []
    monkeypatch.setattr(hooks, "_completion_callbacks", [calls.append])
    return calls


# --- Who sees what ------------------------------------------------------------------------


def test_admin_sees_every_enrolment(client, admin_user, course, other_course):
    enrollments = [EnrollmentFactory(course=course), EnrollmentFactory(course=other_course)]
    client.force_login(admin_user)

    response = client.get(CHANGELIST_URL)

    assert response.status_code == 200
    assert listed(response) == {enrollment.pk for enrollment in enrollments}


def test_instructor_sees_only_the_enrolments_of_courses_they_teach(
    client, instructor, other_instructor, course, other_course
):
    co_taught = course_with_content(
        owner=other_instructor, co_instructors=[instructor], published=True
    )
    own = EnrollmentFactory(course=course)
    co = EnrollmentFactory(course=co_taught)
    EnrollmentFactory(course=other_course)
    client.force_login(instructor)

    response = client.get(CHANGELIST_URL)

    assert response.status_code == 200
    assert listed(response) == {own.pk, co.pk}


def test_instructor_course_filter_lists_only_their_courses(
    client, instructor, course, other_course
):
    second = course_with_content(owner=instructor, published=True)
    for enrolled_in in (course, second, other_course):
        EnrollmentFactory(course=enrolled_in)
    client.force_login(instructor)

    response = client.get(CHANGELIST_URL)

    course_filter = next(
        spec for spec in response.context["cl"].filter_specs if spec.field_path == "course"
    )
    assert {label for _, label in course_filter.lookup_choices} == {course.title, second.title}


def test_instructor_is_sent_away_from_an_enrolment_in_another_course(
    client, instructor, other_course
):
    enrollment = EnrollmentFactory(course=other_course)
    client.force_login(instructor)

    response = client.get(change_url(enrollment))

    # Outside the instructor's queryset the enrolment "does not exist": Django redirects to
    # the admin index with a warning.
    assert response.status_code == 302
    assert response.url == reverse("admin:index")


def test_student_is_redirected_to_the_admin_login(client, student):
    client.force_login(student)

    response = client.get(CHANGELIST_URL)

    assert response.status_code == 302
    assert response.url == f"{reverse('admin:login')}?next={CHANGELIST_URL}"


def test_instructor_views_an_enrolment_with_its_lesson_progress(
    client, instructor, student, course
):
    enrollment = enrol(student, course)
    lesson = Lesson.objects.filter(module__course=course).order_by("position").first()
    services.lesson_complete(user=student, lesson=lesson)
    client.force_login(instructor)

    response = client.get(change_url(enrollment))

    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    [inline] = response.context["inline_admin_formsets"]
    assert [form.original.lesson_id for form in inline] == [lesson.pk]


def test_posting_the_change_page_changes_nothing(client, admin_user, student, course):
    enrollment = enrol(student, course)
    client.force_login(admin_user)

    response = client.post(change_url(enrollment), {"status": "completed", "source": "admin"})

    enrollment.refresh_from_db()
    assert response.status_code == 403
    assert enrollment.status == Enrollment.Status.ACTIVE
    assert enrollment.source == Enrollment.Source.FREE


# --- Actions ------------------------------------------------------------------------------


def test_cancel_action_cancels_and_frees_the_seat(client, instructor, student, course):
    enrollment = enrol(student, course)
    client.force_login(instructor)

    response = run_action(client, "cancel_enrollments", [enrollment])

    enrollment.refresh_from_db()
    course.refresh_from_db()
    assert response.status_code == 302
    assert enrollment.status == Enrollment.Status.CANCELLED
    assert enrollment.cancelled_at is not None
    assert course.enrollment_count == 0
    assert messages_of(response) == ["1 enrolment(s) cancelled."]


def test_cancel_action_skips_refunded_enrolments(client, admin_user, student, course):
    enrollment = enrol(student, course)
    services.enrollment_cancel(enrollment=enrollment, status=Enrollment.Status.REFUNDED)
    client.force_login(admin_user)

    response = run_action(client, "cancel_enrollments", [enrollment])

    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.REFUNDED
    assert messages_of(response) == [
        "0 enrolment(s) cancelled.",
        "1 enrolment(s) skipped: already cancelled or refunded.",
    ]


def test_instructor_cannot_act_on_an_enrolment_in_another_course(
    client, instructor, student, other_course
):
    enrollment = enrol(student, other_course)
    client.force_login(instructor)

    run_action(client, "cancel_enrollments", [enrollment])

    enrollment.refresh_from_db()
    other_course.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE
    assert other_course.enrollment_count == 1


def test_mark_completed_action_completes_and_runs_the_completion_callbacks(
    client, instructor, student, course, completions, django_capture_on_commit_callbacks
):
    enrollment = enrol(student, course)
    client.force_login(instructor)

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(client, "mark_completed", [enrollment])

    enrollment.refresh_from_db()
    course.refresh_from_db()
    assert enrollment.status == Enrollment.Status.COMPLETED
    assert enrollment.completed_at is not None
    assert enrollment.progress_percent == 0  # progress is not invented
    assert course.enrollment_count == 1  # a completed enrolment keeps its seat
    assert completions == [enrollment.pk]
    assert messages_of(response) == ["1 enrolment(s) marked completed."]


def test_mark_completed_action_leaves_cancelled_enrolments(
    client, admin_user, student, course, completions, django_capture_on_commit_callbacks
):
    enrollment = enrol(student, course)
    services.enrollment_cancel(enrollment=enrollment)
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(client, "mark_completed", [enrollment])

    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.CANCELLED
    assert enrollment.completed_at is None
    assert completions == []
    assert messages_of(response)[-1] == (
        "1 enrolment(s) skipped: only active enrolments can be completed."
    )


def test_mark_completed_twice_runs_the_callbacks_once(
    student, course, completions, django_capture_on_commit_callbacks
):
    enrollment = enrol(student, course)

    with django_capture_on_commit_callbacks(execute=True):
        services.enrollment_mark_completed(enrollment=enrollment)
        again = services.enrollment_mark_completed(enrollment=enrollment)

    assert again.status == Enrollment.Status.COMPLETED
    assert completions == [enrollment.pk]


# --- Granting through the add form --------------------------------------------------------


def test_grant_enrols_through_the_service_and_takes_a_seat(
    client, instructor, course, mailoutbox, django_capture_on_commit_callbacks
):
    learner = UserFactory(email="learner@example.com")
    client.force_login(instructor)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            ADD_URL, {"learner": "Learner@Example.com", "course": course.pk, "source": "admin"}
        )

    course.refresh_from_db()
    enrollment = Enrollment.objects.get()
    assert response.status_code == 302
    assert response.url == CHANGELIST_URL
    assert (enrollment.user_id, enrollment.course_id) == (learner.pk, course.pk)
    assert enrollment.source == Enrollment.Source.ADMIN
    assert enrollment.status == Enrollment.Status.ACTIVE
    assert course.enrollment_count == 1
    assert [message.to for message in mailoutbox] == [[learner.email]]


def test_grant_in_a_full_course_shows_the_error_and_creates_nothing(
    client, admin_user, course, mailoutbox, django_capture_on_commit_callbacks
):
    Course.objects.filter(pk=course.pk).update(seat_capacity=1)
    enrol(UserFactory(), course)
    learner = UserFactory()
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            ADD_URL, {"learner": learner.email, "course": course.pk, "source": "admin"}
        )

    course.refresh_from_db()
    assert response.status_code == 302
    assert response.url.startswith(f"{ADD_URL}?")
    assert f"learner={learner.email.replace('@', '%40')}" in response.url
    assert messages_of(response) == [
        "Not enrolled: Every seat in this course is taken. (code: course_full)"
    ]
    assert not Enrollment.objects.filter(user=learner).exists()
    assert course.enrollment_count == 1
    assert mailoutbox == []


def test_grant_reactivates_a_cancelled_enrolment(client, admin_user, student, course):
    enrollment = enrol(student, course)
    services.enrollment_cancel(enrollment=enrollment)
    client.force_login(admin_user)

    response = client.post(
        ADD_URL, {"learner": student.email, "course": course.pk, "source": "admin"}
    )

    enrollment.refresh_from_db()
    course.refresh_from_db()
    assert response.status_code == 302
    assert Enrollment.objects.count() == 1
    assert enrollment.status == Enrollment.Status.ACTIVE
    assert enrollment.source == Enrollment.Source.ADMIN
    assert course.enrollment_count == 1


def test_grant_of_an_enrolled_learner_says_so(client, admin_user, student, course):
    enrol(student, course)
    client.force_login(admin_user)

    response = client.post(
        ADD_URL, {"learner": student.email, "course": course.pk, "source": "admin"}
    )

    course.refresh_from_db()
    assert messages_of(response) == [
        f"Not enrolled: {student.email} is already enrolled in “{course}”. (code: already_enrolled)"
    ]
    assert course.enrollment_count == 1


def test_grant_for_an_unknown_email_is_a_form_error(client, admin_user, course):
    client.force_login(admin_user)

    response = client.post(
        ADD_URL, {"learner": "nobody@example.com", "course": course.pk, "source": "admin"}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "learner": ["No active account has this email address."]
    }
    assert not Enrollment.objects.exists()


def test_instructor_cannot_grant_in_a_course_they_do_not_teach(
    client, instructor, student, other_course
):
    client.force_login(instructor)

    response = client.post(
        ADD_URL, {"learner": student.email, "course": other_course.pk, "source": "admin"}
    )

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["course"]
    assert not Enrollment.objects.exists()


def test_grant_form_offers_only_the_instructors_courses(client, instructor, course, other_course):
    client.force_login(instructor)

    response = client.get(ADD_URL)

    form = response.context["adminform"].form
    assert list(form.fields["course"].queryset) == [course]
    assert form.fields["source"].initial == Enrollment.Source.ADMIN


# --- Export -------------------------------------------------------------------------------


def test_export_writes_the_selected_enrolments_as_csv(client, instructor, course):
    learner = UserFactory(email="ada@example.com", full_name="Ada Lovelace")
    enrollment = enrol(learner, course)
    client.force_login(instructor)

    response = run_action(client, "export_csv", [enrollment])

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="enrollments-')
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        [
            "email",
            "full_name",
            "course_slug",
            "course_title",
            "status",
            "source",
            "progress_percent",
            "completed_required_lessons",
            "enrolled_at",
            "completed_at",
            "cancelled_at",
            "last_accessed_at",
        ],
        [
            "ada@example.com",
            "Ada Lovelace",
            course.slug,
            course.title,
            "active",
            "free",
            "0",
            "0",
            enrollment.enrolled_at.isoformat(),
            "",
            "",
            "",
        ],
    ]


def test_export_defuses_spreadsheet_formulas(client, admin_user, course):
    learner = UserFactory(full_name='=HYPERLINK("https://evil.example","x")')
    Course.objects.filter(pk=course.pk).update(title="@SUM(A1:A2)")
    enrollment = enrol(learner, course)
    client.force_login(admin_user)

    response = run_action(client, "export_csv", [enrollment])

    row = list(csv.reader(io.StringIO(response.content.decode())))[1]
    assert row[1] == '\'=HYPERLINK("https://evil.example","x")'
    assert row[3] == "'@SUM(A1:A2)"


# --- Deleting -----------------------------------------------------------------------------


def test_admin_who_is_not_a_superuser_cannot_delete(client, admin_user, student, course):
    enrollment = enrol(student, course)
    client.force_login(admin_user)

    response = client.post(delete_url(enrollment), {"post": "yes"})

    assert response.status_code == 403
    assert Enrollment.objects.filter(pk=enrollment.pk).exists()


def test_superuser_deletes_an_enrolment_and_its_seat_is_freed(client, student, course):
    superuser = UserFactory(admin=True, is_superuser=True)
    enrollment = enrol(student, course)
    client.force_login(superuser)

    response = client.post(delete_url(enrollment), {"post": "yes"})

    course.refresh_from_db()
    assert response.status_code == 302
    assert not Enrollment.objects.filter(pk=enrollment.pk).exists()
    assert course.enrollment_count == 0
