"""The catalog, course and lesson pages: each role, bad input and query counts."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from courses import services
from courses.models import Course, Lesson
from courses.tests.factories import (
    CategoryFactory,
    CourseFactory,
    LessonFactory,
    ModuleFactory,
    course_with_content,
)
from courses.views import price_label, video_embed_url

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous",
    "student",
    "other_student",
    "instructor",
    "co_instructor",
    "other_instructor",
    "admin_user",
]


def _expect(**statuses: int) -> list:
    """Parametrize over every role with the expected status for each."""
    return [pytest.param(role, statuses[role], id=f"_case {role}") for role in ROLES]


def _lessons(course: Course) -> list[Lesson]:
    return list(
        Lesson.objects.filter(module__course=course).order_by("module__position", "position")
    )


def _lesson_url(lesson: Lesson) -> str:
    return f"/courses/{lesson.module.course.slug}/lessons/{lesson.pk}/"


def _text(response) -> str:
    return response.content.decode()


# --- Catalog ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_catalog_shows_published_courses_to_every_role(page_client, role_user):
    CourseFactory(title="Live course", published=True)
    CourseFactory(title="Draft course")
    CourseFactory(title="Old course", archived=True)

    response = page_client(role_user).get("/")

    assert response.status_code == 200
    assert "Live course" in _text(response)
    assert "Draft course" not in _text(response)
    assert "Old course" not in _text(response)


def test_catalog_links_each_course_to_its_page(client):
    CourseFactory(slug="intro-python", published=True)

    response = client.get("/")

    assert 'href="/courses/intro-python/"' in _text(response)


def test_catalog_search_finds_a_course_by_title(client):
    CourseFactory(title="Astronomy for everyone", published=True)
    CourseFactory(title="Cooking basics", published=True)

    response = client.get("/", {"search": "astronomy"})

    assert "Astronomy for everyone" in _text(response)
    assert "Cooking basics" not in _text(response)
    assert 'value="astronomy"' in _text(response)


@pytest.mark.parametrize(
    ("price", "shown", "hidden"),
    [("free", "Free course", "Paid course"), ("paid", "Paid course", "Free course")],
)
def test_catalog_filters_free_and_paid(client, price, shown, hidden):
    CourseFactory(title="Free course", published=True)
    CourseFactory(title="Paid course", published=True, paid=True)

    response = client.get("/", {"price": price})

    assert shown in _text(response)
    assert hidden not in _text(response)


def test_catalog_filters_by_category_level_and_language(client):
    design = CategoryFactory(slug="design", name="Design")
    CourseFactory(title="Match", category=design, level="advanced", language="fr", published=True)
    CourseFactory(title="Wrong level", category=design, level="beginner", language="fr")
    CourseFactory(title="Elsewhere", level="advanced", language="fr", published=True)

    response = client.get("/", {"category": "design", "level": "advanced", "language": "fr"})

    assert "Match" in _text(response)
    assert "Wrong level" not in _text(response)
    assert "Elsewhere" not in _text(response)
    assert '<option value="design" selected>' in _text(response)


def test_catalog_rejects_an_unknown_filter_value_next_to_the_field(client):
    CourseFactory(title="Some course", published=True)

    response = client.get("/", {"level": "wizard"})

    assert response.status_code == 400
    body = _text(response)
    assert 'aria-invalid="true" aria-describedby="error-level"' in body
    assert 'id="error-level"' in body
    assert "Some course" not in body


def test_catalog_ignores_the_api_only_status_parameter(client):
    CourseFactory(title="Secret draft")

    response = client.get("/", {"status": "draft", "mine": "true"})

    assert response.status_code == 200
    assert "Secret draft" not in _text(response)


def test_catalog_paginates_and_keeps_the_filters_in_page_links(client):
    for number in range(13):
        CourseFactory(title=f"Free {number:02d}", published=True)

    first = client.get("/", {"price": "free", "ordering": "title"})
    second = client.get("/", {"price": "free", "ordering": "title", "page": "2"})

    assert "Page 1 of 2" in _text(first)
    assert 'href="?price=free&amp;ordering=title&amp;page=2"' in _text(first)
    assert "Free 12" in _text(second)
    assert "Free 00" not in _text(second)


@pytest.mark.parametrize("page", ["99", "abc", "-1"])
def test_catalog_answers_a_bad_page_number_with_a_real_page(client, page):
    CourseFactory(title="Only course", published=True)

    response = client.get("/", {"page": page})

    assert response.status_code == 200
    assert "Only course" in _text(response)


def test_catalog_shows_prices_seats_and_instructors(client, instructor):
    instructor.full_name = "Ada Lovelace"
    instructor.save()
    CourseFactory(
        owner=instructor, published=True, price_amount=4900, currency="EUR", seat_capacity=3
    )

    body = _text(client.get("/"))

    assert "49.00 EUR" in body
    assert "3 seats left" in body
    assert "By Ada Lovelace" in body


def test_catalog_says_when_nothing_matches(client):
    CourseFactory(title="Some course", published=True)

    response = client.get("/", {"search": "nothing-like-this"})

    assert "0 courses" in _text(response)
    assert "No course matches these filters." in _text(response)


@pytest.mark.parametrize("courses", [5, 50])
def test_catalog_query_count_is_flat(client, django_assert_num_queries, courses):
    category = CategoryFactory()
    for _ in range(courses):
        course = CourseFactory(published=True, category=category)
        course.co_instructors.add(course.owner)

    with django_assert_num_queries(4):  # categories, count, page (owner, category), co-instructors
        response = client.get("/")

    assert response.status_code == 200


def test_catalog_page_is_cached_until_a_course_changes(client, django_assert_num_queries):
    course = CourseFactory(title="Before", published=True)
    client.get("/")

    with django_assert_num_queries(1):  # the category list of the form only
        cached = client.get("/")
    services.course_update(course=course, actor=course.owner, data={"title": "After"})
    fresh = client.get("/")

    assert "Before" in _text(cached)
    assert "After" in _text(fresh)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (0, "USD", "Free"),
        (4900, "USD", "49.00 USD"),
        (123456, "EUR", "1,234.56 EUR"),
        (500, "JPY", "500 JPY"),
        (1500, "KWD", "1.500 KWD"),
    ],
)
def test_price_label_formats_minor_units(amount, currency, expected):
    assert price_label(amount=amount, currency=currency) == expected


# --- Course page -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=404,
        student=404,
        other_student=404,
        instructor=200,
        co_instructor=200,
        other_instructor=404,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_draft_course_page_is_only_for_its_instructors_and_admins(
    page_client, draft, role_user, expected
):
    response = page_client(role_user).get(f"/courses/{draft.slug}/")

    assert response.status_code == expected


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_published_course_page_is_public(page_client, course, role_user):
    response = page_client(role_user).get(f"/courses/{course.slug}/")

    assert response.status_code == 200
    assert f"<h1>{course.title}</h1>" in _text(response)


def test_course_page_shows_description_price_seats_and_instructors(client, instructor):
    instructor.full_name = "Grace Hopper"
    instructor.save()
    course = course_with_content(
        owner=instructor,
        published=True,
        description="Learn to write compilers.",
        price_amount=2900,
        currency="USD",
        seat_capacity=10,
        enrollment_count=4,
    )

    body = _text(client.get(f"/courses/{course.slug}/"))

    assert "Learn to write compilers." in body
    assert "29.00 USD" in body
    assert "6 seats left" in body
    assert "Grace Hopper" in body


def test_course_page_links_preview_lessons_only_for_visitors(client, course):
    preview, closed = _lessons(course)[:2]
    Lesson.objects.filter(pk=preview.pk).update(is_preview=True)

    body = _text(client.get(f"/courses/{course.slug}/"))

    assert f'href="{_lesson_url(preview)}"' in body
    assert f'href="{_lesson_url(closed)}"' not in body
    assert closed.title in body


def test_course_page_asks_visitors_to_log_in_to_enrol(client, course):
    body = _text(client.get(f"/courses/{course.slug}/"))

    assert "Log in to enrol" in body
    assert f"?next=/courses/{course.slug}/" in body


def test_course_page_offers_free_enrolment_as_a_form_with_csrf(page_client, student, course):
    body = _text(page_client(student).get(f"/courses/{course.slug}/"))

    assert f'action="/courses/{course.slug}/enroll/"' in body
    assert 'name="csrfmiddlewaretoken"' in body
    assert "Enrol for free" in body


def test_course_page_of_a_paid_course_shows_the_buy_form(page_client, student):
    course = course_with_content(published=True, paid=True)

    body = _text(page_client(student).get(f"/courses/{course.slug}/"))

    assert f'action="/courses/{course.slug}/buy/"' in body
    assert "Enrol for free" not in body


def test_course_page_of_a_full_course_says_so(page_client, student):
    course = course_with_content(published=True, seat_capacity=2, enrollment_count=2)

    body = _text(page_client(student).get(f"/courses/{course.slug}/"))

    assert "Every seat in this course is taken." in body
    assert "Enrol for free" not in body


def test_course_page_outside_the_enrolment_window_says_when_it_opens(page_client, student):
    opens = timezone.now() + timedelta(days=3)
    course = course_with_content(published=True, enrollment_opens_at=opens)

    body = _text(page_client(student).get(f"/courses/{course.slug}/"))

    assert "Enrolment opens on" in body
    assert "Enrol for free" not in body


def test_course_page_of_an_archived_course_takes_no_enrolment(page_client, student):
    course = course_with_content(archived=True)

    body = _text(page_client(student).get(f"/courses/{course.slug}/"))

    assert "no longer takes enrolments" in body
    assert "Enrol for free" not in body


def test_course_page_tells_visitors_about_dripped_lessons(client, course):
    Lesson.objects.filter(pk=_lessons(course)[1].pk).update(available_after_days=7)

    body = _text(client.get(f"/courses/{course.slug}/"))

    assert "Opens 7 days after you enrol" in body


def test_unknown_course_shows_the_404_page_in_the_site_layout(client):
    response = client.get("/courses/no-such-course/")

    assert response.status_code == 404
    assert "Page not found" in _text(response)
    assert '<nav class="site-nav"' in _text(response)


def test_courses_path_redirects_to_the_catalog(client):
    response = client.get("/courses/", {"search": "python"})

    assert response.status_code == 302
    assert response["Location"] == "/?search=python"


# --- Lesson player ---------------------------------------------------------------------------


def test_lesson_page_sends_visitors_to_log_in_and_back(client, course):
    url = _lesson_url(_lessons(course)[0])

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_lesson_page_of_an_unenrolled_student_is_the_403_page_with_the_reason(
    page_client, student, course
):
    response = page_client(student).get(_lesson_url(_lessons(course)[0]))

    assert response.status_code == 403
    body = _text(response)
    assert "Enrol in the course to open this lesson." in body
    assert f'href="/courses/{course.slug}/"' in body


def test_preview_lesson_is_open_to_visitors(client, course):
    lesson = _lessons(course)[0]
    Lesson.objects.filter(pk=lesson.pk).update(is_preview=True, body="Free *preview* text")

    response = client.get(_lesson_url(lesson))

    assert response.status_code == 200
    assert "Free <em>preview</em> text" in _text(response)
    assert "This is a free preview." in _text(response)


def test_lesson_of_a_draft_is_not_found_for_students(page_client, student, draft):
    response = page_client(student).get(_lesson_url(_lessons(draft)[0]))

    assert response.status_code == 404


def test_unknown_lesson_is_not_found(page_client, student, course):
    response = page_client(student).get(
        f"/courses/{course.slug}/lessons/00000000-0000-0000-0000-000000000000/"
    )

    assert response.status_code == 404


def test_lesson_under_the_wrong_course_slug_redirects_to_its_own_url(
    page_client, instructor, course
):
    lesson = _lessons(course)[0]

    response = page_client(instructor).get(f"/courses/other-slug/lessons/{lesson.pk}/")

    assert response.status_code == 302
    assert response["Location"] == _lesson_url(lesson)


def test_lesson_body_markdown_is_rendered_without_scripts(page_client, instructor, course):
    lesson = _lessons(course)[0]
    Lesson.objects.filter(pk=lesson.pk).update(
        body=(
            "# Heading\n\n**bold** <script>alert('x')</script> <img src=x onerror=alert(1)>\n\n"
            "[bad](javascript:alert(1)) [good](https://example.com/page)"
        )
    )

    body = _text(page_client(instructor).get(_lesson_url(lesson)))

    assert "<strong>bold</strong>" in body
    assert "<h1>Heading</h1>" in body
    assert "<script>alert" not in body
    assert "<img" not in body
    assert "&lt;script&gt;" in body  # shown as text, never run
    assert 'href="javascript:' not in body
    assert 'href="https://example.com/page" rel="noopener noreferrer nofollow"' in body


def test_instructor_sees_the_lesson_without_the_complete_button(page_client, instructor, course):
    body = _text(page_client(instructor).get(_lesson_url(_lessons(course)[0])))

    assert "Mark as complete" not in body
    assert "as one of the course's instructors" in body


def test_lesson_navigation_follows_reading_order_across_modules(page_client, instructor, course):
    lessons = _lessons(course)  # module 1: 0, 1; module 2: 2, 3

    body = _text(page_client(instructor).get(_lesson_url(lessons[1])))

    assert f'rel="prev" href="{_lesson_url(lessons[0])}"' in body
    assert f'rel="next" href="{_lesson_url(lessons[2])}"' in body
    assert "Lesson 2 of 4" in body


def test_last_lesson_leads_back_to_the_course(page_client, instructor, course):
    body = _text(page_client(instructor).get(_lesson_url(_lessons(course)[-1])))

    assert 'rel="next"' not in body
    assert "Back to the course" in body


def test_youtube_video_lesson_is_embedded(page_client, instructor):
    course = CourseFactory(owner=instructor, published=True)
    lesson = LessonFactory(
        module=ModuleFactory(course=course),
        video=True,
        video_url="https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    )

    response = page_client(instructor).get(_lesson_url(lesson))

    assert '<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"' in _text(response)
    policy = response["Content-Security-Policy"]
    assert "frame-src https://www.youtube-nocookie.com https://player.vimeo.com" in policy


def test_video_from_an_unknown_host_is_a_link_not_an_iframe(page_client, instructor):
    course = CourseFactory(owner=instructor, published=True)
    lesson = LessonFactory(module=ModuleFactory(course=course), video=True)

    body = _text(page_client(instructor).get(_lesson_url(lesson)))

    assert "<iframe" not in body
    assert 'href="https://video.example.com/1"' in body


def test_video_over_plain_http_is_neither_embedded_nor_linked(page_client, instructor):
    course = CourseFactory(owner=instructor, published=True)
    lesson = LessonFactory(
        module=ModuleFactory(course=course), video=True, video_url="http://youtu.be/dQw4w9WgXcQ"
    )

    body = _text(page_client(instructor).get(_lesson_url(lesson)))

    assert "<iframe" not in body
    assert 'href="http://youtu.be' not in body
    assert "not available over a secure connection" in body


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
            "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
        ),
        ("https://youtu.be/dQw4w9WgXcQ", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
        (
            "https://m.youtube.com/shorts/dQw4w9WgXcQ",
            "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
        ),
        ("https://vimeo.com/76979871", "https://player.vimeo.com/video/76979871"),
        ("https://player.vimeo.com/video/76979871", "https://player.vimeo.com/video/76979871"),
        ("http://www.youtube.com/watch?v=dQw4w9WgXcQ", None),
        ("https://www.youtube.com/watch?v=<script>", None),
        ("https://youtube.com.evil.example/watch?v=dQw4w9WgXcQ", None),
        ("https://vimeo.com/channels/staffpicks", None),
        ("javascript:alert(1)", None),
    ],
)
def test_video_embed_url_knows_only_youtube_and_vimeo_over_https(url, expected):
    assert video_embed_url(url) == expected


# --- Lesson files ----------------------------------------------------------------------------


def _lesson_with_file(course: Course) -> Lesson:
    lesson = _lessons(course)[0]
    lesson.title = "Star charts"
    lesson.attachment.save("charts.pdf", ContentFile(b"%PDF-1.4 star charts"), save=True)
    return lesson


def test_lesson_with_a_file_links_to_its_download(page_client, instructor, course):
    lesson = _lesson_with_file(course)

    body = _text(page_client(instructor).get(_lesson_url(lesson)))

    assert f'href="{_lesson_url(lesson)}download/"' in body
    assert "PDF" in body


def test_lesson_download_redirects_to_a_fresh_signed_link_that_serves_the_file(
    page_client, instructor, course
):
    lesson = _lesson_with_file(course)
    client = page_client(instructor)

    response = client.get(f"{_lesson_url(lesson)}download/")

    assert response.status_code == 302
    assert response["Location"].startswith("/api/v1/files/")
    download = client.get(response["Location"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 star charts"
    assert 'filename="star-charts.pdf"' in download["Content-Disposition"]


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=302,
        student=403,
        other_student=403,
        instructor=302,
        co_instructor=302,
        other_instructor=403,
        admin_user=302,
    ),
    indirect=["role_user"],
)
def test_lesson_download_needs_the_right_to_read_the_lesson(
    page_client, course, role_user, expected
):
    lesson = _lesson_with_file(course)

    response = page_client(role_user).get(f"{_lesson_url(lesson)}download/")

    assert response.status_code == expected
    if role_user is None:
        assert response["Location"].startswith("/accounts/login/?next=")


def test_lesson_download_without_a_file_is_not_found(page_client, instructor, course):
    response = page_client(instructor).get(f"{_lesson_url(_lessons(course)[0])}download/")

    assert response.status_code == 404
