import io

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from accounts.tests.factories import UserFactory
from courses.models import Course, Lesson, Module
from courses.tests.factories import (
    CategoryFactory,
    CourseFactory,
    ModuleFactory,
    course_with_content,
)

pytestmark = pytest.mark.django_db

CHANGELIST_URL = reverse("admin:courses_course_changelist")
ADD_URL = reverse("admin:courses_course_add")
MANAGEMENT_FORM = {"TOTAL_FORMS": 0, "INITIAL_FORMS": 0, "MIN_NUM_FORMS": 0, "MAX_NUM_FORMS": 1000}


def change_url(course):
    return reverse("admin:courses_course_change", args=[course.pk])


def course_form(course=None, *, modules=(), **overrides):
    """The POST body of the course form, with the module inline (rows as dicts)."""
    data = {
        "title": course.title if course else "Intro to Testing",
        "slug": course.slug if course else "intro-to-testing",
        "subtitle": course.subtitle if course else "",
        "description": course.description if course else "",
        "language": course.language if course else "en",
        "level": course.level if course else Course.Level.ALL_LEVELS,
        "category": "",
        "price_amount": course.price_amount if course else 0,
        "currency": course.currency if course else "USD",
        "seat_capacity": "",
        "certificate_enabled": "on",
        "metadata": "{}",
        "co_instructors": [str(user.pk) for user in course.co_instructors.all()] if course else [],
        "modules-TOTAL_FORMS": len(modules),
        "modules-INITIAL_FORMS": sum(1 for row in modules if row.get("id")),
        "modules-MIN_NUM_FORMS": 0,
        "modules-MAX_NUM_FORMS": 1000,
    }
    for index, row in enumerate(modules):
        for name, value in row.items():
            data[f"modules-{index}-{name}"] = value
    data.update(overrides)
    return data


def module_row(module, **overrides):
    return {
        "id": str(module.pk),
        "course": str(module.course_id),
        "title": module.title,
        "position": module.position,
        **overrides,
    }


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- Who sees what ------------------------------------------------------------------------


def test_admin_sees_every_course_in_the_changelist(
    client, admin_user, instructor, other_instructor
):
    courses = [CourseFactory(owner=instructor), CourseFactory(owner=other_instructor)]
    client.force_login(admin_user)

    response = client.get(CHANGELIST_URL)

    assert response.status_code == 200
    assert {course.pk for course in response.context["cl"].result_list} == {
        course.pk for course in courses
    }


def test_instructor_sees_only_the_courses_they_teach(client, instructor, other_instructor):
    owned = CourseFactory(owner=instructor)
    co_taught = CourseFactory(owner=other_instructor, co_instructors=[instructor])
    CourseFactory(owner=other_instructor)
    client.force_login(instructor)

    response = client.get(CHANGELIST_URL)

    assert response.status_code == 200
    assert {course.pk for course in response.context["cl"].result_list} == {
        owned.pk,
        co_taught.pk,
    }


def test_instructor_is_sent_away_from_another_instructors_course(
    client, instructor, other_instructor
):
    course = CourseFactory(owner=other_instructor)
    client.force_login(instructor)

    response = client.get(change_url(course))

    # Outside the instructor's queryset the course "does not exist": Django redirects to the
    # admin index with a warning rather than answering 403 or 404.
    assert response.status_code == 302
    assert response.url == reverse("admin:index")


def test_student_is_redirected_to_the_admin_login(client, student):
    client.force_login(student)

    response = client.get(CHANGELIST_URL)

    assert response.status_code == 302
    assert response.url == f"{reverse('admin:login')}?next={CHANGELIST_URL}"


def test_instructor_cannot_open_the_user_changelist(client, instructor):
    client.force_login(instructor)

    response = client.get(reverse("admin:accounts_user_changelist"))

    assert response.status_code == 403


def test_instructor_can_view_but_not_add_categories(client, instructor):
    CategoryFactory()
    client.force_login(instructor)

    changelist = client.get(reverse("admin:courses_category_changelist"))
    add = client.get(reverse("admin:courses_category_add"))

    assert changelist.status_code == 200
    assert add.status_code == 403


# --- Adding and changing ------------------------------------------------------------------


def test_instructor_adds_a_course_they_own_whatever_owner_they_post(
    client, instructor, other_instructor
):
    client.force_login(instructor)

    response = client.post(ADD_URL, course_form(owner=str(other_instructor.pk)))

    assert response.status_code == 302
    course = Course.objects.get(slug="intro-to-testing")
    assert course.owner == instructor
    assert course.status == Course.Status.DRAFT


def test_admin_adds_a_course_for_an_instructor_with_co_instructors(
    client, admin_user, instructor, other_instructor
):
    client.force_login(admin_user)

    response = client.post(
        ADD_URL,
        course_form(owner=str(instructor.pk), co_instructors=[str(other_instructor.pk)]),
    )

    assert response.status_code == 302
    course = Course.objects.get(slug="intro-to-testing")
    assert course.owner == instructor
    assert list(course.co_instructors.all()) == [other_instructor]


def test_co_instructors_must_be_teaching_staff(client, instructor, student):
    client.force_login(instructor)

    response = client.post(ADD_URL, course_form(co_instructors=[str(student.pk)]))

    assert response.status_code == 200
    assert "co_instructors" in response.context["adminform"].form.errors
    assert not Course.objects.exists()


def test_co_instructor_edits_the_course_but_not_its_co_instructors(
    client, instructor, other_instructor
):
    co_instructor = UserFactory(instructor=True)
    course = CourseFactory(owner=instructor, co_instructors=[co_instructor])
    client.force_login(co_instructor)

    response = client.post(
        change_url(course),
        course_form(
            course,
            title="Renamed by the co-instructor",
            co_instructors=[str(co_instructor.pk), str(other_instructor.pk)],
        ),
    )

    assert response.status_code == 302
    course.refresh_from_db()
    assert course.title == "Renamed by the co-instructor"
    assert list(course.co_instructors.all()) == [co_instructor]


def test_owner_changes_the_co_instructors(client, instructor, other_instructor):
    course = CourseFactory(owner=instructor)
    client.force_login(instructor)

    response = client.post(
        change_url(course), course_form(course, co_instructors=[str(other_instructor.pk)])
    )

    assert response.status_code == 302
    assert list(course.co_instructors.all()) == [other_instructor]


def test_module_admin_offers_only_taught_courses(client, instructor, other_instructor):
    taught = CourseFactory(owner=instructor)
    CourseFactory(owner=other_instructor)
    client.force_login(instructor)

    response = client.get(reverse("admin:courses_module_add"))

    queryset = response.context["adminform"].form.fields["course"].queryset
    assert list(queryset) == [taught]


def test_a_change_the_service_refuses_is_reported_and_not_saved(client, instructor):
    course = CourseFactory(owner=instructor, enrollment_count=5)
    client.force_login(instructor)

    response = client.post(
        change_url(course), course_form(course, title="Smaller", seat_capacity=3)
    )

    assert response.status_code == 302
    assert response.url == change_url(course)
    assert messages_of(response) == ["5 learners are already enrolled."]
    course.refresh_from_db()
    assert course.title != "Smaller"
    assert course.seat_capacity is None


# --- Module order -------------------------------------------------------------------------


def test_swapping_two_module_positions_in_the_inline_saves(client, instructor):
    course = CourseFactory(owner=instructor)
    first = ModuleFactory(course=course, position=1)
    second = ModuleFactory(course=course, position=2)
    client.force_login(instructor)

    response = client.post(
        change_url(course),
        course_form(
            course, modules=[module_row(first, position=2), module_row(second, position=1)]
        ),
    )

    assert response.status_code == 302
    assert list(Module.objects.filter(course=course).order_by("position")) == [second, first]


def test_a_module_added_in_the_inline_without_position_goes_last(client, instructor):
    course = CourseFactory(owner=instructor)
    first = ModuleFactory(course=course, position=1)
    client.force_login(instructor)

    response = client.post(
        change_url(course),
        course_form(
            course,
            modules=[module_row(first), {"course": str(course.pk), "title": "New", "position": ""}],
        ),
    )

    assert response.status_code == 302
    assert list(
        Module.objects.filter(course=course).order_by("position").values_list("title", "position")
    ) == [(first.title, 1), ("New", 2)]


# --- Actions ------------------------------------------------------------------------------


def test_publish_action_publishes_a_ready_course(client, instructor):
    course = course_with_content(owner=instructor)
    client.force_login(instructor)

    response = client.post(
        CHANGELIST_URL, {"action": "publish_courses", "_selected_action": [str(course.pk)]}
    )

    assert response.status_code == 302
    course.refresh_from_db()
    assert course.status == Course.Status.PUBLISHED
    assert course.published_at is not None


def test_publish_action_reports_what_keeps_a_course_unpublished(client, instructor):
    course = CourseFactory(owner=instructor, title="Empty course", description="")
    client.force_login(instructor)

    response = client.post(
        CHANGELIST_URL, {"action": "publish_courses", "_selected_action": [str(course.pk)]}
    )

    assert response.status_code == 302
    assert messages_of(response) == [
        "“Empty course” was not published: The course is not ready to publish. "
        "A published course needs a description. A published course needs at least one module."
    ]
    course.refresh_from_db()
    assert course.status == Course.Status.DRAFT
    assert course.published_at is None


def test_duplicate_action_creates_a_draft_copy(client, instructor):
    course = course_with_content(owner=instructor, title="Original", published=True)
    client.force_login(instructor)

    response = client.post(
        CHANGELIST_URL, {"action": "duplicate_courses", "_selected_action": [str(course.pk)]}
    )

    assert response.status_code == 302
    copy = Course.objects.exclude(pk=course.pk).get()
    assert copy.title == "Original (copy)"
    assert copy.status == Course.Status.DRAFT
    assert copy.owner == instructor
    assert copy.modules.count() == 1


def test_instructor_cannot_act_on_a_course_they_do_not_teach(client, instructor, other_instructor):
    course = course_with_content(owner=other_instructor)
    client.force_login(instructor)

    client.post(CHANGELIST_URL, {"action": "publish_courses", "_selected_action": [str(course.pk)]})

    course.refresh_from_db()
    assert course.status == Course.Status.DRAFT


# --- Deleting -----------------------------------------------------------------------------


def test_deleting_a_course_with_enrolments_shows_an_error_and_keeps_it(client, instructor):
    course = CourseFactory(owner=instructor, enrollment_count=3)
    client.force_login(instructor)

    response = client.post(
        reverse("admin:courses_course_delete", args=[course.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert response.url == change_url(course)
    assert messages_of(response) == [
        "The course has enrolments and cannot be deleted; archive it instead."
    ]
    assert Course.objects.filter(pk=course.pk).exists()


def test_deleting_a_course_without_enrolments_removes_it(client, instructor):
    course = course_with_content(owner=instructor)
    client.force_login(instructor)

    response = client.post(
        reverse("admin:courses_course_delete", args=[course.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Course.objects.filter(pk=course.pk).exists()


# --- Autocomplete -------------------------------------------------------------------------


def autocomplete(client, field_name, term=""):
    return client.get(
        reverse("admin:autocomplete"),
        {"app_label": "courses", "model_name": "course", "field_name": field_name, "term": term},
    )


def test_instructor_co_instructor_autocomplete_lists_only_teaching_staff(
    client, instructor, other_instructor, admin_user, student
):
    UserFactory(instructor=True, inactive=True)
    client.force_login(instructor)

    response = autocomplete(client, "co_instructors")

    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == {
        str(instructor.pk),
        str(other_instructor.pk),
        str(admin_user.pk),
    }


def test_instructor_category_autocomplete_works(client, instructor):
    category = CategoryFactory(name="Data science")
    client.force_login(instructor)

    response = autocomplete(client, "category", term="data")

    assert response.status_code == 200
    assert response.json()["results"] == [{"id": str(category.pk), "text": "Data science"}]


# --- Pages render -------------------------------------------------------------------------


def test_instructor_opens_the_change_page_of_their_course(client, instructor):
    course = course_with_content(owner=instructor, modules=2)
    client.force_login(instructor)

    response = client.get(change_url(course))

    assert response.status_code == 200
    assert len(response.context["inline_admin_formsets"][0].formset.initial_forms) == 2


def test_instructor_opens_the_module_page_with_its_lessons(client, instructor):
    course = course_with_content(owner=instructor, lessons_per_module=2)
    module = course.modules.get()
    client.force_login(instructor)

    response = client.get(reverse("admin:courses_module_change", args=[module.pk]))

    assert response.status_code == 200
    assert len(response.context["inline_admin_formsets"][0].formset.initial_forms) == 2


# --- Modules and lessons ------------------------------------------------------------------


def lesson_form(module, *, lessons):
    data = {
        "title": module.title,
        "description": module.description,
        "lessons-TOTAL_FORMS": len(lessons),
        "lessons-INITIAL_FORMS": sum(1 for row in lessons if row.get("id")),
        "lessons-MIN_NUM_FORMS": 0,
        "lessons-MAX_NUM_FORMS": 1000,
    }
    for index, row in enumerate(lessons):
        row = {
            "module": str(module.pk),
            "kind": Lesson.Kind.TEXT,
            "duration_seconds": 0,
            "is_required": "on",
            **row,
        }
        for name, value in row.items():
            data[f"lessons-{index}-{name}"] = value
    return data


def test_module_admin_adds_a_module_after_the_others(client, instructor):
    course = course_with_content(owner=instructor)
    client.force_login(instructor)

    response = client.post(
        reverse("admin:courses_module_add"),
        {
            "course": str(course.pk),
            "title": "Second module",
            "description": "",
            **{f"lessons-{key}": value for key, value in MANAGEMENT_FORM.items()},
        },
    )

    assert response.status_code == 302
    assert Module.objects.get(title="Second module").position == 2


def test_lesson_inline_saves_an_edit_and_a_swapped_order_together(client, instructor):
    course = course_with_content(owner=instructor, lessons_per_module=2)
    module = course.modules.get()
    first, second = module.lessons.order_by("position")
    client.force_login(instructor)

    response = client.post(
        reverse("admin:courses_module_change", args=[module.pk]),
        lesson_form(
            module,
            lessons=[
                {"id": str(first.pk), "title": first.title, "position": 2},
                {"id": str(second.pk), "title": "Renamed", "position": 1},
            ],
        ),
    )

    assert response.status_code == 302
    assert list(module.lessons.order_by("position").values_list("title", "position")) == [
        ("Renamed", 1),
        (first.title, 2),
    ]


def test_lesson_added_in_the_inline_without_position_goes_last(client, instructor):
    course = course_with_content(owner=instructor, lessons_per_module=1)
    module = course.modules.get()
    first = module.lessons.get()
    client.force_login(instructor)

    response = client.post(
        reverse("admin:courses_module_change", args=[module.pk]),
        lesson_form(
            module,
            lessons=[
                {"id": str(first.pk), "title": first.title, "position": 1},
                {"title": "Added", "position": ""},
            ],
        ),
    )

    assert response.status_code == 302
    assert list(module.lessons.order_by("position").values_list("title", "position")) == [
        (first.title, 1),
        ("Added", 2),
    ]


def test_lesson_inline_deletes_a_lesson(client, instructor):
    course = course_with_content(owner=instructor, lessons_per_module=2)
    module = course.modules.get()
    first, second = module.lessons.order_by("position")
    client.force_login(instructor)

    response = client.post(
        reverse("admin:courses_module_change", args=[module.pk]),
        lesson_form(
            module,
            lessons=[
                {"id": str(first.pk), "title": first.title, "position": 1, "DELETE": "on"},
                {"id": str(second.pk), "title": second.title, "position": 2},
            ],
        ),
    )

    assert response.status_code == 302
    assert list(module.lessons.all()) == [second]


def test_instructor_adds_a_course_with_modules_in_one_go(client, instructor):
    client.force_login(instructor)

    response = client.post(
        ADD_URL,
        course_form(
            modules=[
                {"title": "Basics", "position": ""},
                {"title": "Advanced", "position": ""},
            ]
        ),
    )

    assert response.status_code == 302
    course = Course.objects.get(slug="intro-to-testing")
    assert list(course.modules.order_by("position").values_list("title", "position")) == [
        ("Basics", 1),
        ("Advanced", 2),
    ]


def png_upload(name="cover.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_cover_image_uploaded_on_the_change_page_is_stored(client, instructor):
    course = CourseFactory(owner=instructor)
    client.force_login(instructor)

    response = client.post(
        change_url(course), course_form(course, cover_image=png_upload("My Photo.PNG"))
    )

    assert response.status_code == 302
    course.refresh_from_db()
    assert course.cover_image.name.startswith("courses/covers/")
    assert course.cover_image.name.endswith(".png")
