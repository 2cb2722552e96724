"""Enrolment, progress, my learning, analytics and roster through the API."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from courses.models import Lesson
from courses.tests.factories import CourseFactory, course_with_content
from enrollments import services
from enrollments.models import Enrollment

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "student", "other_student", "instructor", "other_instructor", "admin_user"]


def _expect(**statuses: int) -> list:
    return [pytest.param(role, statuses[role], id=f"_case {role}") for role in ROLES]


def _lessons(course) -> list[Lesson]:
    return list(
        Lesson.objects.filter(module__course=course).order_by("module__position", "position")
    )


def _enrol(user, course) -> Enrollment:
    return services.enrollment_create(user=user, course=course, source="free")[0]


@pytest.fixture
def course(instructor):
    return course_with_content(modules=2, lessons_per_module=2, owner=instructor, published=True)


@pytest.fixture
def enrollment(student, course):
    return _enrol(student, course)


# --- Enrol --------------------------------------------------------------------------------


def test_enrol_answers_201_then_200(auth_client, student, course):
    client = auth_client(student)

    first = client.post(f"/api/v1/courses/{course.pk}/enroll/")
    second = client.post(f"/api/v1/courses/{course.slug}/enroll/")

    assert first.status_code == 201
    assert second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["status"] == "active"
    assert first.json()["course"]["slug"] == course.slug


def test_enrol_needs_a_verified_email_when_required(auth_client, student, course, settings):
    settings.ACCOUNTS_REQUIRE_VERIFIED_EMAIL = True

    response = auth_client(student).post(f"/api/v1/courses/{course.pk}/enroll/")

    assert response.status_code == 403
    assert response.json()["code"] == "email_not_verified"
    assert Enrollment.objects.count() == 0


def test_enrol_with_a_verified_email_when_required(auth_client, student, course, settings):
    settings.ACCOUNTS_REQUIRE_VERIFIED_EMAIL = True
    student.email_verified_at = timezone.now()
    student.save()

    response = auth_client(student).post(f"/api/v1/courses/{course.pk}/enroll/")

    assert response.status_code == 201


def test_anonymous_cannot_enrol(api_client, course):
    response = api_client.post(f"/api/v1/courses/{course.pk}/enroll/")

    assert response.status_code == 401
    assert Enrollment.objects.count() == 0


def test_enrol_in_a_paid_course_needs_payment(auth_client, student):
    course = course_with_content(published=True, paid=True)

    response = auth_client(student).post(f"/api/v1/courses/{course.pk}/enroll/")

    assert response.status_code == 402
    assert response.json()["code"] == "payment_required"
    assert Enrollment.objects.count() == 0


def test_enrol_in_a_draft_is_404(auth_client, student):
    course = course_with_content()

    response = auth_client(student).post(f"/api/v1/courses/{course.pk}/enroll/")

    assert response.status_code == 404


def test_enrol_in_an_archived_course_is_409(auth_client, student):
    course = course_with_content(archived=True)

    response = auth_client(student).post(f"/api/v1/courses/{course.pk}/enroll/")

    assert response.status_code == 409
    assert response.json()["code"] == "course_archived"


def test_enrol_after_the_window_closed_is_409(auth_client, student):
    course = course_with_content(
        published=True, enrollment_closes_at=timezone.now() - timedelta(hours=1)
    )

    response = auth_client(student).post(f"/api/v1/courses/{course.pk}/enroll/")

    assert response.status_code == 409
    assert response.json()["code"] == "enrollment_closed"


def test_enrol_in_a_full_course_is_409(auth_client, student, other_student):
    course = course_with_content(published=True, seat_capacity=1)
    _enrol(other_student, course)

    response = auth_client(student).post(f"/api/v1/courses/{course.pk}/enroll/")

    assert response.status_code == 409
    assert response.json()["code"] == "course_full"
    assert Enrollment.objects.filter(user=student).count() == 0


# --- Enrolment detail and cancel ----------------------------------------------------------


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=200,
        other_student=404,
        instructor=200,
        other_instructor=404,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_enrolment_detail_permissions(auth_client, enrollment, role_user, expected):
    response = auth_client(role_user).get(f"/api/v1/enrollments/{enrollment.pk}/")

    assert response.status_code == expected


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=200,
        other_student=404,
        instructor=200,
        other_instructor=404,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_cancel_permissions(auth_client, enrollment, role_user, expected):
    response = auth_client(role_user).post(f"/api/v1/enrollments/{enrollment.pk}/cancel/")

    enrollment.refresh_from_db()
    assert response.status_code == expected
    assert (enrollment.status == "cancelled") is (expected == 200)


def test_cancel_ends_access_to_lesson_bodies(auth_client, student, enrollment, course):
    client = auth_client(student)
    lesson = _lessons(course)[0]
    assert client.get(f"/api/v1/lessons/{lesson.pk}/").status_code == 200

    client.post(f"/api/v1/enrollments/{enrollment.pk}/cancel/")

    response = client.get(f"/api/v1/lessons/{lesson.pk}/")
    assert response.status_code == 403
    assert response.json()["code"] == "not_enrolled"


def test_unknown_enrolment_is_404(auth_client, student):
    response = auth_client(student).get("/api/v1/enrollments/not-a-uuid/")

    assert response.status_code == 404


# --- Lesson completion and progress -------------------------------------------------------


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=200,
        other_student=403,
        instructor=403,
        other_instructor=403,
        admin_user=403,
    ),
    indirect=["role_user"],
)
def test_complete_is_for_enrolled_learners(auth_client, enrollment, course, role_user, expected):
    lesson = _lessons(course)[0]

    response = auth_client(role_user).post(f"/api/v1/lessons/{lesson.pk}/complete/")

    assert response.status_code == expected
    if expected == 403:
        assert response.json()["code"] == "not_enrolled"


def test_complete_returns_the_new_progress(auth_client, student, enrollment, course):
    lesson = _lessons(course)[0]

    response = auth_client(student).post(f"/api/v1/lessons/{lesson.pk}/complete/")

    body = response.json()
    assert body["progress"]["lesson"] == str(lesson.pk)
    assert body["progress"]["completed_at"] is not None
    assert body["enrollment"] == {
        "id": str(enrollment.pk),
        "status": "active",
        "progress_percent": 25,
        "completed_at": None,
    }


@pytest.mark.parametrize("kind", ["quiz", "assignment"])
def test_assessed_lessons_cannot_be_completed_by_hand(
    auth_client, student, enrollment, course, kind
):
    lesson = _lessons(course)[0]
    Lesson.objects.filter(pk=lesson.pk).update(kind=kind)

    response = auth_client(student).post(f"/api/v1/lessons/{lesson.pk}/complete/")

    assert response.status_code == 409
    assert response.json()["code"] == "completed_by_assessment"
    enrollment.refresh_from_db()
    assert enrollment.progress_percent == 0


def test_complete_is_idempotent(auth_client, student, enrollment, course):
    lesson = _lessons(course)[0]
    client = auth_client(student)
    first = client.post(f"/api/v1/lessons/{lesson.pk}/complete/")

    second = client.post(f"/api/v1/lessons/{lesson.pk}/complete/")

    assert second.status_code == 200
    assert second.json() == first.json()


def test_completing_every_lesson_completes_the_course(auth_client, student, enrollment, course):
    client = auth_client(student)

    for lesson in _lessons(course):
        response = client.post(f"/api/v1/lessons/{lesson.pk}/complete/")

    assert response.json()["enrollment"]["status"] == "completed"
    assert response.json()["enrollment"]["progress_percent"] == 100


def test_complete_of_a_locked_lesson_says_when_it_opens(auth_client, student, enrollment, course):
    lesson = _lessons(course)[0]
    Lesson.objects.filter(pk=lesson.pk).update(available_after_days=3)

    response = auth_client(student).post(f"/api/v1/lessons/{lesson.pk}/complete/")

    opens = enrollment.enrolled_at + timedelta(days=3)
    assert response.status_code == 403
    assert response.json()["code"] == "lesson_locked"
    assert response.json()["fields"]["available_at"] == [opens.isoformat()]


def test_locked_lesson_body_is_refused_to_enrolled_learners(
    auth_client, student, enrollment, course
):
    lesson = _lessons(course)[0]
    Lesson.objects.filter(pk=lesson.pk).update(available_from=timezone.now() + timedelta(days=1))

    response = auth_client(student).get(f"/api/v1/lessons/{lesson.pk}/")

    assert response.status_code == 403
    assert response.json()["code"] == "lesson_locked"


def test_complete_of_an_unknown_lesson_is_404(auth_client, student, enrollment):
    response = auth_client(student).post(
        "/api/v1/lessons/00000000-0000-0000-0000-000000000000/complete/"
    )

    assert response.status_code == 404


def test_complete_of_another_courses_lesson_is_refused(auth_client, student, enrollment):
    other = course_with_content(published=True)

    response = auth_client(student).post(f"/api/v1/lessons/{_lessons(other)[0].pk}/complete/")

    assert response.status_code == 403
    assert response.json()["code"] == "not_enrolled"


def test_progress_saves_position_and_time(auth_client, student, enrollment, course):
    lesson = _lessons(course)[0]
    client = auth_client(student)
    client.post(
        f"/api/v1/lessons/{lesson.pk}/progress/", {"position_seconds": 40, "time_spent_seconds": 40}
    )

    response = client.post(
        f"/api/v1/lessons/{lesson.pk}/progress/", {"position_seconds": 90, "time_spent_seconds": 50}
    )

    assert response.status_code == 200
    assert response.json()["position_seconds"] == 90
    assert response.json()["time_spent_seconds"] == 90


@pytest.mark.parametrize(
    "payload",
    [{}, {"position_seconds": -1}, {"position_seconds": 10, "time_spent_seconds": 99999}],
)
def test_progress_rejects_bad_input(auth_client, student, enrollment, course, payload):
    lesson = _lessons(course)[0]

    response = auth_client(student).post(f"/api/v1/lessons/{lesson.pk}/progress/", payload)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_progress_needs_an_enrolment(auth_client, other_student, enrollment, course):
    lesson = _lessons(course)[0]

    response = auth_client(other_student).post(
        f"/api/v1/lessons/{lesson.pk}/progress/", {"position_seconds": 5}
    )

    assert response.status_code == 403


def test_outline_shows_my_completion_flags(auth_client, student, enrollment, course):
    done = _lessons(course)[1]
    services.lesson_complete(user=student, lesson=done)

    response = auth_client(student).get(f"/api/v1/courses/{course.pk}/outline/")

    flags = {
        lesson["id"]: lesson["is_completed"]
        for module in response.json()["modules"]
        for lesson in module["lessons"]
    }
    assert response.json()["is_enrolled"] is True
    assert [pk for pk, completed in flags.items() if completed] == [str(done.pk)]


def test_outline_flags_are_not_shared_between_learners(auth_client, student, other_student, course):
    _enrol(student, course)
    services.lesson_complete(user=student, lesson=_lessons(course)[0])
    auth_client(student).get(f"/api/v1/courses/{course.pk}/outline/")

    response = auth_client(other_student).get(f"/api/v1/courses/{course.pk}/outline/")

    assert response.json()["is_enrolled"] is False
    assert not any(
        lesson["is_completed"]
        for module in response.json()["modules"]
        for lesson in module["lessons"]
    )


# --- My learning --------------------------------------------------------------------------


def test_my_enrollments_list_progress_and_the_next_lesson(auth_client, student, enrollment, course):
    first, second, *_ = _lessons(course)
    services.lesson_complete(user=student, lesson=first)

    response = auth_client(student).get("/api/v1/me/enrollments/")

    row = response.json()["results"][0]
    assert response.json()["count"] == 1
    assert row["progress_percent"] == 25
    assert row["next_lesson"] == {"id": str(second.pk), "title": second.title}


def test_my_enrollments_next_lesson_is_null_when_everything_is_done(
    auth_client, student, enrollment, course
):
    for lesson in _lessons(course):
        services.lesson_complete(user=student, lesson=lesson)

    row = auth_client(student).get("/api/v1/me/enrollments/").json()["results"][0]

    assert row["status"] == "completed"
    assert row["next_lesson"] is None


def test_my_enrollments_are_mine_only(auth_client, other_student, enrollment):
    response = auth_client(other_student).get("/api/v1/me/enrollments/")

    assert response.json()["count"] == 0


def test_my_enrollments_filter_by_status(auth_client, student, enrollment):
    other = course_with_content(published=True)
    services.enrollment_cancel(enrollment=_enrol(student, other))

    response = auth_client(student).get("/api/v1/me/enrollments/", {"status": "cancelled"})

    assert [row["course"]["id"] for row in response.json()["results"]] == [str(other.pk)]


def test_my_enrollments_recently_accessed_first(auth_client, student, enrollment):
    newer = course_with_content(published=True)
    _enrol(student, newer)
    services.lesson_complete(user=student, lesson=_lessons(enrollment.course)[0])

    response = auth_client(student).get("/api/v1/me/enrollments/")

    assert response.json()["results"][0]["id"] == str(enrollment.pk)


def test_my_enrollments_needs_login(api_client):
    assert api_client.get("/api/v1/me/enrollments/").status_code == 401


@pytest.mark.parametrize("courses", [5, 50])
def test_my_enrollments_query_count_is_flat(
    auth_client, student, django_assert_num_queries, courses
):
    for _ in range(courses):
        _enrol(student, course_with_content(modules=2, lessons_per_module=3, published=True))

    with django_assert_num_queries(2):  # count, page with course, owner and next lesson
        response = auth_client(student).get("/api/v1/me/enrollments/", {"page_size": 100})

    assert response.json()["count"] == courses


# --- Analytics and roster -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=403,
        other_student=403,
        instructor=200,
        other_instructor=403,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_analytics_permissions(auth_client, course, role_user, expected):
    response = auth_client(role_user).get(f"/api/v1/courses/{course.pk}/analytics/")

    assert response.status_code == expected


def test_analytics_of_a_draft_is_404_for_others(auth_client, other_instructor):
    draft = CourseFactory()

    response = auth_client(other_instructor).get(f"/api/v1/courses/{draft.pk}/analytics/")

    assert response.status_code == 404


def test_analytics_figures(auth_client, instructor, course):
    learners = UserFactory.create_batch(4)
    for learner in learners:
        _enrol(learner, course)
    lessons = _lessons(course)
    for lesson in lessons:
        services.lesson_complete(user=learners[0], lesson=lesson)
    services.lesson_complete(user=learners[1], lesson=lessons[0])
    services.enrollment_cancel(enrollment=Enrollment.objects.get(user=learners[3]))

    body = auth_client(instructor).get(f"/api/v1/courses/{course.pk}/analytics/").json()

    assert body["enrollments"] == {
        "total": 4,
        "active": 2,
        "completed": 1,
        "cancelled": 1,
        "refunded": 0,
    }
    assert body["completion_rate"] == round(1 / 3, 4)
    assert body["average_progress"] == round((100 + 25 + 0) / 3, 2)
    assert [lesson["completions"] for lesson in body["lessons"]] == [2, 1, 1, 1]
    assert body["lessons"][0]["id"] == str(lessons[0].pk)


def test_owner_only_sections_are_hidden_from_co_instructors(
    auth_client, instructor, course, monkeypatch
):
    from enrollments import hooks

    co_instructor = UserFactory(instructor=True)
    course.co_instructors.add(co_instructor)
    monkeypatch.setattr(hooks, "_analytics_sections", {"money": lambda course: {"total": 1}})
    monkeypatch.setattr(hooks, "_owner_only_sections", {"money"})

    owner_view = auth_client(instructor).get(f"/api/v1/courses/{course.pk}/analytics/").json()
    co_view = auth_client(co_instructor).get(f"/api/v1/courses/{course.pk}/analytics/").json()

    assert owner_view["sections"] == {"money": {"total": 1}}
    assert co_view["sections"] == {}


def test_analytics_include_the_registered_sections(auth_client, instructor, course, monkeypatch):
    from enrollments import hooks

    monkeypatch.setattr(
        hooks, "_analytics_sections", {"extra": lambda course: {"title": course.title}}
    )

    body = auth_client(instructor).get(f"/api/v1/courses/{course.pk}/analytics/").json()

    assert body["sections"] == {"extra": {"title": course.title}}


def test_analytics_query_count_does_not_grow_with_lessons(auth_client, instructor):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for lessons in (5, 50):
        course = course_with_content(
            modules=1, lessons_per_module=lessons, owner=instructor, published=True
        )
        _enrol(UserFactory(), course)
        with CaptureQueriesContext(connection) as queries:
            auth_client(instructor).get(f"/api/v1/courses/{course.pk}/analytics/")
        counts.append(len(queries))

    # course, co-instructors, totals, funnel, plus one per registered section
    assert counts[0] == counts[1] <= 4 + 3


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=403,
        other_student=403,
        instructor=200,
        other_instructor=403,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_roster_permissions(auth_client, enrollment, course, role_user, expected):
    response = auth_client(role_user).get(f"/api/v1/courses/{course.pk}/students/")

    assert response.status_code == expected


def test_roster_lists_learners_with_progress(auth_client, instructor, student, enrollment, course):
    services.lesson_complete(user=student, lesson=_lessons(course)[0])

    response = auth_client(instructor).get(f"/api/v1/courses/{course.pk}/students/")

    row = response.json()["results"][0]
    assert row["email"] == student.email
    assert row["progress_percent"] == 25
    assert row["status"] == "active"


def test_roster_search_and_ordering(auth_client, instructor, course):
    for name in ("Zoe Zed", "Adam Ant", "Maya Moon"):
        _enrol(UserFactory(full_name=name), course)

    searched = auth_client(instructor).get(
        f"/api/v1/courses/{course.pk}/students/", {"search": "maya"}
    )
    ordered = auth_client(instructor).get(
        f"/api/v1/courses/{course.pk}/students/", {"ordering": "-name"}
    )

    assert [row["full_name"] for row in searched.json()["results"]] == ["Maya Moon"]
    assert [row["full_name"] for row in ordered.json()["results"]] == [
        "Zoe Zed",
        "Maya Moon",
        "Adam Ant",
    ]


def test_roster_exports_every_row_as_csv(auth_client, instructor, course):
    for index in range(25):
        _enrol(UserFactory(full_name=f"Learner {index:02}"), course)
    _enrol(UserFactory(full_name='=HYPERLINK("http://evil")'), course)

    response = auth_client(instructor).get(
        f"/api/v1/courses/{course.pk}/students/", {"format": "csv"}
    )

    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert len(rows) == 26
    assert {"email", "full_name", "progress_percent", "status"} <= set(rows[0])
    assert '\'=HYPERLINK("http://evil")' in {row["full_name"] for row in rows}


@pytest.mark.parametrize("learners", [5, 50])
def test_roster_query_count_is_flat(
    auth_client, instructor, course, django_assert_num_queries, learners
):
    for _ in range(learners):
        _enrol(UserFactory(), course)

    with django_assert_num_queries(4):  # course (+ co-instructors), count, page with users
        response = auth_client(instructor).get(
            f"/api/v1/courses/{course.pk}/students/", {"page_size": 100}
        )

    assert response.json()["count"] == learners
