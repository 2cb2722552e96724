"""Quizzes and assignments in a real headless Chromium, against a live server: a learner takes
a timed quiz and passes it, hands in an assignment with a file, an instructor grades it in the
admin, the learner sees the grade; nobody opens another learner's work."""

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from assessments import services
from assessments.models import Attempt, Submission
from assessments.tests.factories import AssignmentFactory, QuestionFactory, QuizFactory
from assessments.tests.factories import choice_question as make_choice_question
from courses.models import Lesson
from courses.tests.factories import CourseFactory, LessonFactory, ModuleFactory
from enrollments.services import enrollment_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "private", "base_url": None},
        },
    }


@pytest.fixture
def instructor():
    return UserFactory(instructor=True, full_name="Ines Instructor")


@pytest.fixture
def learner():
    return UserFactory(full_name="Lin Learner")


@pytest.fixture
def course(instructor, learner):
    """Published, free: a reading lesson, a quiz lesson and an assignment lesson; `learner`
    is enrolled."""
    course = CourseFactory(title="Practical Astronomy", owner=instructor, published=True)
    module = ModuleFactory(course=course, position=1)
    LessonFactory(module=module, position=1, title="Dark skies")
    LessonFactory(module=module, position=2, title="Check your knowledge", kind=Lesson.Kind.QUIZ)
    LessonFactory(module=module, position=3, title="Observation log", kind=Lesson.Kind.ASSIGNMENT)
    enrollment_create(user=learner, course=course, source="free")
    return course


def _lesson(course, kind: str) -> Lesson:
    return Lesson.objects.get(module__course=course, kind=kind)


def _lesson_url(live_server, lesson: Lesson) -> str:
    return f"{live_server.url}/courses/{lesson.module.course.slug}/lessons/{lesson.pk}/"


@pytest.fixture
def quiz(course):
    """Timed (10 min), 50 % to pass, answers shown after submitting: one question per kind."""
    quiz = QuizFactory(lesson=_lesson(course, Lesson.Kind.QUIZ), time_limit_seconds=600)
    make_choice_question(
        quiz, text="Which planet is largest?", correct=(1,), explanation="Jupiter is huge."
    )
    choices = quiz.questions.get().choices.order_by("position")
    for choice, text in zip(choices, ["Mars", "Jupiter", "Venus"], strict=True):
        choice.text = text
        choice.save()
    multiple = make_choice_question(
        quiz, kind="multiple_choice", text="Which are gas giants?", correct=(0, 2)
    )
    for choice, text in zip(
        multiple.choices.order_by("position"), ["Saturn", "Earth", "Neptune"], strict=True
    ):
        choice.text = text
        choice.save()
    QuestionFactory(quiz=quiz, text="The Sun is a star.", correct_boolean=True)
    QuestionFactory(
        quiz=quiz,
        kind="short_text",
        text="Name the closest star to the Sun.",
        correct_boolean=None,
        accepted_answers=["Proxima Centauri"],
    )
    QuestionFactory(
        quiz=quiz,
        kind="numeric",
        text="How many planets orbit the Sun?",
        correct_boolean=None,
        numeric_value=Decimal(8),
    )
    return quiz


def _question(page, text: str):
    return page.locator("fieldset", has_text=text)


def _unexpected(problems: list[str], *statuses: int) -> list[str]:
    """Problems, less Chromium's console line for a page answered with an expected status."""
    expected = tuple(f"the server responded with a status of {status}" for status in statuses)
    return [problem for problem in problems if not any(text in problem for text in expected)]


def _besides_downloads(problems: list[str]) -> list[str]:
    """Problems, less the navigation Chromium aborts when a signed file link downloads."""
    return [
        problem
        for problem in problems
        if not (
            problem.startswith("failed: ")
            and "/api/v1/files/" in problem
            and "ERR_ABORTED" in problem
        )
    ]


def _grade_in_the_admin(live_server, chromium, instructor, submission, *, points, feedback):
    """The instructor, in a browser of their own, grades the submission in the admin."""
    context = chromium.new_context()
    try:
        client = Client()
        client.force_login(instructor)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
        )
        admin_page = context.new_page()
        problems: list[str] = []
        admin_page.on(
            "console",
            lambda message: (
                problems.append(message.text)
                # The admin's pages name no icon, so Chromium asks for /favicon.ico (404).
                if message.type == "error" and not message.location["url"].endswith("/favicon.ico")
                else None
            ),
        )
        admin_page.goto(f"{live_server.url}/admin/assessments/submission/{submission.pk}/change/")
        expect(
            admin_page.get_by_role("link", name=submission.files.get().original_name)
        ).to_be_visible()
        admin_page.fill("#id_points", points)
        admin_page.fill("#id_feedback", feedback)
        admin_page.select_option("#id_status", "graded")
        admin_page.click("input[name=_save]")
        expect(admin_page.locator(".messagelist")).to_contain_text("was changed successfully")
        assert problems == []
    finally:
        context.close()


def test_learner_takes_the_timed_quiz_passes_and_the_lesson_completes(
    live_server, page, browser_sign_in, page_problems, capture_page, course, quiz, learner
):
    browser_sign_in(learner)

    page.goto(_lesson_url(live_server, quiz.lesson))
    expect(page.get_by_test_id("quiz-attempts-left")).to_have_text("Unlimited (0 used)")
    expect(page.get_by_test_id("quiz-time-limit")).to_have_text("10 minutes")
    expect(page.get_by_test_id("quiz-passing-score")).to_have_text("50%")
    assert "Jupiter" not in page.content()  # no question before an attempt starts
    assert capture_page("quiz-lesson") == []
    page.get_by_role("button", name="Start the quiz").click()

    expect(page.locator("h1")).to_have_text("Check your knowledge: attempt 1")
    timer = page.locator("[data-timer-value]")
    expect(timer).to_have_text(re.compile(r"^(10:00|9:5\d)$"))
    first_reading = timer.inner_text()
    expect(timer).not_to_have_text(first_reading, timeout=3_000)  # it counts down
    assert "Jupiter is huge." not in page.content()  # no explanation before submitting
    _question(page, "Which planet is largest?").get_by_label("Jupiter").check()
    _question(page, "Which are gas giants?").get_by_label("Saturn").check()
    _question(page, "Which are gas giants?").get_by_label("Neptune").check()
    _question(page, "The Sun is a star.").get_by_label("True").check()
    page.get_by_label("Your answer", exact=True).fill("proxima centauri")
    assert capture_page("quiz-attempt") == []
    page.get_by_role("button", name="Save answers").click()

    expect(page.locator(".messages")).to_contain_text("Your answers are saved.")
    expect(_question(page, "Which planet is largest?").get_by_label("Jupiter")).to_be_checked()
    page.get_by_label("Your answer (a number)").fill("8")
    page.get_by_role("button", name="Submit for grading").click()

    expect(page.locator(".messages")).to_contain_text("Your attempt is submitted and graded.")
    expect(page.get_by_test_id("attempt-score")).to_have_text("100%")
    expect(page.get_by_test_id("attempt-verdict")).to_contain_text("Passed")
    expect(page.get_by_text("Jupiter is huge.")).to_be_visible()  # shown after submitting
    assert capture_page("quiz-results") == []

    page.get_by_role("link", name="Back to the quiz").first.click()
    expect(page.get_by_test_id("quiz-passed")).to_be_visible()
    expect(page.get_by_test_id("attempt-row")).to_have_count(1)
    page.get_by_role("link", name="My learning").click()
    expect(page.get_by_test_id("progress")).to_have_text("33%")  # 1 of 3 required lessons
    assert page_problems == []


def test_countdown_submits_the_answers_when_the_time_runs_out(
    live_server, page, browser_sign_in, page_problems, course, quiz, learner
):
    type(quiz).objects.filter(pk=quiz.pk).update(time_limit_seconds=6)
    browser_sign_in(learner)
    page.goto(_lesson_url(live_server, quiz.lesson))
    page.get_by_role("button", name="Start the quiz").click()

    _question(page, "The Sun is a star.").get_by_label("True").check()

    expect(page.get_by_test_id("attempt-score")).to_have_text("20%", timeout=10_000)
    attempt = Attempt.objects.get()
    assert attempt.status == Attempt.Status.SUBMITTED  # sent before the deadline, not after
    assert page_problems == []


def test_expired_attempt_grades_what_was_saved_in_time(
    live_server, page, browser_sign_in, page_problems, capture_page, course, quiz, learner
):
    started = timezone.now() - timedelta(minutes=15)
    attempt = services.attempt_start(quiz=quiz, user=learner, now=started)
    question = quiz.questions.get(kind="true_false")
    services.attempt_save_answers(
        attempt=attempt,
        user=learner,
        answers=[services.AnswerInput(question=question.pk, value=True, has_value=True)],
        now=started,
    )
    browser_sign_in(learner)

    page.goto(_lesson_url(live_server, quiz.lesson))
    page.get_by_role("link", name="Continue your attempt").click()
    expect(page.get_by_test_id("attempt-expired")).to_be_visible()
    assert capture_page("quiz-attempt-expired") == []
    page.get_by_role("button", name="See your score").click()

    expect(page.locator(".messages")).to_contain_text("The time ran out at")
    expect(page.get_by_test_id("attempt-score")).to_have_text("20%")
    expect(page.get_by_test_id("attempt-verdict")).to_contain_text("Not passed")
    assert page_problems == []


def test_learner_hands_in_work_the_instructor_grades_it_and_the_learner_sees_the_grade(
    live_server,
    chromium,
    page,
    browser_sign_in,
    page_problems,
    capture_page,
    course,
    learner,
    instructor,
    tmp_path,
):
    assignment = AssignmentFactory(
        lesson=_lesson(course, Lesson.Kind.ASSIGNMENT),
        instructions="Observe the Moon for a week and **log** what you see.",
        due_at=timezone.now() + timedelta(days=7),
    )
    bad_file = tmp_path / "log.exe"
    bad_file.write_bytes(b"MZ\x90\x00")
    good_file = tmp_path / "moon-log.pdf"
    good_file.write_bytes(PDF)
    browser_sign_in(learner)

    page.goto(_lesson_url(live_server, assignment.lesson))
    expect(page.get_by_test_id("assignment-instructions").locator("strong")).to_have_text("log")
    expect(page.get_by_test_id("late-policy")).to_have_text(
        "Work handed in after the due date is accepted and marked late."
    )
    assert capture_page("assignment-lesson") == []
    page.get_by_label("Files", exact=True).set_input_files([str(bad_file)])
    page.get_by_role("button", name="Hand in").click()

    expect(page.get_by_test_id("file-errors")).to_contain_text(
        "log.exe: Files of this type are not accepted (allowed: pdf, png, txt)."
    )
    assert capture_page("assignment-upload-error") == []
    page.get_by_label("Your answer", exact=True).fill("Waxing crescent on Monday, full on Sunday.")
    page.get_by_label("Files", exact=True).set_input_files([str(good_file)])
    page.get_by_role("button", name="Hand in").click()

    expect(page.locator(".messages")).to_contain_text("Your work is handed in.")
    expect(page.get_by_test_id("submission-status")).to_have_text("Handed in, waiting for a grade")
    with page.expect_download() as download_info:
        page.get_by_test_id("submission-file").click()
    download = download_info.value
    assert download.suggested_filename == "moon-log.pdf"
    assert Path(download.path()).read_bytes() == PDF

    submission = Submission.objects.get()
    _grade_in_the_admin(
        live_server,
        chromium,
        instructor,
        submission,
        points="8",
        feedback="Careful observations. Add the times next time.",
    )

    page.reload()
    expect(page.get_by_test_id("submission-status")).to_have_text("Graded")
    expect(page.get_by_test_id("submission-grade")).to_contain_text("8 of 10 points")
    expect(page.get_by_test_id("submission-grade")).to_contain_text("Passed")
    expect(page.get_by_test_id("submission-feedback")).to_have_text(
        "Careful observations. Add the times next time."
    )
    expect(page.get_by_role("button", name="Hand in")).to_have_count(0)
    assert capture_page("assignment-graded") == []
    assert _unexpected(_besides_downloads(page_problems), 400) == []


def test_student_cannot_open_another_students_submission_file_or_attempt(
    live_server, page, browser_sign_in, page_problems, capture_page, course, quiz, learner
):
    assignment = AssignmentFactory(lesson=_lesson(course, Lesson.Kind.ASSIGNMENT))
    submission = services.submission_submit(
        assignment=assignment,
        user=learner,
        files=[SimpleUploadedFile("private-notes.pdf", PDF, content_type="application/pdf")],
    )
    stored = submission.files.get()
    attempt = services.attempt_start(quiz=quiz, user=learner)
    browser_sign_in(learner)
    page.goto(_lesson_url(live_server, assignment.lesson))
    with page.expect_download():
        page.get_by_test_id("submission-file").click()
    # The learner's own fresh signed link, as the file's page hands it out.
    signed_link = page.request.get(
        f"{live_server.url}/submission-files/{stored.pk}/", max_redirects=0
    ).headers["location"]

    page.context.clear_cookies()
    other = UserFactory(full_name="Oscar Other")
    enrollment_create(user=other, course=course, source="free")
    browser_sign_in(other)

    response = page.goto(f"{live_server.url}/submission-files/{stored.pk}/")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Page not found")
    assert capture_page("submission-file-not-found") == []
    response = page.request.get(live_server.url + signed_link)
    assert response.status == 404  # the signed link alone is not enough
    response = page.goto(f"{live_server.url}/attempts/{attempt.pk}/")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Page not found")
    assert _unexpected(_besides_downloads(page_problems), 404) == []
