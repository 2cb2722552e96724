"""The learning pages: dashboard, enrolling, leaving a course and completing lessons."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import UserFactory
from courses.models import Course, Lesson
from courses.tests.factories import course_with_content
from enrollments.models import Enrollment, LessonProgress
from enrollments.services import enrollment_create
from enrollments.tests.factories import EnrollmentFactory, LessonProgressFactory

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "student", "other_student", "instructor", "other_instructor", "admin_user"]


def _expect(**statuses: int) -> list:
    """Parametrize over every role with the expected status for each."""
    return [pytest.param(role, statuses[role], id=f"_case {role}") for role in ROLES]


@pytest.fixture
def course(instructor) -> Course:
    """Free and published, owned by `instructor`: 2 modules of 2 lessons."""
    return course_with_content(modules=2, lessons_per_module=2, owner=instructor, published=True)


def _lessons(course: Course) -> list[Lesson]:
    return list(
        Lesson.objects.filter(module__course=course).order_by("module__position", "position")
    )


def _lesson_url(lesson: Lesson) -> str:
    return f"/courses/{lesson.module.course.slug}/lessons/{lesson.pk}/"


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _text(response) -> str:
    return response.content.decode()


# --- Dashboard -------------------------------------------------------------------------------


def test_dashboard_sends_visitors_to_log_in_and_back(client):
    response = client.get("/dashboard/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/dashboard/"


@pytest.mark.parametrize(
    "role_user", ["student", "other_student", "instructor", "admin_user"], indirect=True
)
def test_dashboard_shows_only_the_signed_in_learners_courses(page_client, student, role_user):
    EnrollmentFactory(user=student, course=course_with_content(title="The student course"))

    body = _text(page_client(role_user).get("/dashboard/"))

    assert ("The student course" in body) == (role_user == student)


def test_dashboard_shows_progress_and_continues_with_the_next_lesson(page_client, student, course):
    first, second = _lessons(course)[:2]
    enrollment = EnrollmentFactory(user=student, course=course, progress_percent=25)
    LessonProgressFactory(enrollment=enrollment, lesson=first)

    body = _text(page_client(student).get("/dashboard/"))

    assert 'max="100" value="25"' in body
    assert f'href="{_lesson_url(second)}">Continue: {second.title}</a>' in body


def test_dashboard_starts_a_new_course_with_its_first_lesson(page_client, student, course):
    EnrollmentFactory(user=student, course=course)
    first = _lessons(course)[0]

    body = _text(page_client(student).get("/dashboard/"))

    assert f'href="{_lesson_url(first)}">Start: {first.title}</a>' in body


def test_dashboard_lists_completed_and_left_courses_apart(page_client, student):
    EnrollmentFactory(user=student, course=course_with_content(title="Done course"), completed=True)
    EnrollmentFactory(user=student, course=course_with_content(title="Left course"), cancelled=True)

    response = page_client(student).get("/dashboard/")

    assert [e.course.title for e in response.context["completed"]] == ["Done course"]
    assert [e.course.title for e in response.context["ended"]] == ["Left course"]
    assert response.context["in_progress"] == []
    assert "You are not taking any course right now." in _text(response)


def test_dashboard_offers_to_leave_an_active_course(page_client, student, course):
    enrollment = EnrollmentFactory(user=student, course=course)

    body = _text(page_client(student).get("/dashboard/"))

    assert f'href="/enrollments/{enrollment.pk}/cancel/"' in body


@pytest.mark.parametrize("courses", [5, 50])
def test_dashboard_query_count_is_flat(page_client, student, django_assert_num_queries, courses):
    for number in range(courses):
        enrollment = EnrollmentFactory(
            user=student,
            course=course_with_content(lessons_per_module=2, published=True),
            completed=number % 5 == 0,
        )
        LessonProgressFactory(enrollment=enrollment, lesson=_lessons(enrollment.course)[0])
    client = page_client(student)

    with django_assert_num_queries(3):  # session, user, enrolments with course and next lesson
        response = client.get("/dashboard/")

    assert response.status_code == 200


# --- Enrolling -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous="/accounts/login/",
        student="/courses/",
        other_student="/courses/",
        instructor="/courses/",
        other_instructor="/courses/",
        admin_user="/courses/",
    ),
    indirect=["role_user"],
)
def test_enrol_for_each_role(page_client, course, role_user, expected):
    response = page_client(role_user).post(f"/courses/{course.slug}/enroll/")

    assert response.status_code == 302
    assert response["Location"].startswith(expected)
    assert Enrollment.objects.filter(course=course).count() == (0 if role_user is None else 1)


def test_enrolling_creates_the_enrolment_and_says_so(page_client, student, course):
    response = page_client(student).post(f"/courses/{course.slug}/enroll/", follow=True)

    enrollment = Enrollment.objects.get(user=student, course=course)
    assert enrollment.status == Enrollment.Status.ACTIVE
    assert enrollment.source == Enrollment.Source.FREE
    assert _messages(response) == [f"You are enrolled in {course.title}."]
    assert "You are enrolled in this course." in _text(response)


def test_enrolling_sends_the_enrolled_email(
    page_client, student, course, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        page_client(student).post(f"/courses/{course.slug}/enroll/")

    assert [message.to for message in mail.outbox] == [[student.email]]


def test_enrolling_twice_keeps_one_enrolment(page_client, student, course):
    client = page_client(student)
    client.post(f"/courses/{course.slug}/enroll/", follow=True)

    response = client.post(f"/courses/{course.slug}/enroll/", follow=True)

    assert Enrollment.objects.filter(user=student, course=course).count() == 1
    assert _messages(response) == [f"You are already enrolled in {course.title}."]


def test_enrolling_again_after_leaving_reactivates_the_enrolment(page_client, student, course):
    enrollment = EnrollmentFactory(user=student, course=course, cancelled=True)

    page_client(student).post(f"/courses/{course.slug}/enroll/")

    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE


def test_get_on_the_enrol_url_shows_the_course_without_enrolling(page_client, student, course):
    response = page_client(student).get(f"/courses/{course.slug}/enroll/")

    assert response.status_code == 302
    assert response["Location"] == f"/courses/{course.slug}/"
    assert not Enrollment.objects.exists()


def test_enrolling_needs_the_csrf_token(student, course):
    client = Client(enforce_csrf_checks=True)
    client.force_login(student)

    response = client.post(f"/courses/{course.slug}/enroll/")

    assert response.status_code == 403
    assert "This form has expired" in _text(response)
    assert not Enrollment.objects.exists()


@pytest.mark.parametrize(
    ("course_fields", "message"),
    [
        pytest.param(
            {"paid": True},
            "This is a paid course: buy it with the button on the course page.",
            id="_case payment_required",
        ),
        pytest.param(
            {"seat_capacity": 1, "enrollment_count": 1},
            "Every seat in this course is taken.",
            id="_case course_full",
        ),
        pytest.param(
            {"enrollment_closes_at": timezone.now() - timedelta(days=1)},
            "Enrolment for this course is closed.",
            id="_case enrollment_closed",
        ),
        pytest.param(
            {"published": False, "archived": True},
            "This course is archived and no longer takes enrolments.",
            id="_case course_archived",
        ),
    ],
)
def test_refused_enrolment_is_a_message_on_the_course_page(
    page_client, student, course_fields, message
):
    course = course_with_content(**{"published": True, **course_fields})

    response = page_client(student).post(f"/courses/{course.slug}/enroll/", follow=True)

    assert response.redirect_chain == [(f"/courses/{course.slug}/", 302)]
    assert _messages(response)[0].startswith(message)
    assert not Enrollment.objects.exists()
    assert mail.outbox == []


def test_enrolling_with_an_unverified_email_asks_to_verify_it(
    page_client, settings, student, course
):
    settings.ACCOUNTS_REQUIRE_VERIFIED_EMAIL = True
    student.email_verified_at = None
    student.save()

    response = page_client(student).post(f"/courses/{course.slug}/enroll/", follow=True)

    assert _messages(response)[0].startswith("Verify your email address before you enrol")
    assert not Enrollment.objects.exists()


def test_enrolling_in_a_draft_is_not_found_for_students(page_client, student):
    draft = course_with_content()

    response = page_client(student).post(f"/courses/{draft.slug}/enroll/")

    assert response.status_code == 404
    assert not Enrollment.objects.exists()


# --- Leaving a course ------------------------------------------------------------------------


def test_leaving_asks_for_confirmation_first(page_client, student, course):
    enrollment = EnrollmentFactory(user=student, course=course)

    response = page_client(student).get(f"/enrollments/{enrollment.pk}/cancel/")

    assert response.status_code == 200
    assert f'action="/enrollments/{enrollment.pk}/cancel/"' in _text(response)
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE


def test_leaving_a_bought_course_warns_that_it_is_not_refunded(page_client, student):
    enrollment = EnrollmentFactory(
        user=student, course=course_with_content(published=True, paid=True), source="purchase"
    )

    body = _text(page_client(student).get(f"/enrollments/{enrollment.pk}/cancel/"))

    assert "Leaving it does not refund it" in body


def test_leaving_cancels_the_enrolment_and_frees_the_seat(page_client, student, course):
    enrollment, _created = enrollment_create(user=student, course=course, source="free")

    response = page_client(student).post(f"/enrollments/{enrollment.pk}/cancel/", follow=True)

    enrollment.refresh_from_db()
    course.refresh_from_db()
    assert enrollment.status == Enrollment.Status.CANCELLED
    assert course.enrollment_count == 0
    assert response.redirect_chain == [("/dashboard/", 302)]
    assert _messages(response) == [
        f"You left {course.title}. Your progress is kept if you enrol again."
    ]


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=302,
        student=302,
        other_student=404,
        instructor=404,
        other_instructor=404,
        admin_user=404,
    ),
    indirect=["role_user"],
)
def test_only_the_learner_leaves_their_course_from_the_pages(
    page_client, student, course, role_user, expected
):
    enrollment, _created = enrollment_create(user=student, course=course, source="free")

    response = page_client(role_user).post(f"/enrollments/{enrollment.pk}/cancel/")

    assert response.status_code == expected
    enrollment.refresh_from_db()
    expected_status = "cancelled" if role_user == student else "active"
    assert enrollment.status == expected_status


def test_a_refunded_enrolment_cannot_be_left(page_client, student, course):
    enrollment = EnrollmentFactory(user=student, course=course, status="refunded")

    response = page_client(student).post(f"/enrollments/{enrollment.pk}/cancel/", follow=True)

    assert _messages(response) == ["This enrolment was refunded and cannot change."]
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.REFUNDED


def test_leaving_an_unknown_enrolment_is_not_found(page_client, student):
    response = page_client(student).post(
        "/enrollments/00000000-0000-0000-0000-000000000000/cancel/"
    )

    assert response.status_code == 404


# --- Completing lessons ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=302,
        student=302,
        other_student=403,
        instructor=403,
        other_instructor=403,
        admin_user=403,
    ),
    indirect=["role_user"],
)
def test_only_enrolled_learners_complete_lessons(page_client, student, course, role_user, expected):
    EnrollmentFactory(user=student, course=course)
    lesson = _lessons(course)[0]

    response = page_client(role_user).post(f"/lessons/{lesson.pk}/complete/")

    assert response.status_code == expected
    completed = LessonProgress.objects.filter(lesson=lesson, completed_at__isnull=False).count()
    assert completed == (1 if role_user == student else 0)


def test_completing_a_lesson_moves_the_progress_and_returns_to_it(page_client, student, course):
    enrollment, _created = enrollment_create(user=student, course=course, source="free")
    lesson = _lessons(course)[0]

    response = page_client(student).post(f"/lessons/{lesson.pk}/complete/", follow=True)

    enrollment.refresh_from_db()
    assert enrollment.progress_percent == 25
    assert response.redirect_chain == [(_lesson_url(lesson), 302)]
    assert _messages(response) == ["Lesson completed. Your progress in this course: 25%."]
    assert "You completed this lesson." in _text(response)


def test_completing_the_last_lesson_completes_the_course(page_client, student, course):
    enrollment, _created = enrollment_create(user=student, course=course, source="free")
    client = page_client(student)
    lessons = _lessons(course)
    for lesson in lessons[:-1]:
        client.post(f"/lessons/{lesson.pk}/complete/", follow=True)

    response = client.post(f"/lessons/{lessons[-1].pk}/complete/", follow=True)

    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.COMPLETED
    assert _messages(response) == [f"You completed {course.title}. Well done!"]


def test_completing_a_locked_lesson_is_the_403_page_with_its_unlock_time(
    page_client, student, course
):
    EnrollmentFactory(user=student, course=course)
    lesson = _lessons(course)[0]
    Lesson.objects.filter(pk=lesson.pk).update(available_from=timezone.now() + timedelta(days=1))

    response = page_client(student).post(f"/lessons/{lesson.pk}/complete/")

    assert response.status_code == 403
    assert "This lesson opens on" in _text(response)
    assert not LessonProgress.objects.exists()


def test_get_on_the_complete_url_shows_the_lesson_without_completing_it(
    page_client, student, course
):
    EnrollmentFactory(user=student, course=course)
    lesson = _lessons(course)[0]

    response = page_client(student).get(f"/lessons/{lesson.pk}/complete/")

    assert response.status_code == 302
    assert response["Location"] == _lesson_url(lesson)
    assert not LessonProgress.objects.exists()


def test_completing_a_lesson_of_a_draft_is_not_found_for_students(page_client, student):
    lesson = _lessons(course_with_content())[0]

    response = page_client(student).post(f"/lessons/{lesson.pk}/complete/")

    assert response.status_code == 404


def test_completing_needs_the_csrf_token(student, course):
    EnrollmentFactory(user=student, course=course)
    client = Client(enforce_csrf_checks=True)
    client.force_login(student)

    response = client.post(f"/lessons/{_lessons(course)[0].pk}/complete/")

    assert response.status_code == 403
    assert not LessonProgress.objects.exists()


def test_other_learners_progress_is_untouched(page_client, student, course):
    other = EnrollmentFactory(user=UserFactory(), course=course)
    EnrollmentFactory(user=student, course=course)

    page_client(student).post(f"/lessons/{_lessons(course)[0].pk}/complete/")

    assert not LessonProgress.objects.filter(enrollment=other).exists()


# --- Course and lesson pages for enrolled learners ------------------------------------------


def test_course_page_for_an_enrolled_learner_continues_with_the_next_lesson(
    page_client, student, course
):
    first, second = _lessons(course)[:2]
    enrollment = EnrollmentFactory(user=student, course=course)
    LessonProgressFactory(enrollment=enrollment, lesson=first)

    body = _text(page_client(student).get(f"/courses/{course.slug}/"))

    assert "You are enrolled in this course." in body
    assert f'<a class="button" href="{_lesson_url(second)}">Continue learning</a>' in body
    assert "Completed" in body


def test_course_page_shows_when_a_dripped_lesson_opens_for_the_learner(
    page_client, student, course
):
    dripped = _lessons(course)[1]
    Lesson.objects.filter(pk=dripped.pk).update(available_after_days=7)
    EnrollmentFactory(user=student, course=course)

    body = _text(page_client(student).get(f"/courses/{course.slug}/"))

    assert "Opens on" in body
    assert f'href="{_lesson_url(dripped)}"' not in body


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=302,
        student=200,
        other_student=403,
        instructor=200,
        other_instructor=403,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_lesson_page_is_for_enrolled_learners_instructors_and_admins(
    page_client, course, student, role_user, expected
):
    EnrollmentFactory(user=student, course=course)

    response = page_client(role_user).get(_lesson_url(_lessons(course)[0]))

    assert response.status_code == expected


def test_lesson_page_of_a_cancelled_enrolment_is_closed(page_client, student, course):
    EnrollmentFactory(user=student, course=course, cancelled=True)

    response = page_client(student).get(_lesson_url(_lessons(course)[0]))

    assert response.status_code == 403


def test_locked_lesson_shows_its_unlock_time_on_the_403_page(page_client, student, course):
    lesson = _lessons(course)[0]
    opens = timezone.now() + timedelta(days=2)
    Lesson.objects.filter(pk=lesson.pk).update(available_from=opens)
    EnrollmentFactory(user=student, course=course)

    response = page_client(student).get(_lesson_url(lesson))

    assert response.status_code == 403
    assert "This lesson opens on" in _text(response)
    assert f"{opens:%Y}" in _text(response)


def test_dripped_lesson_is_locked_for_a_new_learner(page_client, student, course):
    lesson = _lessons(course)[1]
    Lesson.objects.filter(pk=lesson.pk).update(available_after_days=3)
    EnrollmentFactory(user=student, course=course)

    response = page_client(student).get(_lesson_url(lesson))

    assert response.status_code == 403
    assert "This lesson opens on" in _text(response)


def test_lesson_page_offers_mark_complete_to_an_enrolled_learner(page_client, student, course):
    lesson = _lessons(course)[0]
    EnrollmentFactory(user=student, course=course)

    body = _text(page_client(student).get(_lesson_url(lesson)))

    assert f'action="/lessons/{lesson.pk}/complete/"' in body
    assert 'name="csrfmiddlewaretoken"' in body


def test_completed_lesson_says_so_instead_of_the_button(page_client, student, course):
    lesson = _lessons(course)[0]
    enrollment = EnrollmentFactory(user=student, course=course)
    LessonProgressFactory(enrollment=enrollment, lesson=lesson)

    body = _text(page_client(student).get(_lesson_url(lesson)))

    assert "You completed this lesson." in body
    assert "Mark as complete" not in body


def test_enrolled_learner_downloads_the_lesson_file(page_client, student, course):
    lesson = _lessons(course)[0]
    lesson.attachment.save("notes.txt", ContentFile(b"lesson notes"), save=True)
    EnrollmentFactory(user=student, course=course)
    client = page_client(student)

    response = client.get(f"{_lesson_url(lesson)}download/", follow=True)

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"lesson notes"
