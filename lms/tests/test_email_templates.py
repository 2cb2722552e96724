"""Every email template under templates/emails/ has both parts and is rendered, through the code
that really sends it, with its real context; the essentials (recipient, subject, link) hold.

Adding a template means adding its case below: `@email_case("<template>")` on a function that
makes the application send that email and returns what the message must contain. A template
without a case, or with only one of its .txt/.html parts, fails here.
"""

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from lms import mail as lms_mail

EMAILS_DIR = Path(settings.BASE_DIR) / "templates" / "emails"
LAYOUT = "base"
MISSING = "«MISSING VARIABLE: %s»"

TEMPLATES = sorted(
    {path.stem for path in EMAILS_DIR.iterdir() if path.suffix in (".txt", ".html")} - {LAYOUT}
)

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Expected:
    """What the message sent from a template must say."""

    to: str
    subject: str
    link: str  # an absolute URL that both parts contain


EmailCase = Callable[[], Expected]
CASES: dict[str, EmailCase] = {}


def email_case(template: str) -> Callable[[EmailCase], EmailCase]:
    def register(case: EmailCase) -> EmailCase:
        assert template not in CASES, f"two cases for emails/{template}"
        CASES[template] = case
        return case

    return register


# --- Cases --------------------------------------------------------------------------------


@email_case("welcome")
def _welcome() -> Expected:
    from accounts.services import user_register
    from accounts.tests.factories import PASSWORD

    user_register(email="new.learner@example.com", password=PASSWORD, full_name="New Learner")
    return Expected(
        to="new.learner@example.com",
        subject=f"Welcome to {settings.SITE_NAME}",
        link=f"{settings.SITE_URL}/",
    )


@email_case("course_enrolled")
def _course_enrolled() -> Expected:
    from accounts.tests.factories import UserFactory
    from courses.tests.factories import course_with_content
    from enrollments.models import Enrollment
    from enrollments.services import enrollment_create

    learner = UserFactory()
    course = course_with_content(published=True, title="Linear Algebra")
    enrollment_create(user=learner, course=course, source=Enrollment.Source.FREE)
    return Expected(
        to=learner.email,
        subject="You are enrolled in Linear Algebra",
        link=f"{settings.SITE_URL}/courses/{course.slug}/",
    )


@email_case("certificate_issued")
def _certificate_issued() -> Expected:
    from certificates.models import Certificate
    from certificates.services import certificate_issue
    from enrollments.tests.factories import EnrollmentFactory

    enrollment = EnrollmentFactory(completed=True, course__title="Compilers")
    certificate, _ = certificate_issue(enrollment=enrollment, source=Certificate.Source.STAFF)
    return Expected(
        to=enrollment.user.email,
        subject="Your certificate for Compilers",
        link=f"{settings.SITE_URL}/certificates/verify/{certificate.verification_code}/",
    )


@email_case("weekly_digest")
def _weekly_digest() -> Expected:
    from django.utils import timezone

    from certificates.services import digest_week_start, weekly_digest_send_batch
    from enrollments.tests.factories import EnrollmentFactory

    enrollment = EnrollmentFactory(course__title="Operating Systems", progress_percent=40)
    weekly_digest_send_batch(week_start=digest_week_start(timezone.localdate()))
    return Expected(
        to=enrollment.user.email,
        subject=f"Your week at {settings.SITE_NAME}: 1 course(s) in progress",
        link=f"{settings.SITE_URL}/courses/{enrollment.course.slug}/",
    )


@email_case("verify_email")
def _verify_email() -> Expected:
    from accounts.services import email_verification_request
    from accounts.tests.factories import UserFactory

    learner = UserFactory(email="unverified@example.com")
    email_verification_request(user=learner)
    return Expected(
        to=learner.email,
        subject=f"Confirm your email address for {settings.SITE_NAME}",
        link=f"{settings.SITE_URL}/accounts/verify-email/?token=",
    )


@email_case("password_reset")
def _password_reset() -> Expected:
    from accounts.services import password_reset_send
    from accounts.tests.factories import UserFactory

    learner = UserFactory(email="forgetful@example.com")
    password_reset_send(email=learner.email)
    return Expected(
        to=learner.email,
        subject=f"Reset your {settings.SITE_NAME} password",
        link=f"{settings.SITE_URL}/accounts/password-reset/confirm/?token=",
    )


@email_case("payment_receipt")
def _payment_receipt() -> Expected:
    from datetime import timedelta

    from django.utils import timezone

    from accounts.tests.factories import UserFactory
    from courses.tests.factories import course_with_content
    from payments.providers import CheckoutSession, PaymentEvent, PaymentEventKind
    from payments.services import payment_event_apply
    from payments.tests.factories import OrderFactory

    buyer = UserFactory()
    course = course_with_content(published=True, paid=True, title="Databases")
    order = OrderFactory(user=buyer, course=course)
    session = CheckoutSession(
        id=order.provider_session_id,
        url="",
        status="complete",
        payment_status="paid",
        amount=order.amount,
        currency=order.currency,
        order_id=str(order.pk),
        payment_intent_id="pi_receipt",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    payment_event_apply(
        event=PaymentEvent(
            provider="stripe",
            id="evt_receipt",
            type="checkout.session.completed",
            kind=PaymentEventKind.CHECKOUT_COMPLETED,
            created_at=None,
            payload={},
            session=session,
        )
    )
    return Expected(
        to=buyer.email,
        subject=f"Your receipt for Databases (order {order.number})",
        link=f"{settings.SITE_URL}/courses/{course.slug}/",
    )


@email_case("assignment_graded")
def _assignment_graded() -> Expected:
    from decimal import Decimal

    from accounts.tests.factories import UserFactory
    from assessments.services import submission_grade, submission_submit
    from assessments.tests.factories import AssignmentFactory
    from courses.models import Lesson
    from courses.tests.factories import CourseFactory, LessonFactory, ModuleFactory
    from enrollments.models import Enrollment
    from enrollments.services import enrollment_create

    course = CourseFactory(published=True, title="Databases")
    module = ModuleFactory(course=course)
    lesson = LessonFactory(module=module, kind=Lesson.Kind.ASSIGNMENT, title="Normal forms")
    LessonFactory(module=module)  # the course stays incomplete: only this email is sent
    assignment = AssignmentFactory(lesson=lesson, max_points=10, passing_points=6)
    learner = UserFactory()
    enrollment_create(user=learner, course=course, source=Enrollment.Source.ADMIN)
    submission = submission_submit(assignment=assignment, user=learner, text="3NF it is.")
    submission_grade(
        submission=submission,
        grader=course.owner,
        points=Decimal("8.50"),
        feedback="Well argued.",
        status="graded",
    )
    return Expected(
        to=learner.email,
        subject="Your work for “Normal forms” was graded",
        link=f"{settings.SITE_URL}/courses/{course.slug}/",
    )


# --- Tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("template", TEMPLATES)
def test_email_template_has_a_text_and_an_html_part(template):
    assert (EMAILS_DIR / f"{template}.txt").is_file(), f"emails/{template}.txt is missing"
    assert (EMAILS_DIR / f"{template}.html").is_file(), f"emails/{template}.html is missing"


@pytest.mark.parametrize("template", TEMPLATES)
def test_email_template_extends_the_shared_layout(template):
    for suffix in (".txt", ".html"):
        path = EMAILS_DIR / f"{template}{suffix}"
        if path.is_file():
            assert path.read_text().startswith(f'{{% extends "emails/{LAYOUT}{suffix}" %}}')


@pytest.fixture
def rendered(monkeypatch, settings) -> dict[str, list[str]]:
    """Each email template the mail plumbing renders, with its output; an undefined variable
    shows up as MISSING instead of silently vanishing."""
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["OPTIONS"]["string_if_invalid"] = MISSING
    settings.TEMPLATES = templates
    settings.SITE_URL = "https://learn.example.com"
    settings.SITE_NAME = "Example Academy"
    outputs: dict[str, list[str]] = {}
    real_render = lms_mail.render_to_string

    def spy(template_name, context=None, *args, **kwargs):
        output = real_render(template_name, context, *args, **kwargs)
        outputs.setdefault(template_name, []).append(output)
        return output

    monkeypatch.setattr(lms_mail, "render_to_string", spy)
    return outputs


@pytest.mark.parametrize("template", TEMPLATES)
def test_email_is_sent_with_its_recipient_subject_and_link(
    template, rendered, mailoutbox, django_capture_on_commit_callbacks
):
    case = CASES.get(template)
    assert case is not None, f"emails/{template} has no case: add one with @email_case"

    with django_capture_on_commit_callbacks(execute=True):
        expected = case()

    text = rendered[f"emails/{template}.txt"][-1]
    html = rendered[f"emails/{template}.html"][-1]
    [message] = [message for message in mailoutbox if message.body == text]
    assert message.to == [expected.to]
    assert message.subject == expected.subject
    assert message.alternatives == [(html, "text/html")]
    assert expected.link in text
    assert f'href="{expected.link}' in html
    for part in (text, html):
        assert MISSING.split("%")[0] not in part
        assert "Example Academy" in part  # the shared layout's footer
