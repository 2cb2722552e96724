"""Reads of quizzes, attempts, assignments and submissions, scoped to what the caller may see;
statistics, the gradebook, the analytics section and the completion requirement."""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import (
    Avg,
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.models import User
from assessments.models import (
    Answer,
    Assignment,
    Attempt,
    Choice,
    Question,
    Quiz,
    Submission,
    SubmissionFile,
)
from courses.models import Course, Lesson
from courses.selectors import (
    AnyUser,
    course_list_visible,
    user_can_manage_course,
)
from enrollments.models import Enrollment


def _course_of(obj: Quiz | Assignment) -> Course:
    return obj.lesson.module.course


# --- Quizzes ------------------------------------------------------------------------------


def _visible_lessons_filter(user: AnyUser, prefix: str) -> Q:
    return Q(**{f"{prefix}module__course__in": course_list_visible(user=user)})


def quiz_get_visible(*, user: AnyUser, pk: uuid.UUID) -> Quiz:
    """A quiz of a course the user can see (404 otherwise), with its lesson and course."""
    return get_object_or_404(_quizzes().filter(_visible_lessons_filter(user, "lesson__")), pk=pk)


def quiz_get_for_lesson(*, lesson: Lesson) -> Quiz:
    return get_object_or_404(_quizzes(), lesson=lesson)


def _quizzes() -> QuerySet[Quiz]:
    """Quizzes with their lesson and course, and `question_count`."""
    return Quiz.objects.select_related("lesson__module__course").annotate(
        question_count=Count("questions")
    )


def question_list(*, quiz: Quiz) -> QuerySet[Question]:
    """The quiz's questions in order with their choices (the answer key: managers only)."""
    return (
        Question.objects.filter(quiz=quiz)
        .order_by("position")
        .prefetch_related(Prefetch("choices", queryset=Choice.objects.order_by("position")))
    )


def question_get_visible(*, user: AnyUser, pk: uuid.UUID) -> Question:
    questions = (
        Question.objects.select_related("quiz__lesson__module__course")
        .prefetch_related(Prefetch("choices", queryset=Choice.objects.order_by("position")))
        .filter(_visible_lessons_filter(user, "quiz__lesson__"))
    )
    return get_object_or_404(questions, pk=pk)


# --- Attempts -----------------------------------------------------------------------------


def attempt_get_visible(*, user: AnyUser, pk: uuid.UUID) -> Attempt:
    """The learner's own attempt; the course's managers see any. 404 for everyone else."""
    attempt = get_object_or_404(
        Attempt.objects.select_related("quiz__lesson__module__course", "user"), pk=pk
    )
    if attempt.user_id == user.pk or user_can_manage_course(
        user=user, course=_course_of(attempt.quiz)
    ):
        return attempt
    raise Http404


def attempt_list(*, quiz: Quiz, user: AnyUser) -> QuerySet[Attempt]:
    """Every attempt for the course's managers; the caller's own for anyone else."""
    attempts = Attempt.objects.filter(quiz=quiz).select_related("user").order_by("-started_at")
    if user_can_manage_course(user=user, course=_course_of(quiz)):
        return attempts
    if not isinstance(user, User):
        return attempts.none()
    return attempts.filter(user_id=user.pk)


@dataclass(frozen=True)
class AttemptView:
    """An attempt with what its output needs: questions in the attempt's order (choices in
    the attempt's order), the saved answers by question id, and whether to reveal the key."""

    attempt: Attempt
    questions: list[Question]
    choices: dict[uuid.UUID, list[Choice]]
    answers: dict[uuid.UUID, Answer]
    reveal: bool


def attempt_reveals_answers(*, attempt: Attempt, user: AnyUser) -> bool:
    """Correct answers and explanations: always for managers; for the learner only once the
    attempt is graded and the quiz's policy allows it."""
    quiz = attempt.quiz
    if user_can_manage_course(user=user, course=_course_of(quiz)):
        return True
    if not attempt.is_graded or quiz.show_correct_answers == Quiz.ShowAnswers.NEVER:
        return False
    if quiz.show_correct_answers == Quiz.ShowAnswers.AFTER_SUBMIT:
        return True
    return bool(
        attempt.passed
        or Attempt.objects.filter(quiz=quiz, user_id=attempt.user_id, passed=True).exists()
    )


def attempt_view(*, attempt: Attempt, user: AnyUser) -> AttemptView:
    """Everything the attempt's output shows, in a fixed number of queries."""
    questions = Question.objects.filter(pk__in=attempt.question_order).prefetch_related("choices")
    by_id = {str(question.pk): question for question in questions}
    ordered = [by_id[pk] for pk in attempt.question_order if pk in by_id]
    choices = {}
    for question in ordered:
        choice_by_id = {str(choice.pk): choice for choice in question.choices.all()}
        order = attempt.choice_order.get(str(question.pk), [])
        choices[question.pk] = [choice_by_id[pk] for pk in order if pk in choice_by_id]
    answers = {
        answer.question_id: answer
        for answer in Answer.objects.filter(attempt=attempt).prefetch_related("selected_choices")
    }
    return AttemptView(
        attempt=attempt,
        questions=ordered,
        choices=choices,
        answers=answers,
        reveal=attempt_reveals_answers(attempt=attempt, user=user),
    )


def learner_attempt_summary(*, quiz: Quiz, user: AnyUser) -> dict[str, Any]:
    """For the quiz's page: how many attempts the caller used and the open one, if any."""
    if not user.is_authenticated:
        return {"attempts_used": 0, "open_attempt": None, "passed": False}
    summary = Attempt.objects.filter(quiz=quiz, user_id=user.pk).aggregate(
        used=Count("pk"),
        passed=Count("pk", filter=Q(passed=True)),
    )
    open_attempt = (
        Attempt.objects.filter(quiz=quiz, user_id=user.pk, status=Attempt.Status.IN_PROGRESS)
        .values_list("pk", flat=True)
        .first()
    )
    return {
        "attempts_used": summary["used"],
        "open_attempt": open_attempt,
        "passed": summary["passed"] > 0,
    }


# --- Statistics ---------------------------------------------------------------------------


def _median(graded: QuerySet[Attempt], count: int) -> Decimal | None:
    """The median score from at most two rows of the ordered scores (any database)."""
    if not count:
        return None
    low, high = (count - 1) // 2, count // 2
    middle = [
        Decimal(score)
        for score in graded.order_by("score_percent").values_list("score_percent", flat=True)[
            low : high + 1
        ]
        if score is not None
    ]
    return (sum(middle, Decimal(0)) / len(middle)).quantize(Decimal("0.01"))


def quiz_statistics(*, quiz: Quiz) -> dict[str, Any]:
    """Graded attempts, average and median score, pass rate, per-question percent correct
    and choice distribution. Five aggregate queries whatever the number of attempts."""
    graded = Attempt.objects.filter(quiz=quiz, status__in=Attempt.GRADED)
    totals = graded.aggregate(
        attempts=Count("pk"),
        learners=Count("user", distinct=True),
        average=Avg("score_percent"),
        passed=Count("pk", filter=Q(passed=True)),
    )
    attempts = totals["attempts"]
    graded_answers = Q(answers__attempt__status__in=Attempt.GRADED)
    questions = (
        Question.objects.filter(quiz=quiz)
        .order_by("position")
        .annotate(
            answered=Count("answers", filter=graded_answers),
            correct=Count("answers", filter=graded_answers & Q(answers__is_correct=True)),
            average_points=Avg("answers__points_awarded", filter=graded_answers),
            true_count=Count("answers", filter=graded_answers & Q(answers__boolean_response=True)),
            false_count=Count(
                "answers", filter=graded_answers & Q(answers__boolean_response=False)
            ),
        )
    )
    distribution: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for choice in (
        Choice.objects.filter(question__quiz=quiz)
        .order_by("question_id", "position")
        .annotate(
            picks=Count("selections", filter=Q(selections__attempt__status__in=Attempt.GRADED))
        )
        .values("id", "question_id", "text", "is_correct", "picks")
    ):
        distribution.setdefault(choice["question_id"], []).append(
            {key: choice[key] for key in ("id", "text", "is_correct", "picks")}
        )
    question_rows = []
    for question in questions:
        row: dict[str, Any] = {
            "id": question.pk,
            "position": question.position,
            "kind": question.kind,
            "text": question.text,
            "points": question.points,
            "answered": question.answered,
            "percent_correct": _percent(question.correct, question.answered),
            "average_points": _rounded(question.average_points),
            "choices": distribution.get(question.pk, []),
        }
        if question.kind == Question.Kind.TRUE_FALSE:
            row["choices"] = [
                {
                    "id": None,
                    "text": "True",
                    "is_correct": question.correct_boolean is True,
                    "picks": question.true_count,
                },
                {
                    "id": None,
                    "text": "False",
                    "is_correct": question.correct_boolean is False,
                    "picks": question.false_count,
                },
            ]
        question_rows.append(row)
    return {
        "quiz": quiz.pk,
        "attempts": attempts,
        "learners": totals["learners"],
        "average_score": _rounded(totals["average"]),
        "median_score": _median(graded, attempts),
        "pass_rate": _percent(totals["passed"], attempts),
        "questions": question_rows,
    }


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"))


def _rounded(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(Decimal("0.01"))


def course_quiz_averages(course: Course) -> dict[str, Any]:
    """The `quizzes` section of the course analytics: per quiz attempts, average score and
    pass rate, in one aggregate query."""
    graded = Q(attempts__status__in=Attempt.GRADED)
    rows = (
        Quiz.objects.filter(lesson__module__course=course)
        .order_by("lesson__module__position", "lesson__position")
        .annotate(
            attempt_count=Count("attempts", filter=graded),
            average=Avg("attempts__score_percent", filter=graded),
            passed_count=Count("attempts", filter=graded & Q(attempts__passed=True)),
        )
        .values("id", "lesson_id", "lesson__title", "attempt_count", "average", "passed_count")
    )
    return {
        "quizzes": [
            {
                "id": str(row["id"]),
                "lesson": str(row["lesson_id"]),
                "title": row["lesson__title"],
                "attempts": row["attempt_count"],
                "average_score": None
                if row["average"] is None
                else round(float(row["average"]), 2),
                "pass_rate": round(row["passed_count"] / row["attempt_count"], 4)
                if row["attempt_count"]
                else None,
            }
            for row in rows
        ]
    }


# --- Completion requirement ---------------------------------------------------------------


def enrollment_assessments_passed(enrollment: Enrollment) -> bool:
    """The completion requirement registered with enrollments: every required quiz lesson's
    quiz passed at least once, and every required assignment lesson's assignment graded with
    at least its passing points. Two queries."""
    required = {
        "lesson__module__course_id": enrollment.course_id,
        "lesson__is_required": True,
    }
    passed_attempt = Attempt.objects.filter(
        quiz=OuterRef("pk"), user_id=enrollment.user_id, passed=True
    )
    if (
        Quiz.objects.filter(lesson__kind=Lesson.Kind.QUIZ, **required)
        .exclude(Exists(passed_attempt))
        .exists()
    ):
        return False
    passing_grade = Submission.objects.filter(
        assignment=OuterRef("pk"),
        user_id=enrollment.user_id,
        status=Submission.Status.GRADED,
        points__gte=OuterRef("passing_points"),
    )
    return not (
        Assignment.objects.filter(lesson__kind=Lesson.Kind.ASSIGNMENT, **required)
        .exclude(Exists(passing_grade))
        .exists()
    )


# --- Assignments and submissions ----------------------------------------------------------


def assignment_get_visible(*, user: AnyUser, pk: uuid.UUID) -> Assignment:
    assignments = Assignment.objects.select_related("lesson__module__course").filter(
        _visible_lessons_filter(user, "lesson__")
    )
    return get_object_or_404(assignments, pk=pk)


def assignment_get_for_lesson(*, lesson: Lesson) -> Assignment:
    return get_object_or_404(
        Assignment.objects.select_related("lesson__module__course"), lesson=lesson
    )


def _submissions() -> QuerySet[Submission]:
    return Submission.objects.select_related("user", "assignment").prefetch_related(
        Prefetch("files", queryset=SubmissionFile.objects.order_by("created_at"))
    )


def submission_list(*, assignment: Assignment, user: AnyUser) -> QuerySet[Submission]:
    """Every submission for the course's managers; the caller's own for anyone else."""
    submissions = _submissions().filter(assignment=assignment).order_by("-submitted_at", "pk")
    if user_can_manage_course(user=user, course=_course_of(assignment)):
        return submissions
    if not isinstance(user, User):
        return submissions.none()
    return submissions.filter(user_id=user.pk)


def submission_get_visible(*, user: AnyUser, pk: uuid.UUID) -> Submission:
    """The learner's own submission; the course's managers see any. 404 for everyone else."""
    submission = get_object_or_404(
        _submissions().select_related("assignment__lesson__module__course"), pk=pk
    )
    if submission.user_id == user.pk or user_can_manage_course(
        user=user, course=_course_of(submission.assignment)
    ):
        return submission
    raise Http404


def submission_file_get_readable(*, user: AnyUser, pk: uuid.UUID) -> SubmissionFile:
    """A submission file for its learner and the course's managers; 404 for anyone else."""
    stored = get_object_or_404(
        SubmissionFile.objects.select_related("submission__assignment__lesson__module__course"),
        pk=pk,
    )
    submission = stored.submission
    if submission.user_id == user.pk or user_can_manage_course(
        user=user, course=_course_of(submission.assignment)
    ):
        return stored
    raise Http404


# --- Gradebook ----------------------------------------------------------------------------


def gradebook_columns(*, course: Course) -> tuple[list[Quiz], list[Assignment]]:
    """The course's quizzes and assignments in reading order (two queries)."""
    order = ("lesson__module__position", "lesson__position")
    quizzes = list(
        Quiz.objects.filter(lesson__module__course=course).select_related("lesson").order_by(*order)
    )
    assignments = list(
        Assignment.objects.filter(lesson__module__course=course)
        .select_related("lesson")
        .order_by(*order)
    )
    return quizzes, assignments


def gradebook_enrollments(*, course: Course) -> QuerySet[Enrollment]:
    """The learners in the gradebook: current enrolments (active or completed), by name."""
    return (
        Enrollment.objects.filter(course=course, status__in=Enrollment.HOLDS_SEAT)
        .select_related("user")
        .order_by("user__full_name", "user__email", "pk")
    )


def gradebook_rows(
    *, enrollments: list[Enrollment], quizzes: list[Quiz], assignments: list[Assignment]
) -> list[dict[str, Any]]:
    """Per learner: each quiz's kept score (by the quiz's best/last policy), whether it was
    ever passed and the attempts used; each assignment's status, points and pass; progress.
    Two queries whatever the number of learners."""
    user_ids = [enrollment.user_id for enrollment in enrollments]
    attempt_rows = Attempt.objects.filter(
        quiz__in=quizzes, user_id__in=user_ids, status__in=Attempt.GRADED
    ).values("quiz_id", "user_id", "number", "score_percent", "passed")
    kept: dict[tuple[uuid.UUID, uuid.UUID], dict[str, Any]] = {}
    policies = {quiz.pk: quiz.score_policy for quiz in quizzes}
    for row in attempt_rows:
        key = (row["quiz_id"], row["user_id"])
        entry = kept.setdefault(key, {"score": None, "number": 0, "passed": False, "attempts": 0})
        entry["attempts"] += 1
        entry["passed"] = entry["passed"] or bool(row["passed"])
        if policies[row["quiz_id"]] == Quiz.ScorePolicy.LAST:
            if row["number"] > entry["number"]:
                entry["score"], entry["number"] = row["score_percent"], row["number"]
        elif entry["score"] is None or row["score_percent"] > entry["score"]:
            entry["score"] = row["score_percent"]
    submissions = {
        (row["assignment_id"], row["user_id"]): row
        for row in Submission.objects.filter(
            assignment__in=assignments, user_id__in=user_ids
        ).values("assignment_id", "user_id", "status", "points", "is_late")
    }
    rows = []
    for enrollment in enrollments:
        user: User = enrollment.user
        quiz_cells = []
        for quiz in quizzes:
            cell = kept.get((quiz.pk, user.pk))
            quiz_cells.append(
                {
                    "quiz": quiz.pk,
                    "score": cell["score"] if cell else None,
                    "passed": cell["passed"] if cell else False,
                    "attempts": cell["attempts"] if cell else 0,
                }
            )
        assignment_cells = []
        for assignment in assignments:
            submission = submissions.get((assignment.pk, user.pk))
            points = submission["points"] if submission else None
            graded = submission is not None and submission["status"] == Submission.Status.GRADED
            assignment_cells.append(
                {
                    "assignment": assignment.pk,
                    "status": submission["status"] if submission else None,
                    "points": points,
                    "is_late": submission["is_late"] if submission else False,
                    "passed": (
                        points >= assignment.passing_points
                        if graded and points is not None
                        else None
                    ),
                }
            )
        rows.append(
            {
                "user": {"id": user.pk, "email": user.email, "full_name": user.full_name},
                "enrollment": enrollment.pk,
                "status": enrollment.status,
                "progress_percent": enrollment.progress_percent,
                "quizzes": quiz_cells,
                "assignments": assignment_cells,
            }
        )
    return rows


def gradebook_csv_rows(
    *, rows: list[dict[str, Any]], quizzes: list[Quiz], assignments: list[Assignment]
) -> list[dict[str, Any]]:
    """The gradebook flattened for CSV: one column per quiz score and assignment grade."""
    flat = []
    for row in rows:
        line: dict[str, Any] = {
            "email": row["user"]["email"],
            "full_name": row["user"]["full_name"],
            "status": row["status"],
            "progress_percent": row["progress_percent"],
        }
        for index, (quiz, cell) in enumerate(zip(quizzes, row["quizzes"], strict=True), 1):
            line[f"quiz {index}: {quiz.lesson.title}"] = (
                "" if cell["score"] is None else cell["score"]
            )
        for index, (assignment, cell) in enumerate(
            zip(assignments, row["assignments"], strict=True), 1
        ):
            line[f"assignment {index}: {assignment.lesson.title}"] = (
                "" if cell["points"] is None else cell["points"]
            )
        flat.append(line)
    return flat
