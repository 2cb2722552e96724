"""The assessments admin: scoped to the courses an instructor teaches, questions saved with
their choices through the services, grading through the service (with its email)."""

from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from assessments import services
from assessments.models import Choice, Question, Quiz, Submission
from assessments.tests.conftest import pdf_file
from assessments.tests.factories import QuestionFactory, QuizFactory, choice_question
from courses.models import Lesson
from courses.tests.factories import LessonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    def make(user):
        client.force_login(user)
        return client

    return make


def _question_form(quiz, *, kind="single_choice", choices=(), **fields):
    data = {
        "quiz": str(quiz.pk),
        "kind": kind,
        "text": "Which one?",
        "points": 2,
        "explanation": "",
        "accepted_answers": "[]",
        "numeric_tolerance": "0",
        "numeric_value": "",
        "correct_boolean": "unknown",
        "choices-TOTAL_FORMS": len(choices),
        "choices-INITIAL_FORMS": sum(1 for choice in choices if choice.get("id")),
        "choices-MIN_NUM_FORMS": 0,
        "choices-MAX_NUM_FORMS": 1000,
    }
    for index, choice in enumerate(choices):
        for name, value in choice.items():
            data[f"choices-{index}-{name}"] = value
    data.update(fields)
    return data


@pytest.mark.parametrize(
    ("user_fixture", "visible"),
    [
        pytest.param("instructor", True, id="_case owner"),
        pytest.param("other_instructor", False, id="_case other instructor"),
        pytest.param("admin_user", True, id="_case admin"),
    ],
)
def test_quiz_changelist_is_scoped(staff_client, request, quiz, user_fixture, visible):
    user = request.getfixturevalue(user_fixture)

    response = staff_client(user).get(reverse("admin:assessments_quiz_changelist"))

    assert response.status_code == 200
    assert (str(quiz) in response.content.decode()) is visible


def test_another_instructors_quiz_page_is_not_found(staff_client, other_instructor, quiz):
    response = staff_client(other_instructor).get(
        reverse("admin:assessments_quiz_change", args=[quiz.pk])
    )

    assert response.status_code == 302  # the admin redirects a missing object to the index


def test_students_have_no_admin(staff_client, student, quiz):
    response = staff_client(student).get(reverse("admin:assessments_quiz_changelist"))

    assert response.status_code == 302  # to the login page


def test_quiz_page_lists_questions_inline(staff_client, instructor, quiz):
    question = QuestionFactory(quiz=quiz, text="The sky is blue.")

    response = staff_client(instructor).get(
        reverse("admin:assessments_quiz_change", args=[quiz.pk])
    )

    assert question.text in response.content.decode()


def test_admin_creates_a_quiz_through_the_service(staff_client, instructor, module):
    lesson = LessonFactory(module=module, kind=Lesson.Kind.QUIZ, position=3)

    response = staff_client(instructor).post(
        reverse("admin:assessments_quiz_add"),
        {
            "lesson": str(lesson.pk),
            "max_attempts": 3,
            "passing_score_percent": 70,
            "show_correct_answers": "after_submit",
            "score_policy": "best",
            "questions-TOTAL_FORMS": 0,
            "questions-INITIAL_FORMS": 0,
            "questions-MIN_NUM_FORMS": 0,
            "questions-MAX_NUM_FORMS": 1000,
        },
    )

    assert response.status_code == 302
    assert Quiz.objects.get(lesson=lesson).max_attempts == 3


def test_admin_refuses_a_quiz_on_a_text_lesson(staff_client, instructor, module):
    lesson = LessonFactory(module=module, kind=Lesson.Kind.TEXT, position=3)

    staff_client(instructor).post(
        reverse("admin:assessments_quiz_add"),
        {
            "lesson": str(lesson.pk),
            "max_attempts": 0,
            "passing_score_percent": 70,
            "show_correct_answers": "never",
            "score_policy": "best",
            "questions-TOTAL_FORMS": 0,
            "questions-INITIAL_FORMS": 0,
            "questions-MIN_NUM_FORMS": 0,
            "questions-MAX_NUM_FORMS": 1000,
        },
    )

    assert not Quiz.objects.exists()


def test_admin_adds_a_question_with_its_choices(staff_client, instructor, quiz):
    response = staff_client(instructor).post(
        reverse("admin:assessments_question_add"),
        _question_form(
            quiz,
            choices=[
                {"text": "Left", "is_correct": ""},
                {"text": "Right", "is_correct": "on"},
            ],
        ),
    )

    question = Question.objects.get()
    assert response.status_code == 302
    assert (question.quiz_id, question.position, question.points) == (quiz.pk, 1, 2)
    assert list(question.choices.order_by("position").values_list("text", "is_correct")) == [
        ("Left", False),
        ("Right", True),
    ]


def test_admin_refuses_a_single_choice_without_a_correct_choice(staff_client, instructor, quiz):
    response = staff_client(instructor).post(
        reverse("admin:assessments_question_add"),
        _question_form(quiz, choices=[{"text": "Left"}, {"text": "Right"}]),
    )

    assert response.status_code == 200  # the form again, with the error
    assert "exactly one correct choice" in response.content.decode()
    assert not Question.objects.exists()


def test_admin_changes_choices_of_a_question(staff_client, instructor, quiz):
    question = choice_question(quiz, correct=(0,), count=2)
    first, second = question.choices.order_by("position")

    staff_client(instructor).post(
        reverse("admin:assessments_question_change", args=[question.pk]),
        _question_form(
            quiz,
            choices=[
                {"id": str(first.pk), "question": str(question.pk), "text": "A", "is_correct": ""},
                {
                    "id": str(second.pk),
                    "question": str(question.pk),
                    "text": "B",
                    "is_correct": "on",
                },
            ],
            points=1,
        ),
    )

    assert list(question.choices.order_by("position").values_list("text", "is_correct")) == [
        ("A", False),
        ("B", True),
    ]
    assert Choice.objects.count() == 2


def test_another_instructor_cannot_add_a_question_to_the_quiz(staff_client, other_instructor, quiz):
    staff_client(other_instructor).post(
        reverse("admin:assessments_question_add"),
        _question_form(quiz, choices=[{"text": "L", "is_correct": "on"}, {"text": "R"}]),
    )

    assert not Question.objects.exists()


def test_question_choices_do_not_show_in_other_instructors_lists(
    staff_client, other_instructor, quiz
):
    choice_question(quiz)
    QuizFactory()  # someone else's

    response = staff_client(other_instructor).get(reverse("admin:assessments_question_changelist"))

    assert "0 questions" in response.content.decode()


# --- Submissions --------------------------------------------------------------------------


@pytest.fixture
def submission(assignment, student, enrolled):
    LessonFactory(module=assignment.lesson.module, position=9)  # keeps the course incomplete
    return services.submission_submit(
        assignment=assignment, user=student, text="Essay", files=[pdf_file("mine.pdf")]
    )


def test_submission_page_links_files_through_the_signed_path(staff_client, instructor, submission):
    response = staff_client(instructor).get(
        reverse("admin:assessments_submission_change", args=[submission.pk])
    )

    content = response.content.decode()
    assert "/api/v1/files/" in content
    assert "mine.pdf" in content


def test_the_admin_download_link_works_with_the_staff_session(staff_client, instructor, submission):
    from lms.uploads import KIND_SUBMISSION_FILE, download_token

    stored = submission.files.get()
    client = staff_client(instructor)

    response = client.get(
        f"/api/v1/files/{download_token(kind=KIND_SUBMISSION_FILE, object_id=stored.pk)}/"
    )

    assert response.status_code == 200


def test_grading_in_the_admin_goes_through_the_service(
    staff_client, instructor, student, submission, django_capture_on_commit_callbacks
):
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client(instructor).post(
            reverse("admin:assessments_submission_change", args=[submission.pk]),
            {"points": "7", "feedback": "Nice", "status": "graded"},
        )

    submission.refresh_from_db()
    assert response.status_code == 302
    assert (submission.status, submission.points, submission.graded_by) == (
        "graded",
        Decimal("7.00"),
        instructor,
    )
    assert [message.to for message in mail.outbox if "graded" in message.subject] == [
        [student.email]
    ]


def test_admin_refuses_points_above_the_maximum(staff_client, instructor, submission):
    staff_client(instructor).post(
        reverse("admin:assessments_submission_change", args=[submission.pk]),
        {"points": "99", "feedback": "", "status": "graded"},
    )

    submission.refresh_from_db()
    assert submission.status == Submission.Status.SUBMITTED


def test_other_instructors_do_not_see_the_submission(staff_client, other_instructor, submission):
    response = staff_client(other_instructor).get(
        reverse("admin:assessments_submission_changelist")
    )

    assert submission.user.email not in response.content.decode()


def test_attempts_are_read_only(staff_client, instructor, quiz, student, enrolled):
    QuestionFactory(quiz=quiz)
    attempt = services.attempt_start(quiz=quiz, user=student)

    response = staff_client(instructor).get(
        reverse("admin:assessments_attempt_change", args=[attempt.pk])
    )

    assert response.status_code == 200
    assert 'name="score_percent"' not in response.content.decode()
