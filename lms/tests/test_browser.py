"""The site's pages in a real headless Chromium, against a live server."""

import base64
import json
import re
import time
from datetime import timedelta

import pytest
import responses
from django.utils import timezone
from django_otp.oath import TOTP
from playwright.sync_api import expect

from accounts.tests.factories import PASSWORD, UserFactory
from courses.models import Lesson
from courses.tests.factories import CourseFactory, course_with_content
from enrollments.services import enrollment_create
from payments.models import Order
from payments.tests.conftest import API_BASE, WEBHOOK_SECRET, WEBHOOK_URL, FakeStripe
from payments.tests.conftest import completed_event as stripe_completed_event
from payments.tests.conftest import sign as stripe_sign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_page_shows_the_styled_layout(live_server, page):
    page.goto(live_server.url + "/")

    assert page.locator("h1").inner_text() == "Learn something new"
    header = page.locator(".site-header")
    assert header.evaluate("el => getComputedStyle(el).display") == "flex"  # site.css loaded


def test_api_docs_render_the_operations(live_server, page):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="API docs").click()

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


# --- The learner's journey through the student pages ---------------------------------------

LESSON_BODY = """## Why the sky is dark

Light from distant galaxies is **redshifted**. Read [the primer](https://example.org/primer).

- Olbers' paradox
- The age of the universe
"""


def _lessons(course) -> list[Lesson]:
    return list(
        Lesson.objects.filter(module__course=course).order_by("module__position", "position")
    )


def _unexpected(problems: list[str], *statuses: int) -> list[str]:
    """Problems, less Chromium's console line for a page answered with an expected status."""
    expected = tuple(f"the server responded with a status of {status}" for status in statuses)
    return [problem for problem in problems if not any(text in problem for text in expected)]


def test_learner_finds_a_free_course_enrols_completes_a_lesson_and_sees_progress(
    live_server, page, browser_sign_in, page_problems, capture_page
):
    course = course_with_content(
        modules=2,
        lessons_per_module=2,
        title="Practical Astronomy",
        subtitle="Read the night sky",
        published=True,
        seat_capacity=30,
    )
    first_lesson = _lessons(course)[0]
    Lesson.objects.filter(pk=first_lesson.pk).update(title="Dark skies", body=LESSON_BODY)
    CourseFactory(title="Cooking Basics", published=True)
    CourseFactory(title="Advanced Tax Law", published=True, paid=True)
    browser_sign_in(UserFactory(full_name="Lin Learner"))

    page.goto(live_server.url + "/")
    assert capture_page("catalog") == []
    page.get_by_label("Search", exact=True).fill("astronomy")
    page.get_by_role("button", name="Find courses").click()
    expect(page.get_by_test_id("result-count")).to_have_text("1 course")
    assert page.get_by_role("link", name="Cooking Basics").count() == 0

    page.get_by_role("link", name="Practical Astronomy").click()
    expect(page.locator("h1")).to_have_text("Practical Astronomy")
    expect(page.get_by_test_id("seats-left")).to_have_text("30 seats left")
    assert capture_page("course") == []
    page.get_by_role("button", name="Enrol for free").click()
    expect(page.locator(".messages")).to_contain_text("You are enrolled in Practical Astronomy.")

    page.get_by_role("link", name="Start learning").click()
    expect(page.locator("h1")).to_have_text("Dark skies")
    expect(page.locator(".lesson-body strong")).to_have_text("redshifted")
    assert capture_page("lesson") == []
    page.get_by_role("button", name="Mark as complete").click()
    expect(page.get_by_test_id("lesson-completed")).to_be_visible()
    expect(page.locator(".messages")).to_contain_text("Your progress in this course: 25%")

    page.get_by_role("link", name="My learning").click()
    expect(page.get_by_test_id("progress")).to_have_text("25%")
    expect(page.get_by_role("link", name="Continue: ")).to_have_count(1)
    assert capture_page("dashboard") == []
    assert page_problems == []


def test_learner_leaves_a_course_from_the_dashboard(
    live_server, page, browser_sign_in, page_problems, capture_page
):
    student = UserFactory()
    course = course_with_content(title="Pottery at Home", published=True)
    enrollment_create(user=student, course=course, source="free")
    browser_sign_in(student)

    page.goto(live_server.url + "/dashboard/")
    page.get_by_role("link", name="Leave the course").click()
    expect(page.locator("h1")).to_have_text("Leave Pottery at Home?")
    assert capture_page("leave-course") == []
    page.get_by_role("button", name="Leave the course").click()

    expect(page.locator(".messages")).to_contain_text("You left Pottery at Home.")
    expect(page.get_by_role("heading", name="Courses you left")).to_be_visible()
    assert page_problems == []


def test_student_cannot_open_an_unenrolled_or_a_locked_lesson(
    live_server, page, browser_sign_in, page_problems, capture_page
):
    student = UserFactory()
    not_mine = course_with_content(title="Someone Else's Course", published=True)
    mine = course_with_content(lessons_per_module=2, title="My Course", published=True)
    enrollment_create(user=student, course=mine, source="free")
    locked = _lessons(mine)[1]
    Lesson.objects.filter(pk=locked.pk).update(available_from=timezone.now() + timedelta(days=5))
    browser_sign_in(student)

    response = page.goto(
        f"{live_server.url}/courses/{not_mine.slug}/lessons/{_lessons(not_mine)[0].pk}/"
    )
    assert response.status == 403
    expect(page.get_by_test_id("error-reason")).to_have_text(
        "Enrol in the course to open this lesson."
    )
    assert capture_page("lesson-not-enrolled") == []
    page.get_by_role("link", name="Go to the course page").click()
    expect(page.get_by_role("button", name="Enrol for free")).to_be_visible()

    response = page.goto(f"{live_server.url}/courses/{mine.slug}/lessons/{locked.pk}/")
    assert response.status == 403
    expect(page.get_by_test_id("error-reason")).to_contain_text("This lesson opens on")
    assert capture_page("lesson-locked") == []
    assert _unexpected(page_problems, 403) == []


def test_unknown_page_is_captured_at_both_widths(live_server, page, page_problems, capture_page):
    response = page.goto(live_server.url + "/courses/no-such-course/")

    assert response.status == 404
    assert capture_page("not-found") == []
    assert _unexpected(page_problems, 404) == []


def test_keyboard_users_can_skip_to_the_main_content(live_server, page):
    page.goto(live_server.url + "/")

    page.keyboard.press("Tab")

    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to main content"
    assert page.locator(".skip-link").evaluate("el => el.getBoundingClientRect().top >= 0")


# --- Account pages: sign-up, verification, log-in with MFA, lockout ----------------------------


def _settled(page):
    """The page once nothing loads any more: Chromium asks for the site icon after the load
    event, and a test that moves on at once would cut that request off (a failed request)."""
    page.wait_for_load_state("networkidle")
    return page


def test_learner_signs_up_confirms_the_email_from_the_mail_and_logs_in(
    live_server, page, page_problems, capture_page, mailoutbox, settings
):
    settings.SITE_URL = live_server.url  # the links in the emails

    page.goto(live_server.url + "/")
    _settled(page).get_by_role("link", name="Sign up").click()
    expect(page.locator("h1")).to_have_text("Create your account")
    assert capture_page("signup") == []
    page.get_by_label("Full name").fill("Nora Newcomer")
    page.get_by_label("Email address").fill("nora@example.com")
    page.get_by_label("Password").fill("a-long-and-unusual-passphrase")
    _settled(page).get_by_role("button", name="Sign up").click()
    expect(page.locator(".messages")).to_contain_text("We sent a link to nora@example.com")
    expect(page.locator("h1")).to_have_text("Log in")

    verification = next(m for m in mailoutbox if m.subject.startswith("Confirm your email"))
    link = re.search(r"http\S+/accounts/verify-email/\?token=[\w-]+", verification.body).group(0)
    assert link.startswith(live_server.url)
    _settled(page).goto(link)
    assert capture_page("verify-email") == []
    _settled(page).get_by_role("button", name="Confirm my email address").click()
    expect(page.locator(".messages")).to_contain_text("Thank you: nora@example.com is confirmed.")
    assert capture_page("login") == []

    page.get_by_label("Email address").fill("nora@example.com")
    page.get_by_label("Password").fill("a-long-and-unusual-passphrase")
    _settled(page).get_by_role("button", name="Log in").click()
    expect(page.locator("h1")).to_have_text("My learning")
    expect(page.get_by_test_id("signed-in-as")).to_have_text("Nora Newcomer")
    _settled(page).get_by_test_id("signed-in-as").click()
    expect(page.get_by_test_id("email-status")).to_have_text("Confirmed")
    assert capture_page("profile") == []
    assert page_problems == []


def _totp(secret: str, *, at: float) -> str:
    """What an authenticator app shows at `at` for this base32 secret (django-otp's TOTP)."""
    totp = TOTP(base64.b32decode(secret))
    totp.time = at
    return f"{totp.token():06d}"


def _log_in(page, live_server, email: str, password: str) -> None:
    _settled(page).goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    _settled(page).get_by_role("button", name="Log in").click()


def _log_out(page) -> None:
    _settled(page).get_by_role("button", name="Log out").click()
    expect(page.locator(".messages")).to_contain_text("You are logged out.")


def _enter_code(page, code: str) -> None:
    page.get_by_label("Authentication code").fill(code)
    _settled(page).get_by_role("button", name="Verify and log in").click()


def test_learner_turns_on_mfa_then_logs_in_with_a_totp_code_and_with_a_backup_code(
    live_server, page, browser_sign_in, page_problems, capture_page
):
    learner = UserFactory(email="mia@example.com", full_name="Mia Careful")
    browser_sign_in(learner)

    page.goto(live_server.url + "/accounts/security/")
    expect(page.get_by_test_id("mfa-status")).to_have_text("Off")
    _settled(page).get_by_role("button", name="Turn on two-factor authentication").click()
    qr_code = page.get_by_test_id("qr-code")
    expect(qr_code).to_be_visible()
    assert qr_code.evaluate("img => img.complete && img.naturalWidth > 0")  # the CSP allows it
    assert capture_page("mfa-setup") == []
    page.get_by_text("Can't scan it? Type the key in instead").click()
    secret = page.get_by_test_id("totp-secret").inner_text()
    # The previous 30-second step (within django-otp's tolerance), so that the sign-in below,
    # with the current one, is not refused as a replay.
    page.get_by_label("Authentication code").fill(_totp(secret, at=time.time() - 30))
    _settled(page).get_by_role("button", name="Turn it on").click()
    codes = page.get_by_test_id("backup-codes").locator("code").all_inner_texts()
    assert len(codes) == 10
    assert capture_page("backup-codes") == []
    _settled(page).get_by_role("link", name="I have saved them").click()
    expect(page.get_by_test_id("mfa-status")).to_have_text("On")
    assert capture_page("security") == []

    _log_out(page)
    _log_in(page, live_server, "mia@example.com", PASSWORD)
    expect(page.locator("h1")).to_have_text("Two-factor authentication")
    assert capture_page("login-code") == []
    _enter_code(page, _totp(secret, at=time.time()))
    expect(page.locator("h1")).to_have_text("My learning")
    expect(page.get_by_test_id("signed-in-as")).to_have_text("Mia Careful")

    _log_out(page)
    _log_in(page, live_server, "mia@example.com", PASSWORD)
    _enter_code(page, codes[0])
    expect(page.locator("h1")).to_have_text("My learning")

    _log_out(page)
    _log_in(page, live_server, "mia@example.com", PASSWORD)
    _enter_code(page, codes[0])  # each backup code works once
    expect(page.locator("#id_code_error")).to_contain_text("The code is not correct.")
    expect(page.get_by_label("Authentication code")).to_have_attribute("aria-invalid", "true")
    _settled(page)
    assert page_problems == []


def test_the_login_page_says_the_account_is_locked_after_five_bad_passwords(
    live_server, page, page_problems, capture_page
):
    UserFactory(email="sam@example.com")

    for _ in range(5):
        _log_in(page, live_server, "sam@example.com", "not-my-password")
        expect(page.get_by_test_id("form-errors")).to_have_text(
            "The email address or the password is not correct."
        )
    _log_in(page, live_server, "sam@example.com", PASSWORD)

    expect(page.get_by_test_id("form-errors")).to_contain_text(
        "Too many failed sign-in attempts. Try again after"
    )
    expect(page.get_by_test_id("signed-in-as")).to_have_count(0)
    assert capture_page("login-locked") == []
    _settled(page)
    assert page_problems == []


def test_learner_resets_a_forgotten_password_from_the_mailed_link(
    live_server, page, page_problems, capture_page, mailoutbox, settings
):
    settings.SITE_URL = live_server.url
    UserFactory(email="kim@example.com", full_name="Kim Forgetful")

    page.goto(live_server.url + "/accounts/login/")
    _settled(page).get_by_role("link", name="Forgot your password?").click()
    assert capture_page("password-reset") == []
    page.get_by_label("Email address").fill("kim@example.com")
    _settled(page).get_by_role("button", name="Send the link").click()
    expect(page.locator(".messages")).to_contain_text("a link to choose a new password")

    reset = next(m for m in mailoutbox if m.subject.startswith("Reset your"))
    link = re.search(r"http\S+/accounts/password-reset/confirm/\?token=[\w-]+", reset.body)
    _settled(page).goto(link.group(0))
    assert capture_page("password-reset-confirm") == []
    page.get_by_label("New password:", exact=True).fill("my-new-and-better-passphrase")
    page.get_by_label("New password again").fill("my-new-and-better-passphrase")
    _settled(page).get_by_role("button", name="Save the new password").click()
    expect(page.locator(".messages")).to_contain_text("Your password is changed.")

    page.get_by_label("Email address").fill("kim@example.com")
    page.get_by_label("Password").fill("my-new-and-better-passphrase")
    _settled(page).get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("signed-in-as")).to_have_text("Kim Forgetful")
    _settled(page)
    assert page_problems == []


def test_account_pages_for_lost_links_are_captured(live_server, page, page_problems, capture_page):
    page.goto(live_server.url + "/accounts/verify-email/resend/")
    expect(page.locator("h1")).to_have_text("Send the confirmation email again")
    assert capture_page("verify-email-resend") == []

    response = _settled(page).goto(live_server.url + "/accounts/password-reset/confirm/?token=x")

    assert response.status == 400
    expect(page.get_by_test_id("error-reason")).to_contain_text("This password reset link is")
    assert capture_page("password-reset-invalid") == []
    _settled(page)
    assert _unexpected(page_problems, 400) == []


# --- Buying a paid course: Stripe faked at the HTTP boundary -----------------------------------

FAKE_CHECKOUT = "https://checkout.stripe.test/"


@pytest.fixture
def fake_stripe(live_server, settings):
    """The server's calls to Stripe answered by payments' FakeStripe (the live server runs in
    this process, so `responses` sees its requests)."""
    settings.STRIPE_SECRET_KEY = "sk_test_fake"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = API_BASE
    settings.STRIPE_SUCCESS_URL = live_server.url + "/orders/{ORDER_ID}/"
    settings.STRIPE_CANCEL_URL = live_server.url + "/orders/{ORDER_ID}/?checkout=cancelled"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeStripe(mock)


def _fake_checkout_page(page, fake_stripe, *, link: str, return_to: str) -> None:
    """Stripe's hosted payment page, intercepted in the browser: one link back to the site."""

    def fulfil(route):
        url = fake_stripe.calls("POST", "/v1/checkout/sessions")[-1][return_to]
        route.fulfill(
            status=200,
            content_type="text/html",
            body=f'<title>Stripe</title><h1>Fake checkout</h1><a href="{url}">{link}</a>',
        )

    page.route(FAKE_CHECKOUT + "**", fulfil)


def _post_signed_webhook(page, live_server, body: dict) -> None:
    """What Stripe does once the card is charged: a signed event to the webhook URL."""
    payload = json.dumps(body)
    response = page.request.post(
        live_server.url + WEBHOOK_URL,
        data=payload,
        headers={"Content-Type": "application/json", "Stripe-Signature": stripe_sign(payload)},
    )
    assert response.status == 200, response.text()
    assert response.json()["result"] == "processed"


def test_learner_buys_a_course_and_gets_access_once_stripe_confirms(
    live_server, page, browser_sign_in, page_problems, capture_page, fake_stripe
):
    course = course_with_content(
        title="Astrophotography", published=True, paid=True, lessons_per_module=2
    )
    first_lesson = _lessons(course)[0]
    buyer = UserFactory(full_name="Bo Buyer")
    browser_sign_in(buyer)
    _fake_checkout_page(page, fake_stripe, link="Pay", return_to="success_url")

    page.goto(f"{live_server.url}/courses/{course.slug}/")
    expect(page.get_by_test_id("course-price")).to_have_text("49.00 USD")
    assert capture_page("course-paid") == []
    _settled(page).get_by_role("button", name="Buy now").click()
    expect(page.locator("h1")).to_have_text("Fake checkout")  # intercepted: never left
    order = Order.objects.get(user=buyer)
    assert page.url == order.checkout_url

    _settled(page).get_by_role("link", name="Pay").click()
    expect(page.get_by_test_id("order-outcome")).to_have_text(
        "Waiting for the payment confirmation"
    )
    assert capture_page("order-pending") == []
    fake_stripe.pay(order.provider_session_id)
    _post_signed_webhook(page, live_server, stripe_completed_event(order))

    # The page asks for the order's status by itself and shows the outcome.
    expect(page.get_by_test_id("order-outcome")).to_have_text("You're enrolled!")
    expect(page.get_by_test_id("order-status")).to_have_text("Paid")
    expect(page.get_by_test_id("order-total")).to_have_text("49.00 USD")
    assert capture_page("order-paid") == []
    _settled(page).get_by_role("link", name="Go to the course").click()
    expect(page.locator(".enrolled-note")).to_have_text("You are enrolled in this course.")
    _settled(page).get_by_role("link", name="Start learning").click()
    expect(page.locator("h1")).to_have_text(first_lesson.title)

    _settled(page).get_by_role("link", name="My orders").click()
    row = page.get_by_test_id("order-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Astrophotography")
    expect(row).to_contain_text("49.00 USD")
    expect(row).to_contain_text("Paid")
    assert capture_page("orders") == []
    _settled(page)
    assert page_problems == []


def test_learner_who_leaves_the_checkout_sees_nothing_was_charged(
    live_server, page, browser_sign_in, page_problems, capture_page, fake_stripe
):
    course = course_with_content(title="Night Sky Maps", published=True, paid=True)
    browser_sign_in(UserFactory())
    _fake_checkout_page(page, fake_stripe, link="Back", return_to="cancel_url")

    page.goto(f"{live_server.url}/courses/{course.slug}/")
    page.get_by_label("Coupon code").fill("NOSUCHCODE")
    _settled(page).get_by_role("button", name="Buy now").click()
    expect(page.locator(".messages")).to_contain_text("No coupon has this code.")
    assert not Order.objects.exists()

    _settled(page).get_by_role("button", name="Buy now").click()
    expect(page.locator("h1")).to_have_text("Fake checkout")
    _settled(page).get_by_role("link", name="Back").click()

    expect(page.get_by_test_id("order-outcome")).to_have_text("You left the payment page")
    expect(page.get_by_text("Nothing was charged.")).to_be_visible()
    assert capture_page("order-left-checkout") == []
    _settled(page).get_by_role("link", name="Return to the payment page").click()
    expect(page.locator("h1")).to_have_text("Fake checkout")
    _settled(page)
    assert page_problems == []
