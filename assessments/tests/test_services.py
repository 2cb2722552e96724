"""Quizzes, attempts, assignments and submissions through their services."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from freezegun import freeze_time

from accounts.tests.factories import UserFactory
from assessments import services
from assessments.errors import (
    AssignmentPastDue,
    AttemptClosed,
    AttemptExpired,
    AttemptInProgress,
    MaxAttemptsReached,
    NotYourAttempt,
    PointsOutOfRange,
    QuizExists,
    QuizHasNoQuestions,
    QuizNotAvailable,
    SubmissionEmpty,
    SubmissionGraded,
    TooManyFiles,
    WrongLessonKind,
)
from assessments.models import Answer, Attempt, Choice, Question, Quiz, Submission
from assessments.services import AnswerInput
from assessments.tests.conftest import enrol, pdf_file
from assessments.tests.factories import QuestionFactory, SubmissionFactory, choice_question
from courses.errors import LessonLocked, NotEnrolled
from courses.models import Lesson
from courses.tests.factories import LessonFactory
from enrollments.models import Enrollment, LessonProgress
from lms.uploads import UploadRejected

pytestmark = pytest.mark.django_db


def _answer(question, **fields):
    return AnswerInput(
        question=question.pk, has_value="value" in fields, has_number="number" in fields, **fields
    )


# --- Authoring ----------------------------------------------------------------------------


def test_quiz_create_needs_a_quiz_lesson(module):
    text_lesson = LessonFactory(module=module, kind=Lesson.Kind.TEXT)

    with pytest.raises(WrongLessonKind):
        services.quiz_create(lesson=text_lesson)

    assert not Quiz.objects.exists()


def test_quiz_create_refuses_a_second_quiz(quiz):
    with pytest.raises(QuizExists):
        services.quiz_create(lesson=quiz.lesson)


def test_quiz_update_refuses_a_window_closing_before_it_opens(quiz):
    now = timezone.now()

    with pytest.raises(ValidationError):
        services.quiz_update(
            quiz=quiz, data={"available_from": now, "available_until": now - timedelta(hours=1)}
        )


def test_question_create_appends_with_choices_in_order(quiz):
    first = services.question_create(quiz=quiz, kind="true_false", text="A?", correct_boolean=True)
    second = services.question_create(
        quiz=quiz,
        kind="single_choice",
        text="B?",
        choices=[{"text": "x", "is_correct": False}, {"text": "y", "is_correct": True}],
    )

    assert (first.position, second.position) == (1, 2)
    assert list(second.choices.order_by("position").values_list("text", "is_correct")) == [
        ("x", False),
        ("y", True),
    ]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param(
            {"kind": "single_choice", "choices": [{"text": "a", "is_correct": True}]},
            "choices",
            id="_case one choice",
        ),
        pytest.param(
            {
                "kind": "single_choice",
                "choices": [{"text": "a", "is_correct": True}, {"text": "b", "is_correct": True}],
            },
            "choices",
            id="_case single choice with two correct",
        ),
        pytest.param(
            {
                "kind": "multiple_choice",
                "choices": [{"text": "a"}, {"text": "b"}],
            },
            "choices",
            id="_case multiple choice with none correct",
        ),
        pytest.param({"kind": "true_false"}, "correct_boolean", id="_case true false no key"),
        pytest.param(
            {"kind": "short_text", "accepted_answers": ["  "]},
            "accepted_answers",
            id="_case blank accepted answer",
        ),
        pytest.param({"kind": "numeric"}, "numeric_value", id="_case numeric no value"),
        pytest.param(
            {"kind": "numeric", "numeric_value": Decimal(1), "choices": [{"text": "a"}]},
            "choices",
            id="_case choices on a numeric question",
        ),
    ],
)
def test_question_create_refuses_an_answer_key_that_does_not_fit(quiz, fields, field):
    with pytest.raises(ValidationError) as error:
        services.question_create(quiz=quiz, text="?", **fields)

    assert field in error.value.message_dict
    assert not Question.objects.exists()


def test_question_create_drops_keys_of_other_kinds(quiz):
    question = services.question_create(
        quiz=quiz, kind="true_false", text="?", correct_boolean=False, accepted_answers=["x"]
    )

    assert question.accepted_answers == []


def test_question_update_keeps_listed_choices_adds_new_and_deletes_the_rest(quiz):
    question = choice_question(quiz, correct=(0,))
    first, second, third = question.choices.order_by("position")

    services.question_update(
        question=question,
        data={
            "choices": [
                {"id": third.pk, "text": "third", "is_correct": True},
                {"text": "new", "is_correct": False},
            ]
        },
    )

    choices = list(question.choices.order_by("position"))
    assert choices[0].pk == third.pk
    assert [(c.text, c.is_correct, c.position) for c in choices] == [
        ("third", True, 1),
        ("new", False, 2),
    ]
    assert not Choice.objects.filter(pk__in=[first.pk, second.pk]).exists()


def test_question_update_refuses_a_choice_of_another_question(quiz):
    question = choice_question(quiz)
    foreign = choice_question(quiz).choices.first()

    with pytest.raises(ValidationError):
        services.question_update(
            question=question,
            data={"choices": [{"id": foreign.pk, "text": "x", "is_correct": True}, {"text": "y"}]},
        )


def test_question_update_to_true_false_removes_the_choices(quiz):
    question = choice_question(quiz)

    services.question_update(
        question=question, data={"kind": "true_false", "correct_boolean": True, "choices": []}
    )

    assert not Choice.objects.filter(question=question).exists()


# --- Starting attempts --------------------------------------------------------------------


def test_attempt_start_stores_the_question_and_choice_order(quiz, student, enrolled):
    first = choice_question(quiz, count=4)
    second = QuestionFactory(quiz=quiz)
    quiz.shuffle_questions = quiz.shuffle_choices = True
    quiz.save()

    attempt = services.attempt_start(quiz=quiz, user=student, rng=random.Random(3))

    assert sorted(attempt.question_order) == sorted([str(first.pk), str(second.pk)])
    assert sorted(attempt.choice_order[str(first.pk)]) == sorted(
        str(pk) for pk in first.choices.values_list("pk", flat=True)
    )
    assert str(second.pk) not in attempt.choice_order
    assert (attempt.number, attempt.status) == (1, Attempt.Status.IN_PROGRESS)


def test_attempt_start_without_shuffle_keeps_the_authored_order(quiz, student, enrolled):
    questions = [QuestionFactory(quiz=quiz) for _ in range(5)]

    attempt = services.attempt_start(quiz=quiz, user=student)

    assert attempt.question_order == [str(q.pk) for q in questions]


def test_attempt_start_needs_an_active_enrolment(quiz, student):
    QuestionFactory(quiz=quiz)

    with pytest.raises(NotEnrolled):
        services.attempt_start(quiz=quiz, user=student)

    assert not Attempt.objects.exists()


def test_attempt_start_refuses_a_locked_lesson(quiz, student, enrolled):
    QuestionFactory(quiz=quiz)
    Lesson.objects.filter(pk=quiz.lesson_id).update(
        available_from=timezone.now() + timedelta(days=1)
    )
    quiz.lesson.refresh_from_db()

    with pytest.raises(LessonLocked):
        services.attempt_start(quiz=quiz, user=student)


def test_attempt_start_refuses_a_quiz_without_questions(quiz, student, enrolled):
    with pytest.raises(QuizHasNoQuestions):
        services.attempt_start(quiz=quiz, user=student)


def test_attempt_start_refuses_outside_the_availability_window(quiz, student, enrolled):
    QuestionFactory(quiz=quiz)
    quiz.available_from = timezone.now() + timedelta(hours=1)
    quiz.save()

    with pytest.raises(QuizNotAvailable):
        services.attempt_start(quiz=quiz, user=student)


def test_attempt_start_refuses_a_second_open_attempt(quiz, student, enrolled):
    QuestionFactory(quiz=quiz)
    first = services.attempt_start(quiz=quiz, user=student)

    with pytest.raises(AttemptInProgress) as error:
        services.attempt_start(quiz=quiz, user=student)

    assert error.value.fields == {"attempt": [str(first.pk)]}
    assert Attempt.objects.count() == 1


def test_attempt_start_enforces_max_attempts(quiz, student, enrolled):
    QuestionFactory(quiz=quiz)
    quiz.max_attempts = 2
    quiz.save()
    for _ in range(2):
        services.attempt_submit(
            attempt=services.attempt_start(quiz=quiz, user=student), user=student
        )

    with pytest.raises(MaxAttemptsReached):
        services.attempt_start(quiz=quiz, user=student)

    assert Attempt.objects.filter(user=student).count() == 2


def test_unlimited_attempts_number_each_one(quiz, student, enrolled):
    QuestionFactory(quiz=quiz)
    numbers = []
    for _ in range(3):
        attempt = services.attempt_start(quiz=quiz, user=student)
        services.attempt_submit(attempt=attempt, user=student)
        numbers.append(attempt.number)

    assert numbers == [1, 2, 3]


def test_deadline_is_the_time_limit_capped_by_the_window(quiz, student, enrolled):
    QuestionFactory(quiz=quiz)
    now = timezone.now()
    quiz.time_limit_seconds = 3600
    quiz.available_until = now + timedelta(minutes=10)
    quiz.save()

    attempt = services.attempt_start(quiz=quiz, user=student, now=now)

    assert attempt.deadline == quiz.available_until


def test_starting_again_after_the_deadline_closes_the_old_attempt(quiz, student, enrolled):
    question = QuestionFactory(quiz=quiz)
    quiz.time_limit_seconds = 60
    quiz.save()
    with freeze_time("2030-01-01 10:00:00"):
        old = services.attempt_start(quiz=quiz, user=student)
        services.attempt_save_answers(
            attempt=old, user=student, answers=[_answer(question, value=True)]
        )

    with freeze_time("2030-01-01 10:05:00"):
        new = services.attempt_start(quiz=quiz, user=student)

    old.refresh_from_db()
    assert (old.status, old.score_percent) == (Attempt.Status.EXPIRED, Decimal("100.00"))
    assert new.number == 2


# --- Saving answers -----------------------------------------------------------------------


@pytest.fixture
def mixed_quiz(quiz):
    """One question of each kind, 1 point each."""
    return {
        "single": choice_question(quiz, kind="single_choice", correct=(1,)),
        "multiple": choice_question(quiz, kind="multiple_choice", correct=(0, 2)),
        "boolean": QuestionFactory(quiz=quiz, correct_boolean=False),
        "text": QuestionFactory(
            quiz=quiz, kind="short_text", correct_boolean=None, accepted_answers=["Ada Lovelace"]
        ),
        "number": QuestionFactory(
            quiz=quiz,
            kind="numeric",
            correct_boolean=None,
            numeric_value=Decimal("9.81"),
            numeric_tolerance=Decimal("0.05"),
        ),
    }


def _choices(question, *indexes):
    ordered = list(question.choices.order_by("position"))
    return [ordered[index].pk for index in indexes]


def test_save_answers_stores_each_kind(quiz, mixed_quiz, student, enrolled):
    attempt = services.attempt_start(quiz=quiz, user=student)
    q = mixed_quiz

    services.attempt_save_answers(
        attempt=attempt,
        user=student,
        answers=[
            _answer(q["single"], choices=_choices(q["single"], 1)),
            _answer(q["multiple"], choices=_choices(q["multiple"], 0, 2)),
            _answer(q["boolean"], value=False),
            _answer(q["text"], text="ada lovelace"),
            _answer(q["number"], number=Decimal("9.8")),
        ],
    )

    assert Answer.objects.filter(attempt=attempt).count() == 5
    assert Answer.objects.get(question=q["text"]).text_response == "ada lovelace"
    assert Answer.objects.get(question=q["multiple"]).selected_choices.count() == 2


def test_saving_again_replaces_the_answer(quiz, mixed_quiz, student, enrolled):
    attempt = services.attempt_start(quiz=quiz, user=student)
    single = mixed_quiz["single"]
    services.attempt_save_answers(
        attempt=attempt, user=student, answers=[_answer(single, choices=_choices(single, 0))]
    )

    services.attempt_save_answers(
        attempt=attempt, user=student, answers=[_answer(single, choices=_choices(single, 1))]
    )

    answer = Answer.objects.get(attempt=attempt, question=single)
    assert list(answer.selected_choices.values_list("pk", flat=True)) == _choices(single, 1)


@pytest.mark.parametrize(
    ("key", "make_answer", "problem"),
    [
        pytest.param(
            "single",
            lambda q: _answer(q, choices=_choices(q, 0, 1)),
            "choices",
            id="_case two picks on single choice",
        ),
        pytest.param(
            "single", lambda q: _answer(q, value=True), "choices", id="_case wrong field for kind"
        ),
        pytest.param("boolean", lambda q: _answer(q, text="yes"), "value", id="_case text on bool"),
        pytest.param("number", lambda q: _answer(q, text="9.8"), "number", id="_case text on num"),
        pytest.param("text", lambda q: _answer(q), "text", id="_case no text"),
    ],
)
def test_save_answers_checks_the_question_kind(
    quiz, mixed_quiz, student, enrolled, key, make_answer, problem
):
    attempt = services.attempt_start(quiz=quiz, user=student)

    with pytest.raises(ValidationError) as error:
        services.attempt_save_answers(
            attempt=attempt, user=student, answers=[make_answer(mixed_quiz[key])]
        )

    assert list(error.value.message_dict) == [f"answers[0].{problem}"]
    assert not Answer.objects.exists()


def test_save_answers_refuses_a_choice_of_another_question(quiz, mixed_quiz, student, enrolled):
    attempt = services.attempt_start(quiz=quiz, user=student)
    single, multiple = mixed_quiz["single"], mixed_quiz["multiple"]

    with pytest.raises(ValidationError):
        services.attempt_save_answers(
            attempt=attempt, user=student, answers=[_answer(single, choices=_choices(multiple, 0))]
        )


def test_save_answers_refuses_a_question_outside_the_attempt(quiz, student, enrolled):
    QuestionFactory(quiz=quiz)
    attempt = services.attempt_start(quiz=quiz, user=student)
    added_later = QuestionFactory(quiz=quiz)

    with pytest.raises(ValidationError) as error:
        services.attempt_save_answers(
            attempt=attempt, user=student, answers=[_answer(added_later, value=True)]
        )

    assert "answers[0].question" in error.value.message_dict


def test_save_answers_writes_nothing_if_one_answer_is_bad(quiz, mixed_quiz, student, enrolled):
    attempt = services.attempt_start(quiz=quiz, user=student)

    with pytest.raises(ValidationError):
        services.attempt_save_answers(
            attempt=attempt,
            user=student,
            answers=[
                _answer(mixed_quiz["boolean"], value=True),
                _answer(mixed_quiz["number"], text="x"),
            ],
        )

    assert not Answer.objects.exists()


def test_only_the_learner_saves_answers(quiz, student, enrolled, instructor):
    QuestionFactory(quiz=quiz)
    attempt = services.attempt_start(quiz=quiz, user=student)

    with pytest.raises(NotYourAttempt):
        services.attempt_save_answers(attempt=attempt, user=instructor, answers=[])


# --- Deadlines (frozen clock) -------------------------------------------------------------


@pytest.fixture
def timed_attempt(quiz, student, enrolled):
    question = QuestionFactory(quiz=quiz)
    quiz.time_limit_seconds = 600
    quiz.save()
    with freeze_time("2030-05-01 09:00:00"):
        attempt = services.attempt_start(quiz=quiz, user=student)
    return attempt, question


def test_saving_before_the_deadline_is_accepted(timed_attempt, student):
    attempt, question = timed_attempt

    with freeze_time("2030-05-01 09:10:00"):  # exactly at the deadline
        services.attempt_save_answers(
            attempt=attempt, user=student, answers=[_answer(question, value=True)]
        )

    assert Answer.objects.filter(attempt=attempt).count() == 1


def test_saving_after_the_deadline_is_refused(timed_attempt, student):
    attempt, question = timed_attempt

    with freeze_time("2030-05-01 09:10:01"), pytest.raises(AttemptExpired) as error:
        services.attempt_save_answers(
            attempt=attempt, user=student, answers=[_answer(question, value=True)]
        )

    assert (error.value.status_code, error.value.code) == (409, "attempt_expired")
    assert not Answer.objects.exists()


def test_submit_after_the_deadline_grades_what_was_saved_in_time(timed_attempt, student):
    attempt, question = timed_attempt
    with freeze_time("2030-05-01 09:05:00"):
        services.attempt_save_answers(
            attempt=attempt, user=student, answers=[_answer(question, value=False)]
        )
    with freeze_time("2030-05-01 09:30:00"), pytest.raises(AttemptExpired):
        services.attempt_save_answers(
            attempt=attempt, user=student, answers=[_answer(question, value=True)]
        )

    with freeze_time("2030-05-01 09:30:00"):
        graded = services.attempt_submit(attempt=attempt, user=student)

    assert (graded.status, graded.score_percent, graded.passed) == (
        Attempt.Status.EXPIRED,
        Decimal("0.00"),
        False,
    )


def test_close_expired_grades_and_closes_only_expired_attempts(timed_attempt, quiz, other_student):
    attempt, _ = timed_attempt
    enrol(other_student, quiz.lesson.module.course)
    with freeze_time("2030-05-01 09:20:00"):
        fresh = services.attempt_start(quiz=quiz, user=other_student)

    with freeze_time("2030-05-01 09:25:00"):
        closed = services.attempt_close_expired()

    attempt.refresh_from_db()
    fresh.refresh_from_db()
    assert closed == 1
    assert (attempt.status, attempt.score_percent) == (Attempt.Status.EXPIRED, Decimal("0.00"))
    assert fresh.status == Attempt.Status.IN_PROGRESS


def test_close_expired_twice_closes_once(timed_attempt):
    attempt, _ = timed_attempt

    with freeze_time("2030-05-01 10:00:00"):
        first = services.attempt_close_if_expired(attempt_id=attempt.pk)
        second = services.attempt_close_if_expired(attempt_id=attempt.pk)

    assert (first, second) == (True, False)


# --- Submitting ---------------------------------------------------------------------------


def test_submit_grades_every_kind_on_the_server(quiz, mixed_quiz, student, enrolled):
    attempt = services.attempt_start(quiz=quiz, user=student)
    q = mixed_quiz
    services.attempt_save_answers(
        attempt=attempt,
        user=student,
        answers=[
            _answer(q["single"], choices=_choices(q["single"], 1)),  # right
            _answer(q["multiple"], choices=_choices(q["multiple"], 0)),  # missing one: wrong
            _answer(q["boolean"], value=False),  # right
            _answer(q["text"], text="  ADA   lovelace "),  # right
        ],  # numeric unanswered: wrong
    )

    graded = services.attempt_submit(attempt=attempt, user=student)

    assert (graded.score_points, graded.max_points, graded.score_percent) == (
        Decimal("3.00"),
        5,
        Decimal("60.00"),
    )
    assert graded.passed is True  # passing score 50 %
    assert Answer.objects.filter(attempt=attempt).count() == 5  # unanswered one recorded
    assert Answer.objects.get(question=q["number"]).is_correct is False


def test_submit_twice_is_refused(quiz, student, enrolled):
    QuestionFactory(quiz=quiz)
    attempt = services.attempt_start(quiz=quiz, user=student)
    services.attempt_submit(attempt=attempt, user=student)

    with pytest.raises(AttemptClosed):
        services.attempt_submit(attempt=attempt, user=student)


def test_questions_deleted_after_the_start_are_left_out_of_the_score(quiz, student, enrolled):
    kept = QuestionFactory(quiz=quiz)
    dropped = QuestionFactory(quiz=quiz)
    attempt = services.attempt_start(quiz=quiz, user=student)
    services.attempt_save_answers(
        attempt=attempt, user=student, answers=[_answer(kept, value=True)]
    )
    services.question_delete(question=dropped)

    graded = services.attempt_submit(attempt=attempt, user=student)

    assert (graded.max_points, graded.score_percent) == (1, Decimal("100.00"))


# --- Completion ---------------------------------------------------------------------------


def test_passing_a_required_quiz_completes_the_lesson_and_the_course(quiz, student, enrolled):
    question = QuestionFactory(quiz=quiz)
    attempt = services.attempt_start(quiz=quiz, user=student)
    services.attempt_save_answers(
        attempt=attempt, user=student, answers=[_answer(question, value=True)]
    )

    services.attempt_submit(attempt=attempt, user=student)

    enrolled.refresh_from_db()
    assert LessonProgress.objects.get(enrollment=enrolled, lesson=quiz.lesson).completed_at
    assert (enrolled.progress_percent, enrolled.status) == (100, Enrollment.Status.COMPLETED)


def test_failing_a_quiz_leaves_the_lesson_open(quiz, student, enrolled):
    question = QuestionFactory(quiz=quiz)
    attempt = services.attempt_start(quiz=quiz, user=student)
    services.attempt_save_answers(
        attempt=attempt, user=student, answers=[_answer(question, value=False)]
    )

    services.attempt_submit(attempt=attempt, user=student)

    enrolled.refresh_from_db()
    assert not LessonProgress.objects.filter(
        enrollment=enrolled, completed_at__isnull=False
    ).exists()
    assert enrolled.status == Enrollment.Status.ACTIVE


def test_marking_a_quiz_lesson_done_does_not_complete_without_a_pass(quiz, student, enrolled):
    from enrollments.services import lesson_complete

    QuestionFactory(quiz=quiz)

    lesson_complete(user=student, lesson=quiz.lesson)

    enrolled.refresh_from_db()
    assert (enrolled.progress_percent, enrolled.status) == (100, Enrollment.Status.ACTIVE)


def test_a_course_completes_only_with_quiz_passed_and_assignment_graded_passing(
    quiz, assignment, student, enrolled, instructor
):
    question = QuestionFactory(quiz=quiz)
    attempt = services.attempt_start(quiz=quiz, user=student)
    services.attempt_save_answers(
        attempt=attempt, user=student, answers=[_answer(question, value=True)]
    )
    services.attempt_submit(attempt=attempt, user=student)
    enrolled.refresh_from_db()
    assert enrolled.status == Enrollment.Status.ACTIVE  # the assignment is still missing
    submission = services.submission_submit(assignment=assignment, user=student, text="Essay")

    services.submission_grade(
        submission=submission, grader=instructor, points=Decimal(6), status="graded"
    )

    enrolled.refresh_from_db()
    assert enrolled.status == Enrollment.Status.COMPLETED


def test_a_failing_grade_does_not_complete(assignment, student, enrolled, instructor):
    submission = services.submission_submit(assignment=assignment, user=student, text="Essay")

    services.submission_grade(
        submission=submission, grader=instructor, points=Decimal("5.99"), status="graded"
    )

    enrolled.refresh_from_db()
    assert enrolled.status == Enrollment.Status.ACTIVE


def test_optional_quizzes_do_not_block_completion(quiz, student, enrolled):
    from enrollments.services import lesson_complete

    Lesson.objects.filter(pk=quiz.lesson_id).update(is_required=False)
    LessonFactory(module=quiz.lesson.module, position=5)
    other = Lesson.objects.get(module=quiz.lesson.module, position=5)
    from enrollments.services import enrollment_progress_recount

    enrollment_progress_recount(course_id=quiz.lesson.module.course_id)

    lesson_complete(user=student, lesson=other)

    enrolled.refresh_from_db()
    assert enrolled.status == Enrollment.Status.COMPLETED


# --- Assignments --------------------------------------------------------------------------


def test_assignment_create_refuses_extensions_the_server_does_not_accept(assignment_lesson):
    with pytest.raises(ValidationError) as error:
        services.assignment_create(lesson=assignment_lesson, allowed_extensions=["exe", "pdf"])

    assert "allowed_extensions" in error.value.message_dict


def test_assignment_create_refuses_a_size_above_the_server_limit(assignment_lesson, settings):
    with pytest.raises(ValidationError) as error:
        services.assignment_create(
            lesson=assignment_lesson, max_file_bytes=settings.UPLOADS_MAX_BYTES + 1
        )

    assert "max_file_bytes" in error.value.message_dict


def test_assignment_defaults_come_from_settings(assignment_lesson, settings):
    settings.UPLOADS_MAX_BYTES = 1234

    assignment = services.assignment_create(lesson=assignment_lesson)

    assert assignment.max_file_bytes == 1234
    assert assignment.allowed_extensions == sorted(settings.UPLOADS_ALLOWED_EXTENSIONS)


def test_submission_stores_files_under_generated_names(assignment, student, enrolled):
    submission = services.submission_submit(
        assignment=assignment, user=student, files=[pdf_file("My Essay (final).PDF")]
    )

    stored = submission.files.get()
    assert stored.original_name == "My Essay (final).PDF"
    assert stored.file.name.startswith("submissions/")
    assert stored.file.name.endswith(".pdf")
    assert "Essay" not in stored.file.name
    assert (stored.content_type, stored.size) == ("application/pdf", len(pdf_file().read()))


def test_submission_needs_text_or_files(assignment, student, enrolled):
    with pytest.raises(SubmissionEmpty):
        services.submission_submit(assignment=assignment, user=student, text="  ")

    assert not Submission.objects.exists()


def test_submission_refuses_more_files_than_allowed(assignment, student, enrolled):
    assignment.max_files = 1
    assignment.save()

    with pytest.raises(TooManyFiles):
        services.submission_submit(
            assignment=assignment, user=student, files=[pdf_file(), pdf_file()]
        )


def test_a_bad_file_stores_nothing(assignment, student, enrolled):
    with pytest.raises(UploadRejected):
        services.submission_submit(
            assignment=assignment,
            user=student,
            files=[pdf_file(), pdf_file("fake.pdf", b"just text")],
        )

    assert not Submission.objects.exists()


def test_late_work_is_flagged(assignment, student, enrolled):
    assignment.due_at = timezone.now() - timedelta(minutes=1)
    assignment.save()

    submission = services.submission_submit(assignment=assignment, user=student, text="Sorry")

    assert submission.is_late is True


def test_late_work_is_refused_when_the_policy_says_so(assignment, student, enrolled):
    assignment.due_at = timezone.now() - timedelta(minutes=1)
    assignment.late_policy = "refuse"
    assignment.save()

    with pytest.raises(AssignmentPastDue):
        services.submission_submit(assignment=assignment, user=student, text="Sorry")

    assert not Submission.objects.exists()


def test_submission_needs_an_enrolment(assignment, student):
    with pytest.raises(NotEnrolled):
        services.submission_submit(assignment=assignment, user=student, text="Hi")


def test_resubmission_replaces_text_and_files(assignment, student, enrolled):
    first = services.submission_submit(
        assignment=assignment, user=student, text="v1", files=[pdf_file("a.pdf")]
    )
    old_name = first.files.get().file.name

    second = services.submission_submit(
        assignment=assignment, user=student, text="v2", files=[pdf_file("b.pdf")]
    )

    assert second.pk == first.pk
    assert second.text == "v2"
    assert list(second.files.values_list("original_name", flat=True)) == ["b.pdf"]
    assert old_name != second.files.get().file.name


def test_resubmission_deletes_the_old_files_after_commit(
    assignment, student, enrolled, django_capture_on_commit_callbacks
):
    from lms.uploads import private_storage

    first = services.submission_submit(
        assignment=assignment, user=student, text="v1", files=[pdf_file("a.pdf")]
    )
    old_name = first.files.get().file.name

    with django_capture_on_commit_callbacks(execute=True):
        services.submission_submit(assignment=assignment, user=student, text="v2")

    assert not private_storage().exists(old_name)


def test_a_graded_submission_cannot_be_replaced(assignment, student, enrolled, instructor):
    submission = services.submission_submit(assignment=assignment, user=student, text="v1")
    services.submission_grade(
        submission=submission, grader=instructor, points=Decimal(7), status="graded"
    )

    with pytest.raises(SubmissionGraded):
        services.submission_submit(assignment=assignment, user=student, text="v2")


def test_a_returned_submission_can_be_resubmitted_and_loses_its_points(
    assignment, student, enrolled, instructor
):
    submission = services.submission_submit(assignment=assignment, user=student, text="v1")
    services.submission_grade(
        submission=submission,
        grader=instructor,
        points=Decimal(3),
        status="returned",
        feedback="Try again",
    )

    again = services.submission_submit(assignment=assignment, user=student, text="v2")

    assert (again.status, again.points, again.feedback) == ("submitted", None, "Try again")


def test_grading_emails_the_learner_after_commit(
    assignment, student, enrolled, instructor, django_capture_on_commit_callbacks
):
    LessonFactory(module=assignment.lesson.module, position=9)  # the course stays incomplete
    submission = services.submission_submit(assignment=assignment, user=student, text="v1")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.submission_grade(
            submission=submission,
            grader=instructor,
            points=Decimal("8.5"),
            feedback="Well argued.",
            status="graded",
        )

    graded_mails = [message for message in mail.outbox if "was graded" in message.subject]
    assert len(callbacks) >= 1
    assert [message.to for message in graded_mails] == [[student.email]]
    assert "Essay one" in graded_mails[0].subject
    assert "Points: 8.5 / 10 (passed)" in graded_mails[0].body
    assert "Well argued." in graded_mails[0].body


def test_grading_refuses_points_above_the_maximum(assignment, student, enrolled, instructor):
    submission = services.submission_submit(assignment=assignment, user=student, text="v1")

    with pytest.raises(PointsOutOfRange):
        services.submission_grade(
            submission=submission, grader=instructor, points=Decimal(11), status="graded"
        )

    submission.refresh_from_db()
    assert submission.status == "submitted"


def test_concurrent_first_submission_reuses_the_row(assignment, student, enrolled):
    existing = SubmissionFactory(assignment=assignment, user=student)

    submission = services.submission_submit(assignment=assignment, user=student, text="again")

    assert submission.pk == existing.pk
    assert Submission.objects.count() == 1


def test_learners_other_than_the_owner_are_independent(assignment, student, enrolled):
    other = UserFactory()
    enrol(other, assignment.lesson.module.course)

    services.submission_submit(assignment=assignment, user=student, text="a")
    services.submission_submit(assignment=assignment, user=other, text="b")

    assert Submission.objects.count() == 2


def test_a_final_grade_publishes_submission_graded(assignment, student, enrolled, instructor):
    from lms import events

    seen: list = []
    events.subscribe(seen.append)
    submission = services.submission_submit(assignment=assignment, user=student, text="Essay")
    try:
        services.submission_grade(
            submission=submission, grader=instructor, points=Decimal("7.5"), status="graded"
        )
    finally:
        events.unsubscribe(seen.append)

    graded = [event for event in seen if event.type == "submission.graded"]
    assert [event.data["submission_id"] for event in graded] == [str(submission.pk)]
    assert graded[0].data["points"] == "7.5"
