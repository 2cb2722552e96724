"""Quiz and assignment pages: the lesson player's quiz and assignment parts, attempts (form,
saving, submitting, results, the deadline), handing in work with refused files, submitted
files; each role, bad input, answers never in a page before the quiz allows, query counts."""

import random
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.shortcuts import resolve_url
from django.utils import timezone

from assessments import services
from assessments.models import Answer, Attempt, Question, Quiz, Submission, SubmissionFile
from assessments.tests.conftest import PDF, PNG, pdf_file
from assessments.tests.factories import (
    QuestionFactory,
    SubmissionFactory,
    choice_question,
)
from courses.models import Lesson
from enrollments.models import LessonProgress
from lms.uploads import UploadRateThrottle

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "student", "other_student", "instructor", "other_instructor", "admin_user"]

# Secrets of the mixed quiz: none may reach a learner's page before the quiz allows.
ACCEPTED = "Ada Lovelace"
EXPLANATION = "Explained in chapter seven."
NUMERIC = "271.828"  # no timestamp or id can contain it


def _expect(**statuses: int) -> list:
    """Parametrize over every role with the expected status for each."""
    return [pytest.param(role, statuses[role], id=f"_case {role}") for role in ROLES]


def _text(response) -> str:
    return response.content.decode()


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _login_url(next_url: str) -> str:
    return f"{resolve_url(settings.LOGIN_URL)}?next={next_url}"


def _lesson_url(lesson: Lesson) -> str:
    return f"/courses/{lesson.module.course.slug}/lessons/{lesson.pk}/"


def _attempt_url(attempt: Attempt) -> str:
    return f"/attempts/{attempt.pk}/"


def _name(question: Question) -> str:
    return f"q-{question.pk}"


def _choice_ids(question: Question, *indexes: int) -> list[str]:
    ordered = list(question.choices.order_by("position"))
    return [str(ordered[index].pk) for index in indexes]


def _assert_no_answer_key(body: str) -> None:
    assert EXPLANATION not in body
    assert ACCEPTED not in body
    assert NUMERIC not in body
    assert 'data-testid="correct-answer"' not in body
    assert 'data-testid="explanation"' not in body
    assert 'data-testid="review-mark"' not in body


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


def _all_right(questions) -> dict:
    return {
        _name(questions["single"]): _choice_ids(questions["single"], 1),
        _name(questions["multiple"]): _choice_ids(questions["multiple"], 0, 2),
        _name(questions["boolean"]): "false",
        _name(questions["text"]): "ada  LOVELACE",
        _name(questions["number"]): "271.8",
    }


def _all_wrong(questions) -> dict:
    return {
        _name(questions["single"]): _choice_ids(questions["single"], 0),
        _name(questions["boolean"]): "true",
        _name(questions["text"]): "Charles Babbage",
        _name(questions["number"]): "1",
    }


# --- The quiz part of the lesson player ---------------------------------------------------


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=302,
        student=200,
        other_student=403,
        instructor=200,
        other_instructor=403,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_quiz_lesson_is_open_to_its_learners_and_teachers(
    page_client, quiz, questions, enrolled, role_user, expected
):
    response = page_client(role_user).get(_lesson_url(quiz.lesson))

    assert response.status_code == expected
    if expected == 200:
        assert 'id="quiz-heading"' in _text(response)


def test_quiz_panel_shows_the_quiz_facts_and_the_start_button(
    page_client, student, quiz, questions, enrolled
):
    Quiz.objects.filter(pk=quiz.pk).update(
        time_limit_seconds=600, max_attempts=3, passing_score_percent=80
    )

    body = _text(page_client(student).get(_lesson_url(quiz.lesson)))

    assert re.search(r'data-testid="quiz-time-limit">\s*10 minutes', body)
    assert 'data-testid="quiz-passing-score">80%' in body
    assert 'data-testid="quiz-attempts-left">3 of 3 left' in body
    assert f'action="/quizzes/{quiz.pk}/start/"' in body
    assert "Start the quiz" in body
    assert 'name="csrfmiddlewaretoken"' in body


def test_quiz_panel_never_shows_the_questions_or_their_answers(
    page_client, student, quiz, questions, enrolled
):
    body = _text(page_client(student).get(_lesson_url(quiz.lesson)))

    _assert_no_answer_key(body)
    assert questions["single"].text not in body
    assert "Option 1" not in body


def test_quiz_panel_lists_the_learners_graded_attempts(
    page_client, student, quiz, questions, enrolled
):
    first = services.attempt_start(quiz=quiz, user=student)
    services.attempt_submit(attempt=first, user=student)

    body = _text(page_client(student).get(_lesson_url(quiz.lesson)))

    assert f'href="/attempts/{first.pk}/">Attempt 1</a>' in body
    assert "Not passed" in body
    assert "0%" in body
    assert "Start a new attempt" in body


def test_quiz_panel_offers_to_continue_an_open_attempt(page_client, student, attempt):
    body = _text(page_client(student).get(_lesson_url(attempt.quiz.lesson)))

    assert f'href="/attempts/{attempt.pk}/">Continue your attempt</a>' in body
    assert "/start/" not in body


def test_quiz_panel_says_when_every_attempt_is_used(
    page_client, student, quiz, questions, enrolled
):
    Quiz.objects.filter(pk=quiz.pk).update(max_attempts=1)
    services.attempt_submit(attempt=services.attempt_start(quiz=quiz, user=student), user=student)

    body = _text(page_client(student).get(_lesson_url(quiz.lesson)))

    assert 'data-testid="quiz-attempts-left">0 of 1 left' in body
    assert "You have used every attempt of this quiz." in body
    assert "/start/" not in body


def test_quiz_panel_says_when_the_quiz_opens(page_client, student, quiz, questions, enrolled):
    Quiz.objects.filter(pk=quiz.pk).update(available_from=timezone.now() + timedelta(days=2))

    body = _text(page_client(student).get(_lesson_url(quiz.lesson)))

    assert "This quiz opens on" in body
    assert "/start/" not in body


def test_quiz_panel_of_a_lesson_without_a_quiz_says_it_is_not_ready(
    page_client, student, quiz_lesson, enrolled
):
    body = _text(page_client(student).get(_lesson_url(quiz_lesson)))

    assert "This quiz is not ready yet" in body


def test_quiz_panel_for_instructors_links_to_the_admin_instead_of_starting(
    page_client, instructor, quiz, questions
):
    body = _text(page_client(instructor).get(_lesson_url(quiz.lesson)))

    assert f'href="/admin/assessments/quiz/{quiz.pk}/change/"' in body
    assert "/start/" not in body


def test_preview_quiz_asks_visitors_to_enrol(page_client, other_student, quiz, questions):
    Lesson.objects.filter(pk=quiz.lesson_id).update(is_preview=True)

    body = _text(page_client(other_student).get(_lesson_url(quiz.lesson)))

    assert "Enrol in the course to take this quiz." in body
    assert "/start/" not in body


@pytest.mark.parametrize("attempts", [5, 50])
def test_quiz_lesson_query_count_is_flat(
    page_client, student, quiz, questions, enrolled, django_assert_num_queries, attempts
):
    for number in range(1, attempts + 1):
        Attempt.objects.create(
            quiz=quiz,
            user=student,
            number=number,
            status=Attempt.Status.SUBMITTED,
            started_at=timezone.now(),
            submitted_at=timezone.now(),
            score_percent=Decimal(50),
            passed=False,
        )
    client = page_client(student)
    client.get(_lesson_url(quiz.lesson))  # the outline is cached from here on

    with django_assert_num_queries(12):
        response = client.get(_lesson_url(quiz.lesson))

    assert response.content.decode().count('data-testid="attempt-row"') == attempts


# --- Starting an attempt ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=302,
        student=302,
        other_student=403,
        instructor=403,
        other_instructor=403,
        admin_user=403,
    ),
    indirect=["role_user"],
)
def test_only_enrolled_learners_start_an_attempt(
    page_client, quiz, questions, enrolled, role_user, expected
):
    response = page_client(role_user).post(f"/quizzes/{quiz.pk}/start/")

    assert response.status_code == expected
    started = Attempt.objects.filter(quiz=quiz).first()
    if role_user is None:
        assert response["Location"] == _login_url(f"/quizzes/{quiz.pk}/start/")
        assert started is None
    elif expected == 302:
        assert response["Location"] == _attempt_url(started)
    else:
        assert started is None
        assert "Enrol in the course to open this lesson." in _text(response)


def test_start_link_followed_with_get_shows_the_quiz(page_client, student, quiz, questions):
    response = page_client(student).get(f"/quizzes/{quiz.pk}/start/")

    assert response.status_code == 302
    assert response["Location"] == f"{_lesson_url(quiz.lesson)}#quiz"
    assert not Attempt.objects.exists()


def test_start_with_an_open_attempt_goes_back_to_it(page_client, student, attempt):
    response = page_client(student).post(f"/quizzes/{attempt.quiz_id}/start/", follow=True)

    assert response.redirect_chain[-1][0] == _attempt_url(attempt)
    assert "You already have an attempt in progress: here it is." in _messages(response)
    assert Attempt.objects.count() == 1


def test_start_after_the_last_attempt_is_refused_with_a_message(
    page_client, student, quiz, questions, enrolled
):
    Quiz.objects.filter(pk=quiz.pk).update(max_attempts=1)
    services.attempt_submit(attempt=services.attempt_start(quiz=quiz, user=student), user=student)

    response = page_client(student).post(f"/quizzes/{quiz.pk}/start/", follow=True)

    assert response.redirect_chain[-1][0] == f"{_lesson_url(quiz.lesson)}#quiz"
    assert "You have used every attempt of this quiz." in _messages(response)
    assert Attempt.objects.count() == 1


def test_start_of_a_quiz_without_questions_is_refused(page_client, student, quiz, enrolled):
    response = page_client(student).post(f"/quizzes/{quiz.pk}/start/", follow=True)

    assert "This quiz has no questions yet." in _messages(response)
    assert not Attempt.objects.exists()


def test_start_of_a_locked_quiz_lesson_is_the_403_page_with_its_opening_time(
    page_client, student, quiz, questions, enrolled
):
    Lesson.objects.filter(pk=quiz.lesson_id).update(
        available_from=timezone.now() + timedelta(days=3)
    )

    response = page_client(student).post(f"/quizzes/{quiz.pk}/start/")

    assert response.status_code == 403
    assert "This lesson opens on" in _text(response)
    assert not Attempt.objects.exists()


def test_start_of_an_unknown_quiz_is_not_found(page_client, student):
    response = page_client(student).post("/quizzes/00000000-0000-0000-0000-000000000000/start/")

    assert response.status_code == 404


# --- The attempt form ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=302,
        student=200,
        other_student=404,
        instructor=200,
        other_instructor=404,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_attempt_page_is_for_its_learner_and_the_course_teachers(
    page_client, attempt, role_user, expected
):
    response = page_client(role_user).get(_attempt_url(attempt))

    assert response.status_code == expected
    if role_user is None:
        assert response["Location"] == _login_url(_attempt_url(attempt))


def test_open_attempt_shows_no_part_of_the_answer_key(page_client, student, attempt):
    body = _text(page_client(student).get(_attempt_url(attempt)))

    _assert_no_answer_key(body)
    assert 'id="attempt-form"' in body


def test_open_attempt_shows_the_questions_and_choices_in_the_attempts_order(
    page_client, student, quiz, enrolled
):
    Quiz.objects.filter(pk=quiz.pk).update(shuffle_questions=True, shuffle_choices=True)
    quiz.refresh_from_db()
    for number in range(6):
        choice_question(quiz, text=f"Question text {number}", count=4)
    attempt = services.attempt_start(quiz=quiz, user=student, rng=random.Random(7))

    body = _text(page_client(student).get(_attempt_url(attempt)))

    shown_questions = re.findall(
        r'<fieldset class="question card" id="question-([0-9a-f-]+)"', body
    )
    assert shown_questions == attempt.question_order
    first = attempt.question_order[0]
    shown_choices = re.findall(rf'name="q-{first}" value="([0-9a-f-]+)"', body)
    assert shown_choices == attempt.choice_order[first]


def test_open_attempt_has_an_accessible_input_for_each_kind(
    page_client, student, attempt, questions
):
    body = _text(page_client(student).get(_attempt_url(attempt)))

    single, multiple = questions["single"], questions["multiple"]
    boolean, text, number = questions["boolean"], questions["text"], questions["number"]
    assert body.count(f'type="radio" id="question-{single.pk}-') == 3
    assert body.count(f'type="checkbox" id="question-{multiple.pk}-') == 3
    assert f'<label for="question-{single.pk}-1">Option 0</label>' in body
    assert f'id="question-{boolean.pk}-1" name="q-{boolean.pk}" value="true"' in body
    assert f'<label for="question-{boolean.pk}-2">False</label>' in body
    assert f'<label for="question-{text.pk}-input">Your answer</label>' in body
    assert f'type="text" id="question-{text.pk}-input" name="q-{text.pk}"' in body
    assert f'inputmode="decimal" id="question-{number.pk}-input"' in body
    assert body.count('<fieldset class="question card"') == 5
    assert body.count("<legend>Question ") == 5
    assert f'aria-describedby="question-{single.pk}-text"' in body


def test_saving_stores_every_answer_and_shows_them_again(page_client, student, attempt, questions):
    client = page_client(student)

    response = client.post(_attempt_url(attempt), {**_all_right(questions), "action": "save"})

    assert response.status_code == 302
    assert response["Location"] == _attempt_url(attempt)
    assert Answer.objects.filter(attempt=attempt).count() == 5
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.IN_PROGRESS
    body = _text(client.get(_attempt_url(attempt)))
    right_single = _choice_ids(questions["single"], 1)[0]
    assert f'value="{right_single}" checked' in body
    assert f'name="q-{questions["boolean"].pk}" value="false" checked' in body
    assert 'value="ada  LOVELACE"' in body
    assert 'value="271.8"' in body
    _assert_no_answer_key(body)


def test_saving_says_so(page_client, student, attempt, questions):
    response = page_client(student).post(
        _attempt_url(attempt), {**_all_right(questions), "action": "save"}, follow=True
    )

    assert "Your answers are saved." in _messages(response)


def test_a_question_left_blank_clears_its_saved_answer(page_client, student, attempt, questions):
    client = page_client(student)
    client.post(_attempt_url(attempt), {**_all_right(questions), "action": "save"})

    client.post(_attempt_url(attempt), {"action": "save"})

    answer = Answer.objects.get(attempt=attempt, question=questions["text"])
    assert answer.text_response == ""
    assert not Answer.objects.get(
        attempt=attempt, question=questions["single"]
    ).selected_choices.exists()


def test_a_number_that_is_not_one_is_refused_next_to_its_question(
    page_client, student, attempt, questions
):
    number = questions["number"]

    response = page_client(student).post(
        _attempt_url(attempt), {_name(number): "twelve", "action": "submit"}
    )

    assert response.status_code == 400
    body = _text(response)
    assert f'aria-invalid="true" aria-describedby="question-{number.pk}-error"' in body
    assert f'<p class="field-error" id="question-{number.pk}-error">Enter a number.</p>' in body
    assert 'value="twelve"' in body
    assert not Answer.objects.exists()
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.IN_PROGRESS


def test_a_choice_not_offered_is_refused(page_client, student, attempt, questions):
    other_question = questions["multiple"]

    response = page_client(student).post(
        _attempt_url(attempt),
        {_name(questions["single"]): _choice_ids(other_question, 0), "action": "save"},
    )

    assert response.status_code == 400
    assert "Select a valid choice." in _text(response)
    assert not Answer.objects.exists()


def test_a_text_answer_longer_than_1000_characters_is_refused(
    page_client, student, attempt, questions
):
    response = page_client(student).post(
        _attempt_url(attempt), {_name(questions["text"]): "x" * 1001, "action": "save"}
    )

    assert response.status_code == 400
    assert not Answer.objects.exists()


def test_another_learner_cannot_post_answers_to_an_attempt(
    page_client, other_student, attempt, questions
):
    response = page_client(other_student).post(
        _attempt_url(attempt), {**_all_right(questions), "action": "submit"}
    )

    assert response.status_code == 404
    assert not Answer.objects.exists()


def test_an_instructor_cannot_answer_for_a_learner(page_client, instructor, attempt, questions):
    response = page_client(instructor).post(
        _attempt_url(attempt), {**_all_right(questions), "action": "submit"}
    )

    assert response.status_code == 403
    assert "Only the learner who started this attempt can answer it." in _text(response)
    assert not Answer.objects.exists()


def test_timed_attempt_shows_the_countdown_from_a_static_script(
    page_client, student, quiz, questions, enrolled
):
    Quiz.objects.filter(pk=quiz.pk).update(time_limit_seconds=600)
    quiz.refresh_from_db()
    attempt = services.attempt_start(quiz=quiz, user=student)

    response = page_client(student).get(_attempt_url(attempt))

    body = _text(response)
    seconds = int(re.search(r'data-seconds-left="(\d+)"', body).group(1))
    assert 595 <= seconds <= 600
    assert re.search(r"data-timer-value>(10:00|9:5\d)<", body)
    assert '<script src="/static/js/quiz-timer.js" defer></script>' in body
    assert "<script>" not in body  # no inline script: the CSP allows this site's files only
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_untimed_attempt_has_no_countdown(page_client, student, attempt):
    body = _text(page_client(student).get(_attempt_url(attempt)))

    assert "data-seconds-left" not in body


# --- Submitting and the results -----------------------------------------------------------


def test_submitting_grades_the_attempt_and_shows_the_score(
    page_client, student, attempt, questions
):
    client = page_client(student)

    response = client.post(
        _attempt_url(attempt), {**_all_right(questions), "action": "submit"}, follow=True
    )

    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.SUBMITTED
    assert attempt.score_percent == Decimal("100.00")
    assert "Your attempt is submitted and graded." in _messages(response)
    body = _text(response)
    assert 'data-testid="attempt-score">100%' in body
    assert 'data-testid="attempt-verdict">Passed' in body


def test_a_pass_completes_the_quiz_lesson(page_client, student, attempt, questions, enrolled):
    page_client(student).post(_attempt_url(attempt), {**_all_right(questions), "action": "submit"})

    assert LessonProgress.objects.filter(
        enrollment=enrolled, lesson=attempt.quiz.lesson, completed_at__isnull=False
    ).exists()


def test_a_fail_leaves_the_quiz_lesson_open(page_client, student, attempt, questions, enrolled):
    response = page_client(student).post(
        _attempt_url(attempt), {**_all_wrong(questions), "action": "submit"}, follow=True
    )

    assert 'data-testid="attempt-verdict">Not passed' in _text(response)
    assert not LessonProgress.objects.filter(lesson=attempt.quiz.lesson).exists()


def test_results_after_submit_show_answers_and_explanations_when_the_quiz_allows(
    page_client, student, attempt, questions
):
    response = page_client(student).post(
        _attempt_url(attempt), {**_all_wrong(questions), "action": "submit"}, follow=True
    )

    body = _text(response)
    assert body.count(EXPLANATION) == 5
    assert f'data-testid="correct-answer"><strong>Correct answer:</strong> {ACCEPTED}' in body
    assert "271.828 ± 0.05" in body
    assert "Option 0, Option 2" in body  # every correct choice of the multiple choice
    assert body.count("Incorrect") == 5
    assert "Your answer:</strong> Charles Babbage" in body


@pytest.mark.parametrize(
    ("policy", "answers"),
    [
        pytest.param(Quiz.ShowAnswers.NEVER, _all_right, id="_case never, even when passed"),
        pytest.param(Quiz.ShowAnswers.AFTER_PASSING, _all_wrong, id="_case after passing, failed"),
    ],
)
def test_results_keep_the_answer_key_when_the_quiz_does_not_allow_it(
    page_client, student, quiz, attempt, questions, policy, answers
):
    Quiz.objects.filter(pk=quiz.pk).update(show_correct_answers=policy)

    response = page_client(student).post(
        _attempt_url(attempt), {**answers(questions), "action": "submit"}, follow=True
    )

    body = _text(response)
    _assert_no_answer_key(body)
    assert 'data-testid="answers-hidden"' in body
    assert 'data-testid="attempt-score">' in body


def test_results_after_passing_show_the_answer_key(page_client, student, quiz, attempt, questions):
    Quiz.objects.filter(pk=quiz.pk).update(show_correct_answers=Quiz.ShowAnswers.AFTER_PASSING)

    response = page_client(student).post(
        _attempt_url(attempt), {**_all_right(questions), "action": "submit"}, follow=True
    )

    assert EXPLANATION in _text(response)


def test_instructor_sees_a_learners_attempt_with_the_answer_key(
    page_client, instructor, student, attempt, questions
):
    page_client(student).post(_attempt_url(attempt), {**_all_wrong(questions), "action": "submit"})

    body = _text(page_client(instructor).get(_attempt_url(attempt)))

    assert EXPLANATION in body
    assert "Attempt by" in body
    assert 'id="attempt-form"' not in body


def test_posting_to_a_submitted_attempt_changes_nothing(page_client, student, attempt, questions):
    client = page_client(student)
    client.post(_attempt_url(attempt), {**_all_wrong(questions), "action": "submit"})

    response = client.post(
        _attempt_url(attempt), {**_all_right(questions), "action": "submit"}, follow=True
    )

    assert "This attempt is already submitted." in _messages(response)
    attempt.refresh_from_db()
    assert attempt.score_percent == Decimal("0.00")


def test_after_the_deadline_saving_grades_what_was_saved_in_time(
    page_client, student, quiz, questions, enrolled
):
    Quiz.objects.filter(pk=quiz.pk).update(time_limit_seconds=60)
    quiz.refresh_from_db()
    attempt = services.attempt_start(
        quiz=quiz, user=student, now=timezone.now() - timedelta(minutes=5)
    )
    client = page_client(student)
    saved_in_time = services.AnswerInput(
        question=questions["boolean"].pk, value=False, has_value=True
    )
    services.attempt_save_answers(
        attempt=attempt, user=student, answers=[saved_in_time], now=attempt.started_at
    )

    response = client.post(
        _attempt_url(attempt), {**_all_right(questions), "action": "save"}, follow=True
    )

    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.EXPIRED
    assert attempt.score_points == Decimal("1.00")  # only the answer saved before the deadline
    (message,) = _messages(response)
    assert message.startswith("The time ran out at")
    assert message.endswith("only the answers saved before then were graded.")
    assert 'data-testid="attempt-score">20%' in _text(response)


def test_an_open_attempt_past_its_deadline_offers_only_the_score(
    page_client, student, quiz, questions, enrolled
):
    Quiz.objects.filter(pk=quiz.pk).update(time_limit_seconds=60)
    quiz.refresh_from_db()
    attempt = services.attempt_start(
        quiz=quiz, user=student, now=timezone.now() - timedelta(minutes=5)
    )

    body = _text(page_client(student).get(_attempt_url(attempt)))

    assert 'data-testid="attempt-expired"' in body
    assert "data-seconds-left" not in body  # no countdown to submit by itself
    assert 'value="save"' not in body
    assert "See your score" in body
    assert body.count(" disabled>") == 5  # every question's fieldset


@pytest.mark.parametrize("count", [5, 50])
def test_attempt_pages_query_count_is_flat(
    page_client, student, quiz, enrolled, django_assert_num_queries, count
):
    for _ in range(count):
        choice_question(quiz)
    attempt = services.attempt_start(quiz=quiz, user=student)
    client = page_client(student)

    with django_assert_num_queries(7):
        open_page = client.get(_attempt_url(attempt))
    services.attempt_submit(attempt=attempt, user=student)
    with django_assert_num_queries(8):
        results = client.get(_attempt_url(attempt))

    assert _text(open_page).count('<fieldset class="question card"') == count
    assert _text(results).count('<section class="question card') == count


# --- The assignment part of the lesson player ---------------------------------------------


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=302,
        student=200,
        other_student=403,
        instructor=200,
        other_instructor=403,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_assignment_lesson_is_open_to_its_learners_and_teachers(
    page_client, assignment, enrolled, role_user, expected
):
    response = page_client(role_user).get(_lesson_url(assignment.lesson))

    assert response.status_code == expected
    if expected == 200:
        assert 'id="assignment-heading"' in _text(response)


def test_assignment_panel_shows_instructions_due_date_late_policy_and_the_upload_form(
    page_client, student, assignment, enrolled
):
    assignment.instructions = "Write **two pages** about stars."
    assignment.due_at = timezone.now() + timedelta(days=3)
    assignment.late_policy = "refuse"
    assignment.max_file_bytes = 2 * 1024 * 1024
    assignment.save()

    body = _text(page_client(student).get(_lesson_url(assignment.lesson)))

    assert "Write <strong>two pages</strong> about stars." in body
    assert 'data-testid="assignment-due">' in body
    assert "Work handed in after the due date is refused." in body
    assert f'action="/assignments/{assignment.pk}/submit/" enctype="multipart/form-data"' in body
    assert 'type="file" id="id_files" name="files" multiple accept=".pdf,.png,.txt"' in body
    assert "PDF, PNG, TXT; 2.0\xa0MB each at most." in body
    assert '<label for="id_files">' in body
    assert '<label for="id_text">' in body


def test_assignment_panel_of_a_lesson_without_an_assignment_says_it_is_not_ready(
    page_client, student, assignment_lesson, enrolled
):
    body = _text(page_client(student).get(_lesson_url(assignment_lesson)))

    assert "This assignment is not ready yet" in body


def test_assignment_panel_shows_the_grade_and_the_feedback(
    page_client, student, instructor, assignment, enrolled
):
    submission = services.submission_submit(assignment=assignment, user=student, text="Essay")
    services.submission_grade(
        submission=submission,
        grader=instructor,
        points=Decimal(8),
        feedback="Clear and well argued.",
        status="graded",
    )

    body = _text(page_client(student).get(_lesson_url(assignment.lesson)))

    assert 'data-testid="submission-status">Graded' in body
    assert "8 of 10 points" in body
    assert "Passed" in body
    assert 'data-testid="submission-feedback">Clear and well argued.' in body
    assert "Your work is graded and can no longer be changed." in body
    assert "/submit/" not in body


def test_returned_work_can_be_handed_in_again(
    page_client, student, instructor, assignment, enrolled
):
    submission = services.submission_submit(assignment=assignment, user=student, text="Draft")
    services.submission_grade(
        submission=submission,
        grader=instructor,
        points=Decimal(3),
        feedback="Add sources.",
        status="returned",
    )

    body = _text(page_client(student).get(_lesson_url(assignment.lesson)))

    assert "Returned for revision" in body
    assert "Add sources." in body
    assert "Hand in again" in body
    assert f'action="/assignments/{assignment.pk}/submit/"' in body


def test_assignment_panel_for_instructors_counts_submissions_and_links_to_grading(
    page_client, instructor, assignment
):
    SubmissionFactory(assignment=assignment)
    SubmissionFactory(assignment=assignment)

    body = _text(page_client(instructor).get(_lesson_url(assignment.lesson)))

    assert "2 submissions so far." in body
    assert 'href="/admin/assessments/submission/?q=Essay%20one"' in body
    assert "/submit/" not in body


@pytest.mark.parametrize("files", [5, 50])
def test_assignment_lesson_query_count_is_flat(
    page_client, student, assignment, enrolled, django_assert_num_queries, files
):
    submission = SubmissionFactory(assignment=assignment, user=student)
    for number in range(files):
        SubmissionFile.objects.create(
            submission=submission,
            file=f"submissions/{number}.pdf",
            original_name=f"part-{number}.pdf",
            size=100,
            content_type="application/pdf",
        )
    client = page_client(student)
    client.get(_lesson_url(assignment.lesson))  # the outline is cached from here on

    with django_assert_num_queries(11):
        response = client.get(_lesson_url(assignment.lesson))

    assert _text(response).count('data-testid="submission-file"') == files


# --- Handing in work ----------------------------------------------------------------------


def _submit(client, assignment, **data):
    return client.post(f"/assignments/{assignment.pk}/submit/", data)


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=302,
        student=302,
        other_student=403,
        instructor=403,
        other_instructor=403,
        admin_user=403,
    ),
    indirect=["role_user"],
)
def test_only_enrolled_learners_hand_in_work(
    page_client, assignment, enrolled, role_user, expected
):
    response = _submit(page_client(role_user), assignment, text="My essay")

    assert response.status_code == expected
    assert Submission.objects.exists() == (expected == 302 and role_user is not None)


def test_handing_in_text_and_files_stores_them_and_says_so(
    page_client, student, assignment, enrolled
):
    client = page_client(student)

    response = client.post(
        f"/assignments/{assignment.pk}/submit/",
        {
            "text": "See the attached files.",
            "files": [pdf_file("essay.pdf"), SimpleUploadedFile("figure.png", PNG)],
        },
        follow=True,
    )

    submission = Submission.objects.get(user=student)
    assert submission.text == "See the attached files."
    assert sorted(submission.files.values_list("original_name", flat=True)) == [
        "essay.pdf",
        "figure.png",
    ]
    assert response.redirect_chain[-1][0] == f"{_lesson_url(assignment.lesson)}#assignment"
    assert "Your work is handed in." in _messages(response)
    body = _text(response)
    assert 'data-testid="submission-status">Handed in, waiting for a grade' in body
    assert body.count('data-testid="submission-file"') == 2


def test_handing_in_nothing_is_refused(page_client, student, assignment, enrolled):
    response = _submit(page_client(student), assignment, text="  ")

    assert response.status_code == 400
    assert "Write an answer, add files, or both." in _text(response)
    assert not Submission.objects.exists()


@pytest.mark.parametrize(
    ("upload", "code", "problem"),
    [
        pytest.param(
            SimpleUploadedFile("virus.exe", b"MZ\x90\x00"),
            "file_type_not_allowed",
            "Files of this type are not accepted (allowed: pdf, png, txt).",
            id="_case file_type_not_allowed",
        ),
        pytest.param(
            SimpleUploadedFile("fake.pdf", b"just some text"),
            "file_content_mismatch",
            "The file's content does not match its .pdf extension.",
            id="_case file_content_mismatch",
        ),
        pytest.param(
            SimpleUploadedFile("empty.txt", b""),
            "file_empty",
            "The file is empty.",
            id="_case file_empty",
        ),
        pytest.param(
            SimpleUploadedFile("huge.pdf", PDF + b"0" * 2000),
            "file_too_large",
            "The file is larger than",
            id="_case file_too_large",
        ),
    ],
)
def test_a_refused_file_is_named_with_its_problem_next_to_the_field(
    page_client, student, assignment, enrolled, upload, code, problem
):
    assignment.max_file_bytes = 1000
    assignment.save()

    response = page_client(student).post(
        f"/assignments/{assignment.pk}/submit/",
        {"text": "With a file", "files": [pdf_file("good.pdf"), upload]},
    )

    assert response.status_code == 400
    form = response.context["submission_form"]
    assert form.has_error("files", code=code)
    body = _text(response)
    assert f"<li>{upload.name}: {problem}".replace("'", "&#x27;") in body
    assert 'aria-describedby="help-files error-files" aria-invalid="true"' in body
    assert "Nothing was handed in. Choose your files again." in body
    assert not Submission.objects.exists()
    assert not SubmissionFile.objects.exists()


def test_too_many_files_are_refused(page_client, student, assignment, enrolled):
    assignment.max_files = 1
    assignment.save()

    response = page_client(student).post(
        f"/assignments/{assignment.pk}/submit/",
        {"files": [pdf_file("one.pdf"), pdf_file("two.pdf")]},
    )

    assert response.status_code == 400
    assert "At most 1 file(s) per submission." in _text(response)
    assert not Submission.objects.exists()


def test_late_work_is_refused_when_the_assignment_says_so(
    page_client, student, assignment, enrolled
):
    assignment.due_at = timezone.now() - timedelta(hours=1)
    assignment.late_policy = "refuse"
    assignment.save()

    response = _submit(page_client(student), assignment, text="Too late")

    assert response.status_code == 409
    assert "this assignment no longer accepts work." in _text(response)
    assert not Submission.objects.exists()


def test_late_work_is_accepted_and_marked_late(page_client, student, assignment, enrolled):
    assignment.due_at = timezone.now() - timedelta(hours=1)
    assignment.save()

    response = page_client(student).post(
        f"/assignments/{assignment.pk}/submit/", {"text": "Late but here"}, follow=True
    )

    assert Submission.objects.get(user=student).is_late
    assert 'data-testid="submission-late">Late' in _text(response)


def test_graded_work_cannot_be_handed_in_again(
    page_client, student, instructor, assignment, enrolled
):
    submission = services.submission_submit(assignment=assignment, user=student, text="Final")
    services.submission_grade(
        submission=submission, grader=instructor, points=Decimal(9), status="graded"
    )

    response = page_client(student).post(
        f"/assignments/{assignment.pk}/submit/", {"text": "Changed my mind"}, follow=True
    )

    assert "Your work is graded and can no longer be changed." in _messages(response)
    submission.refresh_from_db()
    assert submission.text == "Final"


def test_handing_in_again_replaces_the_text_and_the_files(
    page_client, student, assignment, enrolled
):
    client = page_client(student)
    client.post(f"/assignments/{assignment.pk}/submit/", {"files": [pdf_file("first.pdf")]})

    client.post(
        f"/assignments/{assignment.pk}/submit/",
        {"text": "Second go", "files": [pdf_file("second.pdf")]},
    )

    submission = Submission.objects.get(user=student)
    assert submission.text == "Second go"
    assert list(submission.files.values_list("original_name", flat=True)) == ["second.pdf"]


def test_submit_link_followed_with_get_shows_the_assignment(page_client, student, assignment):
    response = page_client(student).get(f"/assignments/{assignment.pk}/submit/")

    assert response.status_code == 302
    assert response["Location"] == f"{_lesson_url(assignment.lesson)}#assignment"


def test_uploads_past_the_rate_are_refused_with_retry_after(
    page_client, student, assignment, enrolled, monkeypatch
):
    monkeypatch.setattr(
        UploadRateThrottle,
        "THROTTLE_RATES",
        {**UploadRateThrottle.THROTTLE_RATES, "uploads": "1/hour"},
    )
    client = page_client(student)
    _submit(client, assignment, text="First")

    response = _submit(client, assignment, text="Second")

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "You have sent too many uploads. Try again later." in _text(response)
    assert Submission.objects.get(user=student).text == "First"


def test_pages_and_the_api_share_the_upload_budget(
    page_client, auth_client, student, assignment, enrolled, monkeypatch
):
    monkeypatch.setattr(
        UploadRateThrottle,
        "THROTTLE_RATES",
        {**UploadRateThrottle.THROTTLE_RATES, "uploads": "1/hour"},
    )
    api = auth_client(student).post(
        f"/api/v1/assignments/{assignment.pk}/submissions/", {"text": "By the API"}
    )

    response = _submit(page_client(student), assignment, text="By the page")

    assert api.status_code == 201
    assert response.status_code == 429


# --- Submitted files ----------------------------------------------------------------------


@pytest.fixture
def stored_file(student, assignment, enrolled) -> SubmissionFile:
    submission = services.submission_submit(
        assignment=assignment, user=student, files=[pdf_file("essay.pdf")]
    )
    return submission.files.get()


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=302,
        student=302,
        other_student=404,
        instructor=302,
        other_instructor=404,
        admin_user=302,
    ),
    indirect=["role_user"],
)
def test_a_submitted_file_is_for_its_learner_and_the_course_teachers(
    page_client, stored_file, role_user, expected
):
    response = page_client(role_user).get(f"/submission-files/{stored_file.pk}/")

    assert response.status_code == expected
    if role_user is None:
        assert response["Location"] == _login_url(f"/submission-files/{stored_file.pk}/")
    elif expected == 302:
        assert response["Location"].startswith("/api/v1/files/")


def test_a_submitted_file_downloads_through_a_fresh_signed_link(page_client, student, stored_file):
    client = page_client(student)

    response = client.get(f"/submission-files/{stored_file.pk}/")

    download = client.get(response["Location"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert 'filename="essay.pdf"' in download["Content-Disposition"]


def test_another_learner_cannot_use_a_learners_signed_link(
    page_client, student, other_student, stored_file
):
    link = page_client(student).get(f"/submission-files/{stored_file.pk}/")["Location"]

    response = page_client(other_student).get(link)

    assert response.status_code == 404


def test_another_learners_file_shows_the_404_page(page_client, other_student, stored_file):
    response = page_client(other_student).get(f"/submission-files/{stored_file.pk}/")

    assert response.status_code == 404
    assert "Page not found" in _text(response)
