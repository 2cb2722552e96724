"""Courses, modules and lessons through the API: each endpoint for each role, and bad input."""

import pytest

from courses.models import Course, Lesson, Module
from courses.tests.factories import CategoryFactory, CourseFactory, LessonFactory, ModuleFactory

pytestmark = pytest.mark.django_db

COURSES = "/api/v1/courses/"

ROLES = ["anonymous", "student", "other_instructor", "instructor", "co_instructor", "admin_user"]


def _expect(**statuses: int) -> list:
    """Parametrize over every role with the expected status for each."""
    return [pytest.param(role, statuses[role], id=f"_case {role}") for role in ROLES]


def _first_lesson(course: Course) -> Lesson:
    return Lesson.objects.filter(module__course=course).order_by("module__position", "position")[0]


# --- Categories ---------------------------------------------------------------------------


def test_anyone_lists_categories(api_client):
    CategoryFactory(name="Design")

    response = api_client.get("/api/v1/categories/")

    assert response.status_code == 200
    assert [c["name"] for c in response.json()["results"]] == ["Design"]


@pytest.mark.parametrize(
    ("role_user", "expected"),
    [
        pytest.param("anonymous", 401, id="_case anonymous"),
        pytest.param("student", 403, id="_case student"),
        pytest.param("instructor", 403, id="_case instructor"),
        pytest.param("admin_user", 201, id="_case admin"),
    ],
    indirect=["role_user"],
)
def test_category_create_permissions(auth_client, role_user, expected):
    response = auth_client(role_user).post("/api/v1/categories/", {"name": "Data science"})

    assert response.status_code == expected


# --- Course retrieve ----------------------------------------------------------------------


def test_course_is_found_by_slug_and_by_id(api_client, course):
    by_slug = api_client.get(f"{COURSES}{course.slug}/")
    by_id = api_client.get(f"{COURSES}{course.pk}/")

    assert by_slug.status_code == by_id.status_code == 200
    assert by_slug.json()["id"] == by_id.json()["id"] == str(course.pk)
    assert by_slug.json()["description"] == course.description


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=404,
        student=404,
        other_instructor=404,
        instructor=200,
        co_instructor=200,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_draft_is_visible_only_to_its_instructors_and_admins(
    auth_client, draft, role_user, expected
):
    response = auth_client(role_user).get(f"{COURSES}{draft.slug}/")

    assert response.status_code == expected


def test_archived_course_can_still_be_opened(api_client):
    course = CourseFactory(archived=True)

    response = api_client.get(f"{COURSES}{course.slug}/")

    assert response.status_code == 200
    assert response.json()["status"] == "archived"


def test_unknown_course_is_404_in_the_error_shape(api_client):
    response = api_client.get(f"{COURSES}no-such-course/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- Course create ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role_user", "expected"),
    [
        pytest.param("anonymous", 401, id="_case anonymous"),
        pytest.param("student", 403, id="_case student"),
        pytest.param("instructor", 201, id="_case instructor"),
        pytest.param("admin_user", 201, id="_case admin"),
    ],
    indirect=["role_user"],
)
def test_course_create_permissions(auth_client, role_user, expected):
    response = auth_client(role_user).post(COURSES, {"title": "Intro to Rust"})

    assert response.status_code == expected
    assert Course.objects.count() == (1 if expected == 201 else 0)


def test_course_create_needs_mfa_for_staff_when_required(auth_client, instructor, settings):
    settings.MFA_REQUIRED_FOR_STAFF = True

    response = auth_client(instructor).post(COURSES, {"title": "Intro to Rust"})

    assert response.status_code == 403
    assert response.json()["code"] == "mfa_required"
    assert Course.objects.count() == 0


def test_course_create_makes_a_draft_owned_by_the_caller(auth_client, instructor, co_instructor):
    category = CategoryFactory()

    response = auth_client(instructor).post(
        COURSES,
        {
            "title": "Intro to Rust",
            "subtitle": "Ownership without tears",
            "price": {"amount": 2500, "currency": "EUR"},
            "category": str(category.pk),
            "seat_capacity": 30,
            "metadata": {"track": "systems"},
            "co_instructors": [str(co_instructor.pk)],
        },
    )

    body = response.json()
    assert response.status_code == 201
    assert body["slug"] == "intro-to-rust"
    assert body["status"] == "draft"
    assert body["owner"]["id"] == str(instructor.pk)
    assert body["price"] == {"amount": 2500, "currency": "EUR"}
    assert body["co_instructors"] == [
        {"id": str(co_instructor.pk), "full_name": co_instructor.full_name}
    ]
    assert body["metadata"] == {"track": "systems"}


def test_course_create_gives_a_unique_slug_when_the_title_repeats(auth_client, instructor):
    CourseFactory(slug="intro-to-rust")

    response = auth_client(instructor).post(COURSES, {"title": "Intro to Rust"})

    assert response.json()["slug"] == "intro-to-rust-2"


def test_course_create_with_a_taken_slug_is_a_conflict(auth_client, instructor):
    CourseFactory(slug="taken")

    response = auth_client(instructor).post(COURSES, {"title": "X", "slug": "taken"})

    assert response.status_code == 409
    assert response.json()["code"] == "slug_taken"
    assert "slug" in response.json()["fields"]
    assert Course.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        pytest.param({"price": {"amount": -1, "currency": "USD"}}, "price", id="negative price"),
        pytest.param({"price": {"amount": 100, "currency": "XXX"}}, "price", id="unknown currency"),
        pytest.param({"title": ""}, "title", id="empty title"),
        pytest.param({"seat_capacity": 0}, "seat_capacity", id="zero seats"),
        pytest.param({"level": "wizard"}, "level", id="unknown level"),
        pytest.param({"language": "English!"}, "language", id="bad language code"),
        pytest.param({"metadata": ["not", "an", "object"]}, "metadata", id="metadata list"),
        pytest.param(
            {
                "enrollment_opens_at": "2027-02-01T00:00:00Z",
                "enrollment_closes_at": "2027-01-01T00:00:00Z",
            },
            "enrollment_closes_at",
            id="window closes before it opens",
        ),
    ],
)
def test_course_create_rejects_bad_input_and_creates_nothing(
    auth_client, instructor, payload, field
):
    response = auth_client(instructor).post(COURSES, {"title": "Valid", **payload})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]
    assert Course.objects.count() == 0


def test_course_create_rejects_a_student_as_co_instructor(auth_client, instructor, student):
    response = auth_client(instructor).post(
        COURSES, {"title": "X", "co_instructors": [str(student.pk)]}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_instructor"
    assert Course.objects.count() == 0


# --- Course update and delete -------------------------------------------------------------


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=403,
        other_instructor=403,
        instructor=200,
        co_instructor=200,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_course_update_permissions(auth_client, course, role_user, expected):
    response = auth_client(role_user).patch(f"{COURSES}{course.pk}/", {"subtitle": "New"})

    course.refresh_from_db()
    assert response.status_code == expected
    assert (course.subtitle == "New") is (expected == 200)


def test_other_instructor_gets_404_for_a_draft_they_cannot_see(
    auth_client, draft, other_instructor
):
    response = auth_client(other_instructor).patch(f"{COURSES}{draft.pk}/", {"title": "Mine"})

    assert response.status_code == 404


def test_course_update_changes_price(auth_client, course, instructor):
    response = auth_client(instructor).patch(
        f"{COURSES}{course.slug}/", {"price": {"amount": 990, "currency": "GBP"}}
    )

    assert response.json()["price"] == {"amount": 990, "currency": "GBP"}


def test_co_instructor_cannot_change_the_co_instructors(auth_client, course, co_instructor):
    response = auth_client(co_instructor).patch(f"{COURSES}{course.pk}/", {"co_instructors": []})

    assert response.status_code == 403
    assert list(course.co_instructors.all()) == [co_instructor]


def test_owner_replaces_the_co_instructors(auth_client, course, instructor, other_instructor):
    response = auth_client(instructor).patch(
        f"{COURSES}{course.pk}/", {"co_instructors": [str(other_instructor.pk)]}
    )

    assert response.status_code == 200
    assert list(course.co_instructors.all()) == [other_instructor]


def test_course_update_to_a_taken_slug_is_a_conflict(auth_client, course, instructor):
    CourseFactory(slug="taken")

    response = auth_client(instructor).patch(f"{COURSES}{course.pk}/", {"slug": "taken"})

    assert response.status_code == 409
    assert response.json()["code"] == "slug_taken"


def test_seat_capacity_cannot_go_below_enrolled_learners(auth_client, course, instructor):
    Course.objects.filter(pk=course.pk).update(enrollment_count=5)

    response = auth_client(instructor).patch(f"{COURSES}{course.pk}/", {"seat_capacity": 4})

    assert response.status_code == 400
    assert "seat_capacity" in response.json()["fields"]


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=403,
        other_instructor=403,
        instructor=204,
        co_instructor=204,
        admin_user=204,
    ),
    indirect=["role_user"],
)
def test_course_delete_permissions(auth_client, course, role_user, expected):
    response = auth_client(role_user).delete(f"{COURSES}{course.pk}/")

    assert response.status_code == expected
    assert Course.objects.filter(pk=course.pk).exists() is (expected != 204)


def test_course_with_enrolments_cannot_be_deleted(auth_client, course, instructor):
    Course.objects.filter(pk=course.pk).update(enrollment_count=1)

    response = auth_client(instructor).delete(f"{COURSES}{course.pk}/")

    assert response.status_code == 409
    assert response.json()["code"] == "course_has_enrollments"
    assert Course.objects.filter(pk=course.pk).exists()


# --- Publish, archive, duplicate ----------------------------------------------------------


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=404,
        other_instructor=404,
        instructor=200,
        co_instructor=200,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_publish_permissions(auth_client, draft, role_user, expected):
    response = auth_client(role_user).post(f"{COURSES}{draft.pk}/publish/")

    draft.refresh_from_db()
    assert response.status_code == expected
    assert (draft.status == "published") is (expected == 200)


def test_publish_stamps_published_at(auth_client, draft, instructor):
    response = auth_client(instructor).post(f"{COURSES}{draft.pk}/publish/")

    assert response.json()["status"] == "published"
    assert response.json()["published_at"] is not None


def test_publish_lists_every_problem(auth_client, instructor):
    course = CourseFactory(owner=instructor, description="")

    response = auth_client(instructor).post(f"{COURSES}{course.pk}/publish/")

    assert response.status_code == 400
    assert response.json()["code"] == "course_not_publishable"
    assert set(response.json()["fields"]) == {"description", "modules"}
    course.refresh_from_db()
    assert course.status == "draft"


def test_publish_needs_a_lesson_in_some_module(auth_client, instructor):
    course = CourseFactory(owner=instructor)
    ModuleFactory(course=course)

    response = auth_client(instructor).post(f"{COURSES}{course.pk}/publish/")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"lessons"}


def test_archive_takes_the_course_out_of_the_catalog(auth_client, course, instructor):
    response = auth_client(instructor).post(f"{COURSES}{course.pk}/archive/")

    assert response.json()["status"] == "archived"
    assert auth_client(None).get(COURSES).json()["count"] == 0


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=403,
        other_instructor=403,
        instructor=200,
        co_instructor=200,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_archive_permissions(auth_client, course, role_user, expected):
    response = auth_client(role_user).post(f"{COURSES}{course.pk}/archive/")

    assert response.status_code == expected


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=403,
        other_instructor=403,
        instructor=201,
        co_instructor=201,
        admin_user=201,
    ),
    indirect=["role_user"],
)
def test_duplicate_permissions(auth_client, course, role_user, expected):
    response = auth_client(role_user).post(f"{COURSES}{course.pk}/duplicate/")

    assert response.status_code == expected
    assert Course.objects.count() == (2 if expected == 201 else 1)


def test_duplicate_copies_modules_and_lessons_into_a_draft(auth_client, course, instructor):
    response = auth_client(instructor).post(f"{COURSES}{course.pk}/duplicate/")

    copy = Course.objects.get(pk=response.json()["id"])
    assert copy.status == "draft"
    assert copy.slug == f"{course.slug}-copy"
    assert copy.owner == instructor
    assert list(copy.modules.values_list("title", "position")) == list(
        course.modules.values_list("title", "position")
    )
    assert Lesson.objects.filter(module__course=copy).count() == 4


# --- Outline ------------------------------------------------------------------------------


def test_outline_lists_modules_and_lessons_in_order_without_bodies(api_client, course):
    response = api_client.get(f"{COURSES}{course.pk}/outline/")

    body = response.json()
    assert response.status_code == 200
    assert body["is_enrolled"] is False
    assert [m["position"] for m in body["modules"]] == [1, 2]
    lessons = body["modules"][0]["lessons"]
    assert [lesson["position"] for lesson in lessons] == [1, 2]
    assert "body" not in lessons[0]
    assert lessons[0]["is_completed"] is False


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=404,
        student=404,
        other_instructor=404,
        instructor=200,
        co_instructor=200,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_outline_of_a_draft_is_for_its_managers(auth_client, draft, role_user, expected):
    response = auth_client(role_user).get(f"{COURSES}{draft.pk}/outline/")

    assert response.status_code == expected


def test_outline_of_a_draft_is_404_for_students(auth_client, draft, student):
    response = auth_client(student).get(f"{COURSES}{draft.pk}/outline/")

    assert response.status_code == 404


def test_outline_shows_a_new_lesson_on_the_next_read(auth_client, course, instructor):
    url = f"{COURSES}{course.pk}/outline/"
    auth_client(None).get(url)
    module = course.modules.get(position=1)

    auth_client(instructor).post(f"/api/v1/modules/{module.pk}/lessons/", {"title": "Fresh"})

    titles = [
        lesson["title"] for lesson in auth_client(None).get(url).json()["modules"][0]["lessons"]
    ]
    assert titles[-1] == "Fresh"


@pytest.mark.parametrize("lessons", [5, 50])
def test_outline_query_count_does_not_grow_with_lessons(
    api_client, instructor, django_assert_num_queries, lessons
):
    course = CourseFactory(owner=instructor, published=True)
    for module_position in (1, 2):
        module = ModuleFactory(course=course, position=module_position)
        for position in range(1, lessons + 1):
            LessonFactory(module=module, position=position)

    # course, modules, lessons
    with django_assert_num_queries(3):
        response = api_client.get(f"{COURSES}{course.pk}/outline/")

    assert len(response.json()["modules"][1]["lessons"]) == lessons


def test_cached_outline_needs_only_the_visibility_queries(
    api_client, course, django_assert_num_queries
):
    api_client.get(f"{COURSES}{course.pk}/outline/")

    with django_assert_num_queries(1):  # the course's visibility
        api_client.get(f"{COURSES}{course.pk}/outline/")


# --- Modules ------------------------------------------------------------------------------


def test_anyone_lists_the_modules_of_a_published_course(api_client, course):
    response = api_client.get(f"{COURSES}{course.pk}/modules/")

    assert [m["position"] for m in response.json()] == [1, 2]


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=403,
        other_instructor=403,
        instructor=201,
        co_instructor=201,
        admin_user=201,
    ),
    indirect=["role_user"],
)
def test_module_create_permissions(auth_client, course, role_user, expected):
    response = auth_client(role_user).post(f"{COURSES}{course.pk}/modules/", {"title": "Extra"})

    assert response.status_code == expected
    assert course.modules.count() == (3 if expected == 201 else 2)


def test_module_create_appends_at_the_end(auth_client, course, instructor):
    response = auth_client(instructor).post(f"{COURSES}{course.pk}/modules/", {"title": "Extra"})

    assert response.json()["position"] == 3


def test_module_create_needs_a_title(auth_client, course, instructor):
    response = auth_client(instructor).post(f"{COURSES}{course.pk}/modules/", {"title": ""})

    assert response.status_code == 400
    assert "title" in response.json()["fields"]


def test_modules_reorder_applies_the_full_order(auth_client, course, instructor):
    first, second = course.modules.order_by("position")

    response = auth_client(instructor).post(
        f"{COURSES}{course.pk}/modules/reorder/", {"order": [str(second.pk), str(first.pk)]}
    )

    assert response.status_code == 200
    assert [m["id"] for m in response.json()] == [str(second.pk), str(first.pk)]
    assert list(course.modules.order_by("position")) == [second, first]


@pytest.mark.parametrize("problem", ["missing", "foreign", "duplicate", "not a uuid"])
def test_modules_reorder_rejects_a_bad_order_and_changes_nothing(
    auth_client, course, instructor, problem
):
    first, second = course.modules.order_by("position")
    foreign = ModuleFactory()
    order = {
        "missing": [str(second.pk)],
        "foreign": [str(second.pk), str(first.pk), str(foreign.pk)],
        "duplicate": [str(second.pk), str(first.pk), str(first.pk)],
        "not a uuid": [str(second.pk), "nope"],
    }[problem]

    response = auth_client(instructor).post(
        f"{COURSES}{course.pk}/modules/reorder/", {"order": order}
    )

    assert response.status_code == 400
    assert response.json()["code"] in {"invalid_order", "invalid"}
    assert "order" in response.json()["fields"]
    assert list(course.modules.order_by("position")) == [first, second]


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=403,
        other_instructor=403,
        instructor=200,
        co_instructor=200,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_modules_reorder_permissions(auth_client, course, role_user, expected):
    order = [str(pk) for pk in course.modules.order_by("-position").values_list("pk", flat=True)]

    response = auth_client(role_user).post(
        f"{COURSES}{course.pk}/modules/reorder/", {"order": order}
    )

    assert response.status_code == expected


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=403,
        other_instructor=403,
        instructor=200,
        co_instructor=200,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_module_update_permissions(auth_client, course, role_user, expected):
    module = course.modules.first()

    response = auth_client(role_user).patch(f"/api/v1/modules/{module.pk}/", {"title": "Renamed"})

    assert response.status_code == expected


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=403,
        other_instructor=403,
        instructor=204,
        co_instructor=204,
        admin_user=204,
    ),
    indirect=["role_user"],
)
def test_module_delete_permissions(auth_client, course, role_user, expected):
    module = course.modules.first()

    response = auth_client(role_user).delete(f"/api/v1/modules/{module.pk}/")

    assert response.status_code == expected
    assert Module.objects.filter(pk=module.pk).exists() is (expected != 204)


def test_module_of_a_draft_is_404_for_students(auth_client, draft, student):
    module = draft.modules.first()

    response = auth_client(student).get(f"/api/v1/modules/{module.pk}/")

    assert response.status_code == 404


# --- Lessons ------------------------------------------------------------------------------


def test_module_lessons_list_has_no_bodies(api_client, course):
    module = course.modules.get(position=1)

    response = api_client.get(f"/api/v1/modules/{module.pk}/lessons/")

    assert [lesson["position"] for lesson in response.json()] == [1, 2]
    assert "body" not in response.json()[0]


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=403,
        other_instructor=403,
        instructor=201,
        co_instructor=201,
        admin_user=201,
    ),
    indirect=["role_user"],
)
def test_lesson_create_permissions(auth_client, course, role_user, expected):
    module = course.modules.get(position=1)

    response = auth_client(role_user).post(
        f"/api/v1/modules/{module.pk}/lessons/",
        {"title": "Watch", "kind": "video", "video_url": "https://video.example.com/a"},
    )

    assert response.status_code == expected
    assert module.lessons.count() == (3 if expected == 201 else 2)


def test_lesson_create_appends_at_the_end_of_the_module(auth_client, course, instructor):
    module = course.modules.get(position=1)

    response = auth_client(instructor).post(
        f"/api/v1/modules/{module.pk}/lessons/", {"title": "Read", "body": "# Hello"}
    )

    assert response.json()["position"] == 3
    assert response.json()["body"] == "# Hello"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        pytest.param({"kind": "video"}, "video_url", id="video without url"),
        pytest.param({"kind": "podcast"}, "kind", id="unknown kind"),
        pytest.param({"duration_seconds": -5}, "duration_seconds", id="negative duration"),
        pytest.param({"video_url": "not a url"}, "video_url", id="bad url"),
    ],
)
def test_lesson_create_rejects_bad_input(auth_client, course, instructor, payload, field):
    module = course.modules.get(position=1)

    response = auth_client(instructor).post(
        f"/api/v1/modules/{module.pk}/lessons/", {"title": "Broken", **payload}
    )

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert module.lessons.count() == 2


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=403,
        student=403,
        other_instructor=403,
        instructor=200,
        co_instructor=200,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_lesson_body_is_for_instructors_admins_and_enrolled_learners(
    auth_client, course, role_user, expected
):
    lesson = _first_lesson(course)

    response = auth_client(role_user).get(f"/api/v1/lessons/{lesson.pk}/")

    assert response.status_code == expected
    if expected == 403:
        assert response.json()["code"] == "not_enrolled"
    else:
        assert response.json()["body"] == lesson.body


def test_preview_lesson_is_open_to_anyone(api_client, course):
    lesson = _first_lesson(course)
    Lesson.objects.filter(pk=lesson.pk).update(is_preview=True)

    response = api_client.get(f"/api/v1/lessons/{lesson.pk}/")

    assert response.status_code == 200
    assert response.json()["body"] == lesson.body


def test_lesson_of_a_draft_is_404_for_students(auth_client, draft, student):
    lesson = _first_lesson(draft)
    Lesson.objects.filter(pk=lesson.pk).update(is_preview=True)

    response = auth_client(student).get(f"/api/v1/lessons/{lesson.pk}/")

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=403,
        other_instructor=403,
        instructor=200,
        co_instructor=200,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_lesson_update_permissions(auth_client, course, role_user, expected):
    lesson = _first_lesson(course)

    response = auth_client(role_user).patch(f"/api/v1/lessons/{lesson.pk}/", {"is_preview": True})

    lesson.refresh_from_db()
    assert response.status_code == expected
    assert lesson.is_preview is (expected == 200)


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=403,
        other_instructor=403,
        instructor=204,
        co_instructor=204,
        admin_user=204,
    ),
    indirect=["role_user"],
)
def test_lesson_delete_permissions(auth_client, course, role_user, expected):
    lesson = _first_lesson(course)

    response = auth_client(role_user).delete(f"/api/v1/lessons/{lesson.pk}/")

    assert response.status_code == expected
    assert Lesson.objects.filter(pk=lesson.pk).exists() is (expected != 204)


def test_lessons_reorder_applies_the_full_order(auth_client, course, instructor):
    module = course.modules.get(position=1)
    first, second = module.lessons.order_by("position")

    response = auth_client(instructor).post(
        f"/api/v1/modules/{module.pk}/lessons/reorder/", {"order": [str(second.pk), str(first.pk)]}
    )

    assert response.status_code == 200
    assert list(module.lessons.order_by("position")) == [second, first]


def test_lessons_reorder_rejects_a_lesson_of_another_module(auth_client, course, instructor):
    module, other_module = course.modules.order_by("position")
    first, second = module.lessons.order_by("position")
    stranger = other_module.lessons.first()

    response = auth_client(instructor).post(
        f"/api/v1/modules/{module.pk}/lessons/reorder/",
        {"order": [str(second.pk), str(first.pk), str(stranger.pk)]},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_order"
    assert list(module.lessons.order_by("position")) == [first, second]


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=403,
        other_instructor=403,
        instructor=200,
        co_instructor=200,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_lessons_reorder_permissions(auth_client, course, role_user, expected):
    module = course.modules.get(position=1)
    order = [str(pk) for pk in module.lessons.order_by("-position").values_list("pk", flat=True)]

    response = auth_client(role_user).post(
        f"/api/v1/modules/{module.pk}/lessons/reorder/", {"order": order}
    )

    assert response.status_code == expected
