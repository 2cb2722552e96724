"""What the API fuzzer (test_resilience_fuzz.py) found, pinned down one by one."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from courses.tests.factories import CategoryFactory, course_with_content

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_errors_of_the_csv_roster_export_keep_the_json_shape(auth_client, student):
    course = course_with_content(published=True)

    response = auth_client(student).get(f"/api/v1/courses/{course.pk}/students/?format=csv")

    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "permission_denied"


def test_an_empty_string_is_no_category_id(auth_client, admin_user):
    response = auth_client(admin_user).post(
        "/api/v1/categories/", {"name": "Art", "slug": "art", "parent": ""}, format="json"
    )

    assert response.status_code == 400
    assert "parent" in response.json()["fields"]


def test_a_category_id_is_still_accepted(auth_client, admin_user):
    parent = CategoryFactory()

    response = auth_client(admin_user).post(
        "/api/v1/categories/", {"name": "Art", "slug": "art", "parent": str(parent.pk)}
    )

    assert response.status_code == 201
    assert response.json()["parent"] == str(parent.pk)


def test_lesson_video_url_is_documented_as_a_plain_string(schema):
    video_url = schema["components"]["schemas"]["LessonDetailOutput"]["properties"]["video_url"]

    assert video_url["type"] == "string"
    assert "format" not in video_url


@pytest.mark.parametrize("path", ["/api/v1/courses/{id}/modules/", "/api/v1/modules/{id}/lessons/"])
def test_whole_lists_are_documented_without_pagination(schema, path):
    body = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]

    assert body["schema"]["type"] == "array"


def test_paginated_lists_document_their_400_and_404(schema):
    responses = schema["paths"]["/api/v1/me/enrollments/"]["get"]["responses"]

    assert {"400", "401", "403", "404"} <= set(responses)


def test_public_reads_document_401_for_a_bad_token_but_not_403(schema):
    responses = schema["paths"]["/api/v1/courses/{id}/outline/"]["get"]["responses"]

    assert "401" in responses
    assert "403" not in responses


def test_an_empty_filter_value_is_a_documented_choice(schema):
    parameters = schema["paths"]["/api/v1/courses/"]["get"]["parameters"]
    level = next(parameter for parameter in parameters if parameter["name"] == "level")

    assert "" in level["schema"]["enum"]


def test_nested_field_errors_are_allowed_by_the_error_schema(schema):
    fields = schema["components"]["schemas"]["Error"]["properties"]["fields"]

    assert fields["additionalProperties"] == {}
