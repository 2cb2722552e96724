"""The public catalog: listing, filters, ordering, search, caching and query counts."""

import pytest
from django.core.cache import cache
from django.db import connection

from accounts.tests.factories import UserFactory
from courses import services
from courses.models import Course
from courses.tests.factories import CategoryFactory, CourseFactory, course_with_content

pytestmark = pytest.mark.django_db

URL = "/api/v1/courses/"


def _slugs(response) -> list[str]:
    return [course["slug"] for course in response.json()["results"]]


def test_catalog_lists_only_published_courses(api_client):
    CourseFactory(slug="live", published=True)
    CourseFactory(slug="draft")
    CourseFactory(slug="old", archived=True)

    response = api_client.get(URL)

    assert response.status_code == 200
    assert _slugs(response) == ["live"]


def test_catalog_entry_has_price_as_money_and_no_description(api_client):
    CourseFactory(published=True, price_amount=4900, currency="EUR", seat_capacity=10)

    entry = api_client.get(URL).json()["results"][0]

    assert entry["price"] == {"amount": 4900, "currency": "EUR"}
    assert entry["is_free"] is False
    assert entry["seats_left"] == 10
    assert "description" not in entry


def test_catalog_filters_by_category_slug(api_client):
    design = CategoryFactory(slug="design")
    CourseFactory(slug="in-design", category=design, published=True)
    CourseFactory(slug="elsewhere", published=True)

    response = api_client.get(URL, {"category": "design"})

    assert _slugs(response) == ["in-design"]


@pytest.mark.parametrize(("value", "expected"), [("free", ["free"]), ("paid", ["paid"])])
def test_catalog_filters_free_and_paid(api_client, value, expected):
    CourseFactory(slug="free", published=True)
    CourseFactory(slug="paid", published=True, paid=True)

    response = api_client.get(URL, {"price": value})

    assert _slugs(response) == expected


def test_catalog_filters_by_level_and_language(api_client):
    CourseFactory(slug="match", level="advanced", language="fr", published=True)
    CourseFactory(slug="wrong-level", level="beginner", language="fr", published=True)
    CourseFactory(slug="wrong-language", level="advanced", language="en", published=True)

    response = api_client.get(URL, {"level": "advanced", "language": "fr"})

    assert _slugs(response) == ["match"]


def test_catalog_filters_by_instructor_including_co_instructors(api_client, instructor):
    CourseFactory(slug="owned", owner=instructor, published=True)
    CourseFactory(slug="co-taught", co_instructors=[instructor], published=True)
    CourseFactory(slug="other", published=True)

    response = api_client.get(URL, {"instructor": str(instructor.pk), "ordering": "title"})

    assert sorted(_slugs(response)) == ["co-taught", "owned"]


def test_catalog_rejects_an_unknown_filter_value(api_client):
    response = api_client.get(URL, {"level": "wizard"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "level" in response.json()["fields"]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("title", ["alpha", "beta", "gamma"]),
        ("-title", ["gamma", "beta", "alpha"]),
        ("price", ["beta", "gamma", "alpha"]),
        ("-price", ["alpha", "gamma", "beta"]),
        ("popular", ["gamma", "alpha", "beta"]),
    ],
)
def test_catalog_orderings(api_client, ordering, expected):
    CourseFactory(slug="alpha", title="Alpha", price_amount=300, enrollment_count=5, published=True)
    CourseFactory(slug="beta", title="Beta", price_amount=100, enrollment_count=1, published=True)
    CourseFactory(slug="gamma", title="Gamma", price_amount=200, enrollment_count=9, published=True)

    response = api_client.get(URL, {"ordering": ordering})

    assert _slugs(response) == expected


def test_catalog_default_order_is_newest_first(api_client):
    older = CourseFactory(slug="older", published=True)
    CourseFactory(slug="newer", published=True)
    Course.objects.filter(pk=older.pk).update(published_at="2020-01-01T00:00:00Z")

    assert _slugs(api_client.get(URL)) == ["newer", "older"]


def test_catalog_search_matches_title_subtitle_and_description(api_client):
    CourseFactory(slug="title", title="Astronomy for everyone", published=True)
    CourseFactory(slug="subtitle", subtitle="Stars and astronomy", published=True)
    CourseFactory(slug="description", description="A tour of astronomy.", published=True)
    CourseFactory(slug="unrelated", title="Cooking", published=True)

    response = api_client.get(URL, {"search": "astronomy"})

    assert sorted(_slugs(response)) == ["description", "subtitle", "title"]


@pytest.mark.postgres
def test_catalog_search_ranks_title_above_subtitle_above_description(api_client):
    CourseFactory(slug="description", description="Gardening through the seasons.", published=True)
    CourseFactory(slug="title", title="Gardening", description="Soil.", published=True)
    CourseFactory(slug="subtitle", subtitle="Gardening basics", published=True)

    response = api_client.get(URL, {"search": "gardening"})

    assert _slugs(response) == ["title", "subtitle", "description"]


@pytest.mark.postgres
def test_catalog_search_uses_stemming(api_client):
    CourseFactory(slug="painting", title="Painting landscapes", published=True)

    response = api_client.get(URL, {"search": "paints"})

    assert _slugs(response) == ["painting"]


@pytest.mark.postgres
def test_search_vector_follows_a_title_change(api_client, instructor):
    course = CourseFactory(title="Pottery", owner=instructor, published=True)
    services.course_update(course=course, actor=instructor, data={"title": "Woodworking"})

    response = api_client.get(URL, {"search": "woodworking"})

    assert _slugs(response) == [course.slug]


@pytest.mark.postgres
def test_search_uses_the_gin_index():
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM courses_course "
            "WHERE search_vector @@ websearch_to_tsquery('english', 'python')"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")

    assert "courses_search_vector_gin" in plan


def test_mine_lists_the_courses_i_teach_in_every_status(auth_client, instructor):
    CourseFactory(slug="my-draft", owner=instructor)
    CourseFactory(slug="co-taught-archived", co_instructors=[instructor], archived=True)
    CourseFactory(slug="someone-elses", published=True)

    response = auth_client(instructor).get(URL, {"mine": "true", "ordering": "title"})

    assert sorted(_slugs(response)) == ["co-taught-archived", "my-draft"]


def test_mine_needs_authentication(api_client):
    response = api_client.get(URL, {"mine": "true"})

    assert response.status_code == 401


def test_students_cannot_list_drafts_by_status(auth_client, student):
    CourseFactory(slug="draft")

    response = auth_client(student).get(URL, {"status": "draft"})

    assert _slugs(response) == []


def test_admins_can_list_drafts_by_status(auth_client, admin_user):
    CourseFactory(slug="draft")

    response = auth_client(admin_user).get(URL, {"status": "draft"})

    assert _slugs(response) == ["draft"]


# --- Caching ------------------------------------------------------------------------------


def test_catalog_page_is_served_from_the_cache(api_client, django_assert_num_queries):
    CourseFactory(published=True)
    api_client.get(URL)

    with django_assert_num_queries(0):
        response = api_client.get(URL)

    assert response.json()["count"] == 1


def test_course_update_is_visible_on_the_next_catalog_read(auth_client, instructor):
    course = CourseFactory(title="Before", owner=instructor, published=True)
    auth_client(None).get(URL)

    auth_client(instructor).patch(f"{URL}{course.pk}/", {"title": "After"})

    assert auth_client(None).get(URL).json()["results"][0]["title"] == "After"


def test_new_published_course_is_visible_on_the_next_catalog_read(auth_client, instructor):
    auth_client(None).get(URL)
    course = course_with_content(owner=instructor)

    auth_client(instructor).post(f"{URL}{course.pk}/publish/")

    assert _slugs(auth_client(None).get(URL)) == [course.slug]


def test_catalog_version_survives_an_evicted_token(api_client):
    CourseFactory(title="Cached", published=True)
    api_client.get(URL)
    cache.delete("courses:catalog:version")  # e.g. evicted under memory pressure
    Course.objects.update(title="Changed")

    assert api_client.get(URL).json()["results"][0]["title"] == "Changed"


# --- Query counts -------------------------------------------------------------------------


@pytest.mark.parametrize("courses", [5, 50])
def test_catalog_query_count_does_not_grow_with_page_size(
    api_client, django_assert_num_queries, courses
):
    co_instructor = UserFactory(instructor=True)
    category = CategoryFactory()
    for _ in range(courses):
        CourseFactory(published=True, category=category, co_instructors=[co_instructor])

    # count, page of courses (owner and category joined), co-instructors prefetched
    with django_assert_num_queries(3):
        response = api_client.get(URL, {"page_size": 100})

    assert response.json()["count"] == courses
