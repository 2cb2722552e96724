"""The site's pages in a real headless Chromium, against a live server."""

import pytest

from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_page_shows_the_styled_layout(live_server, page):
    page.goto(live_server.url + "/")

    assert page.locator("h1").inner_text() == "Learn something new"
    header = page.locator(".site-header")
    assert header.evaluate("el => getComputedStyle(el).display") == "flex"  # site.css loaded


def test_api_docs_render_the_operations(live_server, page):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Explore the API").click()

    page.wait_for_selector("text=/api/v1/auth/token/")
    assert page.url == live_server.url + "/api/docs/"


def test_unknown_page_shows_the_404_page(live_server, page):
    response = page.goto(live_server.url + "/no-such-page/")

    assert response.status == 404
    assert page.locator("h1").inner_text() == "Page not found"


def test_admin_signs_in_to_the_admin_site(live_server, page):
    UserFactory(email="boss@example.com", admin=True, is_superuser=True)

    page.goto(live_server.url + "/admin/login/")
    page.fill("input[name=username]", "Boss@Example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")

    page.wait_for_selector("text=Site administration")
    page.goto(live_server.url + "/")
    assert page.get_by_test_id("signed-in-as").is_visible()
