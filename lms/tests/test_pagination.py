"""page / page_size on every list endpoint (shown on the back-office user directory)."""

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

USERS_URL = reverse("accounts_api:user-list")


@pytest.fixture
def admin_client(auth_client, admin_user):
    return auth_client(admin_user)


def test_default_page_size_is_20(admin_client):
    UserFactory.create_batch(24)  # 25 users with the admin

    body = admin_client.get(USERS_URL).json()

    assert body["count"] == 25
    assert len(body["results"]) == 20
    assert body["next"].endswith("?page=2")
    assert body["previous"] is None


def test_page_size_is_honoured(admin_client):
    UserFactory.create_batch(4)

    body = admin_client.get(USERS_URL, {"page_size": 2, "page": 2}).json()

    assert len(body["results"]) == 2
    assert body["previous"] is not None


def test_page_size_over_the_maximum_is_capped_at_100(admin_client):
    UserFactory.create_batch(105)

    body = admin_client.get(USERS_URL, {"page_size": 1000}).json()

    assert body["count"] == 106
    assert len(body["results"]) == 100


def test_page_out_of_range_is_a_404_in_the_common_shape(admin_client):
    response = admin_client.get(USERS_URL, {"page": 99})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert set(response.json()) == {"code", "message", "fields"}


def test_page_that_is_not_a_number_is_a_404(admin_client):
    response = admin_client.get(USERS_URL, {"page": "last-but-one"})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("page_size", ["null", "0", "-5", "2.5"])
def test_page_size_that_is_not_a_positive_whole_number_is_a_400(admin_client, page_size):
    response = admin_client.get(USERS_URL, {"page_size": page_size})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "page_size" in response.json()["fields"]
