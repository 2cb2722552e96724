"""The assessments API: each endpoint for each role, answers never leaking before the quiz
allows, the attempt flow, statistics, gradebook, and constant query counts."""

import json
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from assessments import services
from assessments.models import Attempt, Question, Quiz
from assessments.tests.conftest import enrol, pdf_file
from assessments.tests.factories import (
    AssignmentFactory,
    QuestionFactory,
    QuizFactory,
    SubmissionFactory,
    choice_question,
)
from courses.models import Lesson
from courses.tests.factories import LessonFactory

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "student", "other_student", "instructor", "other_instructor", "admin_user"]


def _expect(**statuses: int) -> list:
    """Parametrize over every role with the expected status for each."""
    return [pytest.param(role, statuses[role], id=f"_case {role}") for role in ROLES]


# Secrets of the mixed quiz: none may reach a learner before the quiz allows.
ACCEPTED = "Ada Lovelace"
EXPLANATION = "Explained in chapter seven."
NUMERIC = "271.828"  # no timestamp or id can contain it


@pytest.fixture
def questions(quiz):
    """One question of each kind (1 point each), every one with the same explanation."""
    return {
        "single": choice_question(quiz, correct=(1,), explanation=EXPLANATION),
        "multiple": choice_question(
            quiz, kind="multiple_choice", correct=(0, 2), explanation=EXPLANATION
        ),
        "boolean": QuestionFactory(quiz=quiz, correct_boolean=False, explanation=EXPLANATION),
        "text": QuestionFactory(
            quiz=quiz,
            kind="short_text",
            correct_boolean=None,
            accepted_answers=[ACCEPTED],
            explanation=EXPLANATION,
        ),
        "number": QuestionFactory(
            quiz=quiz,
            kind="numeric",
            correct_boolean=None,
            numeric_value=Decimal(NUMERIC),
            numeric_tolerance=Decimal("0.05"),
            explanation=EXPLANATION,
        ),
    }


@pytest.fixture
def attempt(quiz, questions, student, enrolled):
    """`student`'s open attempt at the mixed quiz."""
    return services.attempt_start(quiz=quiz, user=student)


def _all_right(questions):
    def picked(question, *indexes):
        ordered = list(question.choices.order_by("position"))
        return [str(ordered[index].pk) for index in indexes]

    return [
        {"question": str(questions["single"].pk), "choices": picked(questions["single"], 1)},
        {"question": str(questions["multiple"].pk), "choices": picked(questions["multiple"], 0, 2)},
        {"question": str(questions["boolean"].pk), "value": False},
        {"question": str(questions["text"].pk), "text": "ada  LOVELACE"},
        {"question": str(questions["number"].pk), "number": "271.8"},
    ]


def _inputs(items):
    """The JSON answers of `_all_right` as the service's AnswerInput."""
    return [
        services.AnswerInput(
            question=uuid.UUID(item["question"]),
            choices=[uuid.UUID(pk) for pk in item["choices"]] if "choices" in item else None,
            value=item.get("value"),
            text=item.get("text"),
            number=Decimal(item["number"]) if "number" in item else None,
            has_value="value" in item,
            has_number="number" in item,
        )
        for item in items
    ]


def _keys(data) -> set[str]:
    if isinstance(data, dict):
        return set(data) | {key for value in data.values() for key in _keys(value)}
    if isinstance(data, list):
        return {key for item in data for key in _keys(item)}
    return set()


def assert_no_answer_key(body) -> None:
    """Nothing in a learner's response reveals a correct answer."""
    text = json.dumps(body)
    assert not {
        "is_correct",
        "correct_boolean",
        "accepted_answers",
        "numeric_value",
        "numeric_tolerance",
        "explanation",
        "correct_choices",
        "points_awarded",
    } & _keys(body)
    assert ACCEPTED not in text
    assert EXPLANATION not in text
    assert NUMERIC not in text
    assert body.get("review") is None


# --- Quizzes: roles -----------------------------------------------------------------------


READERS = _expect(
    anonymous=401,
    student=200,
    other_student=403,
    instructor=200,
    other_instructor=403,
    admin_user=200,
)
MANAGERS_READ = _expect(
    anonymous=401,
    student=403,
    other_student=403,
    instructor=200,
    other_instructor=403,
    admin_user=200,
)


@pytest.mark.parametrize(("role_user", "expected"), READERS, indirect=["role_user"])
def test_lesson_quiz_read_permissions(auth_client, quiz, enrolled, role_user, expected):
    response = auth_client(role_user).get(f"/api/v1/lessons/{quiz.lesson_id}/quiz/")

    assert response.status_code == expected


@pytest.mark.parametrize(("role_user", "expected"), READERS, indirect=["role_user"])
def test_quiz_read_permissions(auth_client, quiz, enrolled, role_user, expected):
    response = auth_client(role_user).get(f"/api/v1/quizzes/{quiz.pk}/")

    assert response.status_code == expected


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=403,
        other_student=403,
        instructor=201,
        other_instructor=403,
        admin_user=201,
    ),
    indirect=["role_user"],
)
def test_lesson_quiz_create_permissions(auth_client, module, enrolled, role_user, expected):
    lesson = LessonFactory(module=module, kind=Lesson.Kind.QUIZ, position=7)

    response = auth_client(role_user).post(
        f"/api/v1/lessons/{lesson.pk}/quiz/", {"max_attempts": 2}, format="json"
    )

    assert response.status_code == expected
    assert Quiz.objects.filter(lesson=lesson).exists() is (expected == 201)


@pytest.mark.parametrize(("role_user", "expected"), MANAGERS_READ, indirect=["role_user"])
def test_quiz_update_permissions(auth_client, quiz, enrolled, role_user, expected):
    response = auth_client(role_user).patch(
        f"/api/v1/quizzes/{quiz.pk}/", {"passing_score_percent": 80}, format="json"
    )

    quiz.refresh_from_db()
    assert response.status_code == expected
    assert quiz.passing_score_percent == (80 if expected == 200 else 50)


@pytest.mark.parametrize(("role_user", "expected"), MANAGERS_READ, indirect=["role_user"])
def test_question_list_permissions(auth_client, quiz, questions, enrolled, role_user, expected):
    response = auth_client(role_user).get(f"/api/v1/quizzes/{quiz.pk}/questions/")

    assert response.status_code == expected


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=403,
        other_student=403,
        instructor=201,
        other_instructor=403,
        admin_user=201,
    ),
    indirect=["role_user"],
)
def test_question_create_permissions(auth_client, quiz, enrolled, role_user, expected):
    response = auth_client(role_user).post(
        f"/api/v1/quizzes/{quiz.pk}/questions/",
        {"kind": "true_false", "text": "Sky is blue.", "correct_boolean": True},
        format="json",
    )

    assert response.status_code == expected
    assert Question.objects.filter(quiz=quiz).count() == (1 if expected == 201 else 0)


@pytest.mark.parametrize(("role_user", "expected"), MANAGERS_READ, indirect=["role_user"])
def test_question_read_permissions(auth_client, questions, enrolled, role_user, expected):
    response = auth_client(role_user).get(f"/api/v1/questions/{questions['text'].pk}/")

    assert response.status_code == expected


@pytest.mark.parametrize(("role_user", "expected"), MANAGERS_READ, indirect=["role_user"])
def test_question_update_permissions(auth_client, questions, enrolled, role_user, expected):
    response = auth_client(role_user).patch(
        f"/api/v1/questions/{questions['boolean'].pk}/", {"points": 3}, format="json"
    )

    questions["boolean"].refresh_from_db()
    assert response.status_code == expected
    assert questions["boolean"].points == (3 if expected == 200 else 1)


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=403,
        other_student=403,
        instructor=204,
        other_instructor=403,
        admin_user=204,
    ),
    indirect=["role_user"],
)
def test_question_delete_permissions(auth_client, questions, enrolled, role_user, expected):
    response = auth_client(role_user).delete(f"/api/v1/questions/{questions['boolean'].pk}/")

    assert response.status_code == expected
    assert Question.objects.filter(pk=questions["boolean"].pk).exists() is (expected != 204)


def test_draft_course_quiz_is_not_found_for_learners(auth_client, student):
    quiz = QuizFactory()  # on a draft course

    response = auth_client(student).get(f"/api/v1/quizzes/{quiz.pk}/")

    assert response.status_code == 404


def test_quiz_create_on_a_text_lesson_is_refused(auth_client, instructor, module):
    lesson = LessonFactory(module=module, kind=Lesson.Kind.TEXT, position=8)

    response = auth_client(instructor).post(f"/api/v1/lessons/{lesson.pk}/quiz/", {})

    assert (response.status_code, response.json()["code"]) == (400, "wrong_lesson_kind")


def test_second_quiz_on_a_lesson_is_a_conflict(auth_client, instructor, quiz):
    response = auth_client(instructor).post(f"/api/v1/lessons/{quiz.lesson_id}/quiz/", {})

    assert (response.status_code, response.json()["code"]) == (409, "quiz_exists")


def test_question_create_returns_the_answer_key(auth_client, instructor, quiz):
    response = auth_client(instructor).post(
        f"/api/v1/quizzes/{quiz.pk}/questions/",
        {
            "kind": "multiple_choice",
            "text": "Primes?",
            "partial_credit": True,
            "choices": [
                {"text": "2", "is_correct": True},
                {"text": "4"},
                {"text": "5", "is_correct": True},
            ],
        },
        format="json",
    )

    body = response.json()
    assert response.status_code == 201
    assert [(c["text"], c["is_correct"]) for c in body["choices"]] == [
        ("2", True),
        ("4", False),
        ("5", True),
    ]
    assert body["partial_credit"] is True


def test_question_create_with_a_bad_answer_key_names_the_field(auth_client, instructor, quiz):
    response = auth_client(instructor).post(
        f"/api/v1/quizzes/{quiz.pk}/questions/",
        {"kind": "single_choice", "text": "?", "choices": [{"text": "a"}, {"text": "b"}]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "choices" in response.json()["fields"]


def test_quiz_detail_shows_the_callers_attempts(auth_client, student, quiz, attempt):
    response = auth_client(student).get(f"/api/v1/quizzes/{quiz.pk}/")

    assert response.json()["me"] == {
        "attempts_used": 1,
        "open_attempt": str(attempt.pk),
        "passed": False,
    }
    assert response.json()["question_count"] == 5
    assert_no_answer_key(response.json())


# --- Attempts: roles ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=201,
        other_student=403,
        instructor=403,
        other_instructor=403,
        admin_user=403,
    ),
    indirect=["role_user"],
)
def test_attempt_start_permissions(auth_client, quiz, questions, enrolled, role_user, expected):
    response = auth_client(role_user).post(f"/api/v1/quizzes/{quiz.pk}/attempts/")

    assert response.status_code == expected
    if expected == 403:
        assert response.json()["code"] in ("not_enrolled", "not_authenticated")


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=200,
        other_student=200,
        instructor=200,
        other_instructor=200,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_attempt_list_shows_own_attempts_or_all_to_managers(
    auth_client, quiz, attempt, role_user, expected
):
    response = auth_client(role_user).get(f"/api/v1/quizzes/{quiz.pk}/attempts/")

    assert response.status_code == expected
    if expected == 200:
        sees_it = role_user.pk in (attempt.user_id, quiz.lesson.module.course.owner_id) or (
            role_user.is_admin
        )
        assert response.json()["count"] == (1 if sees_it else 0)


ATTEMPT_READ = _expect(
    anonymous=401,
    student=200,
    other_student=404,
    instructor=200,
    other_instructor=404,
    admin_user=200,
)
ATTEMPT_WRITE = _expect(
    anonymous=401,
    student=200,
    other_student=404,
    instructor=403,
    other_instructor=404,
    admin_user=403,
)


@pytest.mark.parametrize(("role_user", "expected"), ATTEMPT_READ, indirect=["role_user"])
def test_attempt_read_permissions(auth_client, attempt, role_user, expected):
    response = auth_client(role_user).get(f"/api/v1/attempts/{attempt.pk}/")

    assert response.status_code == expected


@pytest.mark.parametrize(("role_user", "expected"), ATTEMPT_WRITE, indirect=["role_user"])
def test_attempt_answers_permissions(auth_client, attempt, questions, role_user, expected):
    response = auth_client(role_user).put(
        f"/api/v1/attempts/{attempt.pk}/answers/",
        {"answers": [{"question": str(questions["boolean"].pk), "value": True}]},
        format="json",
    )

    assert response.status_code == expected
    assert attempt.answers.count() == (1 if expected == 200 else 0)


@pytest.mark.parametrize(("role_user", "expected"), ATTEMPT_WRITE, indirect=["role_user"])
def test_attempt_submit_permissions(auth_client, attempt, role_user, expected):
    response = auth_client(role_user).post(f"/api/v1/attempts/{attempt.pk}/submit/")

    attempt.refresh_from_db()
    assert response.status_code == expected
    assert attempt.is_graded is (expected == 200)


@pytest.mark.parametrize(("role_user", "expected"), MANAGERS_READ, indirect=["role_user"])
def test_statistics_permissions(auth_client, quiz, enrolled, role_user, expected):
    response = auth_client(role_user).get(f"/api/v1/quizzes/{quiz.pk}/statistics/")

    assert response.status_code == expected


def test_guessing_an_attempt_id_finds_nothing(auth_client, other_student, attempt):
    response = auth_client(other_student).get(f"/api/v1/attempts/{attempt.pk}/")

    assert (response.status_code, response.json()["code"]) == (404, "not_found")


# --- No answer leakage --------------------------------------------------------------------


def test_started_attempt_reveals_no_answers(auth_client, student, quiz, questions, enrolled):
    response = auth_client(student).post(f"/api/v1/quizzes/{quiz.pk}/attempts/")

    body = response.json()
    assert response.status_code == 201
    assert [q["id"] for q in body["questions"]] == [str(q.pk) for q in questions.values()]
    assert [set(c) for c in body["questions"][0]["choices"]] == [{"id", "text"}] * 3
    assert body["score_percent"] is None
    assert_no_answer_key(body)


def test_reading_an_open_attempt_reveals_no_answers(auth_client, student, attempt):
    response = auth_client(student).get(f"/api/v1/attempts/{attempt.pk}/")

    assert_no_answer_key(response.json())


def test_saving_answers_reveals_no_answers(auth_client, student, attempt, questions):
    response = auth_client(student).put(
        f"/api/v1/attempts/{attempt.pk}/answers/",
        {"answers": _all_right(questions)},
        format="json",
    )

    body = response.json()
    assert response.status_code == 200
    assert len(body["answers"]) == 5
    assert_no_answer_key(body)


def test_attempt_list_reveals_no_answers(auth_client, student, quiz, attempt):
    response = auth_client(student).get(f"/api/v1/quizzes/{quiz.pk}/attempts/")

    assert_no_answer_key(response.json())


def test_submit_with_answers_never_shown_gives_only_the_score(
    auth_client, student, quiz, attempt, questions
):
    Quiz.objects.filter(pk=quiz.pk).update(show_correct_answers="never")
    client = auth_client(student)
    client.put(
        f"/api/v1/attempts/{attempt.pk}/answers/",
        {"answers": _all_right(questions)},
        format="json",
    )

    response = client.post(f"/api/v1/attempts/{attempt.pk}/submit/")

    body = response.json()
    assert (body["status"], body["score_percent"], body["passed"]) == ("submitted", "100.00", True)
    assert_no_answer_key(body)
    assert_no_answer_key(client.get(f"/api/v1/attempts/{attempt.pk}/").json())


def test_submit_with_answers_after_submit_reveals_the_review(
    auth_client, student, attempt, questions
):
    response = auth_client(student).post(f"/api/v1/attempts/{attempt.pk}/submit/")

    review = {item["question"]: item for item in response.json()["review"]}
    assert review[str(questions["text"].pk)]["accepted_answers"] == [ACCEPTED]
    assert review[str(questions["number"].pk)]["numeric_value"] == "271.828000"
    assert review[str(questions["boolean"].pk)]["correct_boolean"] is False
    assert review[str(questions["single"].pk)]["explanation"] == EXPLANATION
    assert review[str(questions["single"].pk)]["is_correct"] is False


def test_answers_after_passing_stay_hidden_after_a_fail(
    auth_client, student, quiz, attempt, questions
):
    Quiz.objects.filter(pk=quiz.pk).update(show_correct_answers="after_passing")

    response = auth_client(student).post(f"/api/v1/attempts/{attempt.pk}/submit/")

    assert response.json()["passed"] is False
    assert_no_answer_key(response.json())


def test_answers_after_passing_show_once_passed(auth_client, student, quiz, attempt, questions):
    Quiz.objects.filter(pk=quiz.pk).update(show_correct_answers="after_passing")
    client = auth_client(student)
    client.put(
        f"/api/v1/attempts/{attempt.pk}/answers/",
        {"answers": _all_right(questions)},
        format="json",
    )

    response = client.post(f"/api/v1/attempts/{attempt.pk}/submit/")

    assert response.json()["passed"] is True
    assert len(response.json()["review"]) == 5


def test_managers_see_the_review_of_an_open_attempt(auth_client, instructor, attempt):
    response = auth_client(instructor).get(f"/api/v1/attempts/{attempt.pk}/")

    assert len(response.json()["review"]) == 5


def test_learners_cannot_read_the_question_list(auth_client, student, quiz, questions, enrolled):
    response = auth_client(student).get(f"/api/v1/quizzes/{quiz.pk}/questions/")

    assert response.status_code == 403
    assert ACCEPTED not in response.content.decode()


# --- Attempt flow -------------------------------------------------------------------------


def test_full_attempt_flow_grades_on_the_server(auth_client, student, quiz, questions, enrolled):
    client = auth_client(student)
    started = client.post(f"/api/v1/quizzes/{quiz.pk}/attempts/").json()

    saved = client.put(
        f"/api/v1/attempts/{started['id']}/answers/",
        {"answers": _all_right(questions)[:3]},
        format="json",
    )
    submitted = client.post(f"/api/v1/attempts/{started['id']}/submit/")

    assert saved.status_code == 200
    assert (submitted.status_code, submitted.json()["score_points"]) == (200, "3.00")
    assert (submitted.json()["max_points"], submitted.json()["score_percent"]) == (5, "60.00")


def test_a_second_start_names_the_open_attempt(auth_client, student, attempt, quiz):
    response = auth_client(student).post(f"/api/v1/quizzes/{quiz.pk}/attempts/")

    assert (response.status_code, response.json()["code"]) == (409, "attempt_in_progress")
    assert response.json()["fields"] == {"attempt": [str(attempt.pk)]}


def test_max_attempts_is_a_conflict(auth_client, student, attempt, quiz):
    Quiz.objects.filter(pk=quiz.pk).update(max_attempts=1)
    client = auth_client(student)
    client.post(f"/api/v1/attempts/{attempt.pk}/submit/")

    response = client.post(f"/api/v1/quizzes/{quiz.pk}/attempts/")

    assert (response.status_code, response.json()["code"]) == (409, "max_attempts_reached")


def test_answers_after_the_deadline_are_a_conflict(auth_client, student, attempt, questions):
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now())

    response = auth_client(student).put(
        f"/api/v1/attempts/{attempt.pk}/answers/",
        {"answers": [{"question": str(questions["boolean"].pk), "value": False}]},
        format="json",
    )

    assert (response.status_code, response.json()["code"]) == (409, "attempt_expired")
    assert attempt.answers.count() == 0


def test_submitting_twice_is_a_conflict(auth_client, student, attempt):
    client = auth_client(student)
    client.post(f"/api/v1/attempts/{attempt.pk}/submit/")

    response = client.post(f"/api/v1/attempts/{attempt.pk}/submit/")

    assert (response.status_code, response.json()["code"]) == (409, "attempt_closed")


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        pytest.param({"value": True}, "answers[0].choices", id="_case wrong kind"),
        pytest.param({"choices": ["not-a-uuid"]}, "answers", id="_case malformed id"),
    ],
)
def test_bad_answers_are_400_with_the_field(
    auth_client, student, attempt, questions, answer, field
):
    response = auth_client(student).put(
        f"/api/v1/attempts/{attempt.pk}/answers/",
        {"answers": [{"question": str(questions["single"].pk), **answer}]},
        format="json",
    )

    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert field in response.json()["fields"]


def test_a_number_answer_must_be_a_number(auth_client, student, attempt, questions):
    response = auth_client(student).put(
        f"/api/v1/attempts/{attempt.pk}/answers/",
        {"answers": [{"question": str(questions["number"].pk), "number": "NaN"}]},
        format="json",
    )

    assert response.status_code == 400


# --- Statistics ---------------------------------------------------------------------------


def test_statistics_aggregate_graded_attempts(auth_client, instructor, quiz, questions, course):
    learners = [UserFactory() for _ in range(3)]
    scores = []
    for index, learner in enumerate(learners):
        enrol(learner, course)
        attempt = services.attempt_start(quiz=quiz, user=learner)
        right = _all_right(questions)[: index + 2]  # 2, 3 and 4 right answers
        services.attempt_save_answers(
            attempt=attempt,
            user=learner,
            answers=_inputs(right),
        )
        scores.append(services.attempt_submit(attempt=attempt, user=learner).score_percent)
    services.attempt_start(quiz=quiz, user=learners[0])  # open attempts are not counted

    body = auth_client(instructor).get(f"/api/v1/quizzes/{quiz.pk}/statistics/").json()

    assert scores == [Decimal("40.00"), Decimal("60.00"), Decimal("80.00")]
    assert (body["attempts"], body["learners"]) == (3, 3)
    assert (body["average_score"], body["median_score"], body["pass_rate"]) == (
        "60.00",
        "60.00",
        "66.67",
    )
    by_kind = {question["kind"]: question for question in body["questions"]}
    assert by_kind["single_choice"]["percent_correct"] == "100.00"
    assert by_kind["short_text"]["percent_correct"] == "33.33"
    assert by_kind["numeric"]["percent_correct"] == "0.00"
    assert [c["picks"] for c in by_kind["single_choice"]["choices"]] == [0, 3, 0]
    assert [c["picks"] for c in by_kind["true_false"]["choices"]] == [0, 2]


@pytest.mark.parametrize("attempts", [5, 50])
def test_statistics_query_count_is_flat(
    auth_client, instructor, quiz, questions, course, django_assert_num_queries, attempts
):
    for _ in range(attempts):
        learner = UserFactory()
        enrol(learner, course)
        services.attempt_submit(
            attempt=services.attempt_start(quiz=quiz, user=learner), user=learner
        )

    # quiz with course and question count, totals, median rows, questions, choices
    with django_assert_num_queries(5):
        response = auth_client(instructor).get(f"/api/v1/quizzes/{quiz.pk}/statistics/")

    assert response.json()["attempts"] == attempts


# --- Query counts of lists ----------------------------------------------------------------


@pytest.mark.parametrize("count", [5, 50])
def test_question_list_query_count_is_flat(
    auth_client, instructor, quiz, django_assert_num_queries, count
):
    for _ in range(count):
        choice_question(quiz)

    with django_assert_num_queries(3):  # quiz with course, questions, choices
        response = auth_client(instructor).get(f"/api/v1/quizzes/{quiz.pk}/questions/")

    assert len(response.json()) == count


@pytest.mark.parametrize("count", [5, 50])
def test_attempt_list_query_count_is_flat(
    auth_client, instructor, quiz, course, django_assert_num_queries, count
):
    QuestionFactory(quiz=quiz)
    for _ in range(count):
        learner = UserFactory()
        enrol(learner, course)
        services.attempt_start(quiz=quiz, user=learner)

    with django_assert_num_queries(3):  # quiz with course, count, page with users
        response = auth_client(instructor).get(
            f"/api/v1/quizzes/{quiz.pk}/attempts/", {"page_size": 100}
        )

    assert response.json()["count"] == count


@pytest.mark.parametrize("count", [5, 50])
def test_attempt_detail_query_count_is_flat(
    auth_client, student, quiz, enrolled, django_assert_num_queries, count
):
    for _ in range(count):
        choice_question(quiz)
    attempt = services.attempt_start(quiz=quiz, user=student)

    # attempt, co-instructors, questions, choices, answers (+ their choices), reveal check
    with django_assert_num_queries(6):
        response = auth_client(student).get(f"/api/v1/attempts/{attempt.pk}/")

    assert len(response.json()["questions"]) == count


@pytest.mark.parametrize("count", [5, 50])
def test_submission_list_query_count_is_flat(
    auth_client, instructor, assignment, course, django_assert_num_queries, count
):
    for _ in range(count):
        learner = UserFactory()
        enrol(learner, course)
        services.submission_submit(assignment=assignment, user=learner, files=[pdf_file()])

    with django_assert_num_queries(4):  # assignment with course, count, page, files
        response = auth_client(instructor).get(
            f"/api/v1/assignments/{assignment.pk}/submissions/", {"page_size": 100}
        )

    assert response.json()["count"] == count
    assert all(len(row["files"]) == 1 for row in response.json()["results"])


# --- Assignments and submissions: roles ---------------------------------------------------


@pytest.mark.parametrize(("role_user", "expected"), READERS, indirect=["role_user"])
def test_lesson_assignment_read_permissions(auth_client, assignment, enrolled, role_user, expected):
    response = auth_client(role_user).get(f"/api/v1/lessons/{assignment.lesson_id}/assignment/")

    assert response.status_code == expected


@pytest.mark.parametrize(("role_user", "expected"), READERS, indirect=["role_user"])
def test_assignment_read_permissions(auth_client, assignment, enrolled, role_user, expected):
    response = auth_client(role_user).get(f"/api/v1/assignments/{assignment.pk}/")

    assert response.status_code == expected


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=403,
        other_student=403,
        instructor=201,
        other_instructor=403,
        admin_user=201,
    ),
    indirect=["role_user"],
)
def test_lesson_assignment_create_permissions(auth_client, module, enrolled, role_user, expected):
    lesson = LessonFactory(module=module, kind=Lesson.Kind.ASSIGNMENT, position=9)

    response = auth_client(role_user).post(
        f"/api/v1/lessons/{lesson.pk}/assignment/",
        {"instructions": "Write.", "max_points": 20, "passing_points": 10},
        format="json",
    )

    assert response.status_code == expected


@pytest.mark.parametrize(("role_user", "expected"), MANAGERS_READ, indirect=["role_user"])
def test_assignment_update_permissions(auth_client, assignment, enrolled, role_user, expected):
    response = auth_client(role_user).patch(
        f"/api/v1/assignments/{assignment.pk}/", {"max_files": 2}, format="json"
    )

    assignment.refresh_from_db()
    assert response.status_code == expected
    assert (assignment.max_files == 2) is (expected == 200)


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=201,
        other_student=403,
        instructor=403,
        other_instructor=403,
        admin_user=403,
    ),
    indirect=["role_user"],
)
def test_submission_create_permissions(auth_client, assignment, enrolled, role_user, expected):
    response = auth_client(role_user).post(
        f"/api/v1/assignments/{assignment.pk}/submissions/",
        {"text": "My work", "files": [pdf_file()]},
        format="multipart",
    )

    assert response.status_code == expected


@pytest.fixture
def submission(assignment, student, enrolled):
    return services.submission_submit(
        assignment=assignment, user=student, text="Mine", files=[pdf_file("mine.pdf")]
    )


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=200,
        other_student=200,
        instructor=200,
        other_instructor=200,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_submission_list_shows_own_or_all_to_managers(
    auth_client, assignment, submission, role_user, expected
):
    response = auth_client(role_user).get(f"/api/v1/assignments/{assignment.pk}/submissions/")

    assert response.status_code == expected
    if expected == 200:
        sees_it = (
            role_user.pk == submission.user_id
            or role_user.pk == assignment.lesson.module.course.owner_id
            or role_user.is_admin
        )
        assert response.json()["count"] == (1 if sees_it else 0)


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=200,
        other_student=404,
        instructor=200,
        other_instructor=404,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_submission_read_permissions(auth_client, submission, role_user, expected):
    response = auth_client(role_user).get(f"/api/v1/submissions/{submission.pk}/")

    assert response.status_code == expected


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=403,
        other_student=404,
        instructor=200,
        other_instructor=404,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_submission_grade_permissions(auth_client, submission, role_user, expected):
    response = auth_client(role_user).post(
        f"/api/v1/submissions/{submission.pk}/grade/",
        {"points": "7.5", "feedback": "Good", "status": "graded"},
        format="json",
    )

    submission.refresh_from_db()
    assert response.status_code == expected
    assert submission.status == ("graded" if expected == 200 else "submitted")


def test_grading_answers_the_graded_submission(auth_client, instructor, submission):
    response = auth_client(instructor).post(
        f"/api/v1/submissions/{submission.pk}/grade/",
        {"points": "5.5", "feedback": "Almost."},
        format="json",
    )

    body = response.json()
    assert (body["status"], body["points"], body["passed"]) == ("graded", "5.50", False)
    assert (body["feedback"], body["graded_by"]) == ("Almost.", str(instructor.pk))


def test_grading_above_the_maximum_is_refused(auth_client, instructor, submission):
    response = auth_client(instructor).post(
        f"/api/v1/submissions/{submission.pk}/grade/", {"points": "10.5"}, format="json"
    )

    assert (response.status_code, response.json()["code"]) == (400, "points_out_of_range")


def test_resubmitting_a_graded_submission_is_a_conflict(
    auth_client, student, instructor, submission
):
    services.submission_grade(
        submission=submission, grader=instructor, points=Decimal(8), status="graded"
    )

    response = auth_client(student).post(
        f"/api/v1/assignments/{submission.assignment_id}/submissions/", {"text": "v2"}
    )

    assert (response.status_code, response.json()["code"]) == (409, "submission_graded")


def test_submission_shows_files_with_signed_links(auth_client, student, submission):
    body = auth_client(student).get(f"/api/v1/submissions/{submission.pk}/").json()

    (file,) = body["files"]
    assert (file["name"], file["content_type"]) == ("mine.pdf", "application/pdf")
    assert file["download_url"].startswith("http://testserver/api/v1/files/")


def test_empty_submission_is_400(auth_client, student, assignment, enrolled):
    response = auth_client(student).post(
        f"/api/v1/assignments/{assignment.pk}/submissions/", {"text": ""}, format="multipart"
    )

    assert (response.status_code, response.json()["code"]) == (400, "submission_empty")


# --- Gradebook ----------------------------------------------------------------------------


@pytest.mark.parametrize(("role_user", "expected"), MANAGERS_READ, indirect=["role_user"])
def test_gradebook_permissions(auth_client, course, enrolled, role_user, expected):
    response = auth_client(role_user).get(f"/api/v1/courses/{course.pk}/gradebook/")

    assert response.status_code == expected


@pytest.fixture
def graded_course(course, quiz, questions, assignment, student, enrolled, instructor):
    """`student` scored 60 then 100 % on the quiz and 8/10 on the assignment."""
    for right in (3, 5):
        attempt = services.attempt_start(quiz=quiz, user=student)
        services.attempt_save_answers(
            attempt=attempt,
            user=student,
            answers=_inputs(_all_right(questions)[:right]),
        )
        services.attempt_submit(attempt=attempt, user=student)
    submission = services.submission_submit(assignment=assignment, user=student, text="x")
    services.submission_grade(
        submission=submission, grader=instructor, points=Decimal(8), status="graded"
    )
    return course


def test_gradebook_rows_hold_scores_grades_and_progress(
    auth_client, instructor, graded_course, quiz, assignment, student
):
    body = auth_client(instructor).get(f"/api/v1/courses/{graded_course.pk}/gradebook/").json()

    assert [column["id"] for column in body["quizzes"]] == [str(quiz.pk)]
    assert [column["id"] for column in body["assignments"]] == [str(assignment.pk)]
    (row,) = body["results"]
    assert row["user"]["email"] == student.email
    assert row["quizzes"] == [
        {"quiz": str(quiz.pk), "score": "100.00", "passed": True, "attempts": 2}
    ]
    assert row["assignments"] == [
        {
            "assignment": str(assignment.pk),
            "status": "graded",
            "points": "8.00",
            "is_late": False,
            "passed": True,
        }
    ]
    assert (row["progress_percent"], row["status"]) == (100, "completed")


def test_gradebook_last_policy_keeps_the_last_score(auth_client, instructor, graded_course, quiz):
    Quiz.objects.filter(pk=quiz.pk).update(score_policy="last")
    services.attempt_submit(
        attempt=services.attempt_start(quiz=quiz, user=Attempt.objects.first().user),
        user=Attempt.objects.first().user,
    )

    body = auth_client(instructor).get(f"/api/v1/courses/{graded_course.pk}/gradebook/").json()

    assert body["results"][0]["quizzes"][0]["score"] == "0.00"
    assert body["results"][0]["quizzes"][0]["passed"] is True


def test_gradebook_csv(auth_client, instructor, graded_course, student):
    response = auth_client(instructor).get(
        f"/api/v1/courses/{graded_course.pk}/gradebook/", {"format": "csv"}
    )

    lines = response.content.decode().splitlines()
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="gradebook.csv"'
    assert (
        lines[0]
        == "email,full_name,status,progress_percent,quiz 1: Quiz one,assignment 1: Essay one"
    )
    assert lines[1].startswith(f"{student.email},")
    assert lines[1].endswith(",completed,100,100.00,8.00")


@pytest.mark.parametrize("learners", [5, 50])
def test_gradebook_query_count_is_flat(
    auth_client,
    instructor,
    course,
    quiz,
    questions,
    assignment,
    django_assert_num_queries,
    learners,
):
    for _ in range(learners):
        learner = UserFactory()
        enrol(learner, course)
        services.attempt_submit(
            attempt=services.attempt_start(quiz=quiz, user=learner), user=learner
        )
        SubmissionFactory(assignment=assignment, user=learner)

    # course, co-instructors, quizzes, assignments, count, page, attempts, submissions
    with django_assert_num_queries(8):
        response = auth_client(instructor).get(
            f"/api/v1/courses/{course.pk}/gradebook/", {"page_size": 100}
        )

    assert response.json()["count"] == learners


@pytest.mark.parametrize("learners", [5, 50])
def test_gradebook_csv_query_count_is_flat(
    auth_client, instructor, course, quiz, assignment, django_assert_num_queries, learners
):
    QuestionFactory(quiz=quiz)
    for _ in range(learners):
        learner = UserFactory()
        enrol(learner, course)
        SubmissionFactory(assignment=assignment, user=learner)

    with django_assert_num_queries(7):  # as JSON, without the page count
        response = auth_client(instructor).get(
            f"/api/v1/courses/{course.pk}/gradebook/", {"format": "csv"}
        )

    assert len(response.content.decode().splitlines()) == learners + 1


# --- Analytics section --------------------------------------------------------------------


def test_course_analytics_include_quiz_averages(auth_client, instructor, graded_course, quiz):
    body = auth_client(instructor).get(f"/api/v1/courses/{graded_course.pk}/analytics/").json()

    assert body["sections"]["quizzes"] == {
        "quizzes": [
            {
                "id": str(quiz.pk),
                "lesson": str(quiz.lesson_id),
                "title": "Quiz one",
                "attempts": 2,
                "average_score": 80.0,
                "pass_rate": 1.0,
            }
        ]
    }


def test_other_learners_quizzes_do_not_mix_in(auth_client, instructor, course):
    other_course_quiz = QuizFactory()
    AssignmentFactory()

    body = auth_client(instructor).get(f"/api/v1/courses/{course.pk}/analytics/").json()

    assert body["sections"]["quizzes"] == {"quizzes": []}
    assert str(other_course_quiz.pk) not in json.dumps(body)


def test_a_co_instructor_grades_and_reads_statistics(auth_client, course, quiz, submission):
    co_instructor = UserFactory(instructor=True)
    course.co_instructors.add(co_instructor)
    client = auth_client(co_instructor)

    graded = client.post(
        f"/api/v1/submissions/{submission.pk}/grade/", {"points": "9"}, format="json"
    )
    statistics = client.get(f"/api/v1/quizzes/{quiz.pk}/statistics/")

    assert (graded.status_code, statistics.status_code) == (200, 200)
