"""Every write of quizzes, attempts, assignments and submissions.

Lock order, the same everywhere so that concurrent requests serialise instead of
deadlocking: the course row (authoring only), then the learner's enrolment row, then the
attempt or submission row. Attempt starts lock the learner's enrolment, so one learner's
concurrent starts run one at a time while different learners never wait for each other.
"""

import random
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Max, Model
from django.utils import timezone

from accounts.models import User
from assessments import grading
from assessments.errors import (
    AssignmentExists,
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
from courses.errors import LessonLocked, NotEnrolled
from courses.models import Lesson
from courses.selectors import course_get_for_update
from enrollments.models import Enrollment
from enrollments.services import lesson_complete
from lms import events
from lms.mail import send_templated_email
from lms.uploads import ValidatedUpload, private_storage, validate_upload

QUIZ_EDITABLE_FIELDS = (
    "time_limit_seconds",
    "max_attempts",
    "passing_score_percent",
    "shuffle_questions",
    "shuffle_choices",
    "show_correct_answers",
    "available_from",
    "available_until",
    "score_policy",
)
QUESTION_EDITABLE_FIELDS = (
    "kind",
    "text",
    "points",
    "explanation",
    "partial_credit",
    "correct_boolean",
    "accepted_answers",
    "numeric_value",
    "numeric_tolerance",
)
ASSIGNMENT_EDITABLE_FIELDS = (
    "instructions",
    "due_at",
    "max_points",
    "passing_points",
    "late_policy",
    "allowed_extensions",
    "max_file_bytes",
    "max_files",
)
MAX_FILES_LIMIT = 20


def _model_update(instance: Model, *, fields: Iterable[str], data: dict[str, Any]) -> set[str]:
    """Set the given fields from data, validate, save only what changed; return what changed."""
    changed = {name for name in fields if name in data and getattr(instance, name) != data[name]}
    for name in changed:
        setattr(instance, name, data[name])
    if changed:
        instance.full_clean()
        instance.save(update_fields=[*changed, "updated_at"])
    return changed


def _learner_enrollment_for_update(*, user: User, course_id: uuid.UUID) -> Enrollment | None:
    """Lock the learner's enrolment row in any status (None if there never was one)."""
    return Enrollment.objects.select_for_update().filter(user=user, course_id=course_id).first()


def _check_lesson_open(*, lesson: Lesson, enrollment: Enrollment | None, now: datetime) -> None:
    if enrollment is None or not enrollment.is_active:
        raise NotEnrolled()
    unlocks_at = lesson.unlocks_at(enrollment.enrolled_at)
    if unlocks_at and unlocks_at > now:
        raise LessonLocked(unlocks_at=unlocks_at)


def _record_pass(*, user: User, lesson: Lesson) -> None:
    """A passed quiz or a passing grade completes its lesson for the learner.

    lesson_complete moves the stored progress and re-checks course completion (the
    registered requirement then sees this pass) under the enrolment lock, which every caller
    here already holds or takes in the same order. A learner no longer enrolled, or a lesson
    locked again since, keeps the grade without progress.
    """
    try:
        lesson_complete(user=user, lesson=lesson)
    except (NotEnrolled, LessonLocked):
        return


# --- Quizzes and questions ----------------------------------------------------------------


@transaction.atomic
def quiz_create(*, lesson: Lesson, **fields: Any) -> Quiz:
    """The quiz of a quiz lesson (409 `quiz_exists` if it has one)."""
    if lesson.kind != Lesson.Kind.QUIZ:
        raise WrongLessonKind(expected=Lesson.Kind.QUIZ)
    course_get_for_update(pk=lesson.module.course_id)
    if Quiz.objects.filter(lesson=lesson).exists():
        raise QuizExists()
    quiz = Quiz(lesson=lesson, **fields)
    quiz.full_clean()
    quiz.save()
    return quiz


@transaction.atomic
def quiz_update(*, quiz: Quiz, data: dict[str, Any]) -> Quiz:
    quiz = (
        Quiz.objects.select_for_update(of=("self",))
        .select_related("lesson__module")
        .get(pk=quiz.pk)
    )
    _model_update(quiz, fields=QUIZ_EDITABLE_FIELDS, data=data)
    return quiz


def question_keep_kind_fields(question: Question) -> None:
    """Keep only the answer key of the question's kind, so no stale key lingers."""
    if question.kind != Question.Kind.MULTIPLE_CHOICE:
        question.partial_credit = False
    if question.kind != Question.Kind.TRUE_FALSE:
        question.correct_boolean = None
    if question.kind != Question.Kind.SHORT_TEXT:
        question.accepted_answers = []
    if question.kind != Question.Kind.NUMERIC:
        question.numeric_value = None
        question.numeric_tolerance = Decimal(0)


def question_problems(
    question: Question, choices: Sequence[dict[str, Any]]
) -> dict[str, list[str]]:
    """Whether the question can be graded: its answer key fits its kind. Field -> messages.

    `choices` are the question's choices as dicts with `text` and `is_correct`.
    """
    problems: dict[str, list[str]] = {}
    kind = question.kind
    if kind in Question.CHOICE_KINDS:
        correct = sum(1 for choice in choices if choice.get("is_correct"))
        if len(choices) < 2:
            problems["choices"] = ["A choice question needs at least two choices."]
        elif kind == Question.Kind.SINGLE_CHOICE and correct != 1:
            problems["choices"] = ["A single-choice question needs exactly one correct choice."]
        elif kind == Question.Kind.MULTIPLE_CHOICE and correct < 1:
            problems["choices"] = ["A multiple-choice question needs at least one correct choice."]
        if any(not str(choice.get("text", "")).strip() for choice in choices):
            problems.setdefault("choices", []).append("Every choice needs a text.")
    elif choices:
        problems["choices"] = ["Only choice questions have choices."]
    if kind == Question.Kind.TRUE_FALSE and question.correct_boolean is None:
        problems["correct_boolean"] = ["Say whether the statement is true or false."]
    if kind == Question.Kind.SHORT_TEXT:
        answers = question.accepted_answers
        if (
            not isinstance(answers, list)
            or not answers
            or any(
                not isinstance(answer, str) or not grading.normalize_text(answer)
                for answer in answers
            )
        ):
            problems["accepted_answers"] = ["List at least one accepted answer, none blank."]
    if kind == Question.Kind.NUMERIC and question.numeric_value is None:
        problems["numeric_value"] = ["A numeric question needs the correct value."]
    return problems


def _save_choices(question: Question, choices: Sequence[dict[str, Any]]) -> None:
    """Make the question's choices exactly `choices` (in order): items with the `id` of one
    of its choices update it, the others are new; choices not listed are deleted."""
    existing = {choice.pk: choice for choice in Choice.objects.filter(question=question)}
    saved = []
    for position, data in enumerate(choices, start=1):
        choice_id = data.get("id")
        if choice_id is None:
            choice = Choice(question=question)
        else:
            choice_id = uuid.UUID(str(choice_id))
            if choice_id not in existing:
                raise ValidationError(
                    {"choices": [f"{choice_id} is not a choice of this question."]}, code="invalid"
                )
            choice = existing[choice_id]
        choice.text = data["text"]
        choice.is_correct = bool(data.get("is_correct", False))
        choice.position = position
        choice.full_clean(exclude=["question"])
        choice.save()
        saved.append(choice.pk)
    Choice.objects.filter(question=question).exclude(pk__in=saved).delete()


@transaction.atomic
def question_create(
    *,
    quiz: Quiz,
    kind: str,
    text: str,
    choices: Sequence[dict[str, Any]] = (),
    **fields: Any,
) -> Question:
    """Add a question at the end of the quiz; 400 if its answer key does not fit its kind."""
    quiz = Quiz.objects.select_for_update().get(pk=quiz.pk)
    last = Question.objects.filter(quiz=quiz).aggregate(last=Max("position"))["last"]
    question = Question(quiz=quiz, kind=kind, text=text, position=(last or 0) + 1, **fields)
    question_keep_kind_fields(question)
    question.full_clean()
    if problems := question_problems(question, choices):
        raise ValidationError(problems, code="invalid")
    if any(choice.get("id") for choice in choices):
        raise ValidationError({"choices": ["A new question's choices have no id."]}, code="invalid")
    question.save()
    _save_choices(question, choices)
    return question


@transaction.atomic
def question_update(*, question: Question, data: dict[str, Any]) -> Question:
    """Change a question; `choices` in data replaces its choices (see _save_choices)."""
    Quiz.objects.select_for_update().get(pk=question.quiz_id)
    question = Question.objects.get(pk=question.pk)
    for name in QUESTION_EDITABLE_FIELDS:
        if name in data:
            setattr(question, name, data[name])
    question_keep_kind_fields(question)
    question.full_clean()
    if "choices" in data:
        choices = list(data["choices"])
    elif question.kind in Question.CHOICE_KINDS:
        choices = [
            {"id": choice.pk, "text": choice.text, "is_correct": choice.is_correct}
            for choice in question.choices.all()
        ]
    else:
        choices = []
    if problems := question_problems(question, choices):
        raise ValidationError(problems, code="invalid")
    question.save()
    _save_choices(question, choices)
    return question


@transaction.atomic
def question_delete(*, question: Question) -> None:
    """Remove a question; graded attempts keep their stored scores."""
    Quiz.objects.select_for_update().get(pk=question.quiz_id)
    question.delete()


# --- Attempts -----------------------------------------------------------------------------


def _attempt_questions(attempt: Attempt) -> list[Question]:
    """The attempt's questions that still exist, in the attempt's order, with choices."""
    questions = Question.objects.filter(pk__in=attempt.question_order).prefetch_related("choices")
    by_id = {str(question.pk): question for question in questions}
    return [by_id[pk] for pk in attempt.question_order if pk in by_id]


def attempt_start(
    *, quiz: Quiz, user: User, now: datetime | None = None, rng: random.Random | None = None
) -> Attempt:
    """Start an attempt for an enrolled learner.

    Refused when the quiz is closed (409 `quiz_not_available`), another attempt is open
    (409 `attempt_in_progress`; one past its deadline is graded and closed first, and stays
    closed whatever happens next) or every attempt is used (409 `max_attempts_reached`). The
    learner's enrolment row is locked, so concurrent starts count exactly; unique constraints
    back the count and the single open attempt. The question order and each question's
    choice order are drawn now and stored.
    """
    now = now or timezone.now()
    expired = Attempt.objects.filter(
        quiz=quiz, user=user, status=Attempt.Status.IN_PROGRESS, deadline__lt=now
    ).values_list("pk", flat=True)
    for attempt_id in expired:
        attempt_close_if_expired(attempt_id=attempt_id, now=now)
    with transaction.atomic():
        return _attempt_create(quiz=quiz, user=user, now=now, rng=rng)


def _attempt_create(*, quiz: Quiz, user: User, now: datetime, rng: random.Random | None) -> Attempt:
    lesson = quiz.lesson
    enrollment = _learner_enrollment_for_update(user=user, course_id=lesson.module.course_id)
    _check_lesson_open(lesson=lesson, enrollment=enrollment, now=now)
    quiz = Quiz.objects.get(pk=quiz.pk)
    if not quiz.is_available(now):
        raise QuizNotAvailable()
    attempts = Attempt.objects.filter(quiz=quiz, user=user)
    open_attempt = attempts.filter(status=Attempt.Status.IN_PROGRESS).first()
    if open_attempt is not None:
        raise AttemptInProgress(attempt_id=open_attempt.pk)
    used = attempts.aggregate(last=Max("number"))["last"] or 0
    if quiz.max_attempts and used >= quiz.max_attempts:
        raise MaxAttemptsReached()
    questions = list(
        Question.objects.filter(quiz=quiz).order_by("position").prefetch_related("choices")
    )
    if not questions:
        raise QuizHasNoQuestions()
    shuffler = rng or secrets.SystemRandom()
    if quiz.shuffle_questions:
        shuffler.shuffle(questions)
    choice_order: dict[str, list[str]] = {}
    for question in questions:
        choice_ids = [str(choice.pk) for choice in question.choices.all()]
        if quiz.shuffle_choices:
            shuffler.shuffle(choice_ids)
        if choice_ids:
            choice_order[str(question.pk)] = choice_ids
    deadline = now + timedelta(seconds=quiz.time_limit_seconds) if quiz.time_limit_seconds else None
    if quiz.available_until and (deadline is None or deadline > quiz.available_until):
        deadline = quiz.available_until
    attempt = Attempt(
        quiz=quiz,
        user=user,
        number=used + 1,
        started_at=now,
        deadline=deadline,
        question_order=[str(question.pk) for question in questions],
        choice_order=choice_order,
    )
    attempt.full_clean(validate_constraints=False)
    attempt.save()
    return attempt


@dataclass(frozen=True)
class AnswerInput:
    """One answer as the API received it; which field counts depends on the question kind."""

    question: uuid.UUID
    choices: list[uuid.UUID] | None = None
    value: bool | None = None
    text: str | None = None
    number: Decimal | None = None
    has_value: bool = False
    has_number: bool = False


def _answer_fields(
    question: Question, answer: AnswerInput, attempt: Attempt, path: str
) -> tuple[dict[str, Any], list[uuid.UUID] | None, dict[str, list[str]]]:
    """(model fields, selected choice ids, problems) for one answer, checked against its kind."""
    kind = question.kind
    if kind in Question.CHOICE_KINDS:
        if answer.choices is None:
            return {}, None, {f"{path}.choices": ["Answer a choice question with `choices`."]}
        offered = set(attempt.choice_order.get(str(question.pk), []))
        picked = list(dict.fromkeys(answer.choices))
        if unknown := [str(pk) for pk in picked if str(pk) not in offered]:
            return (
                {},
                None,
                {f"{path}.choices": [f"Not a choice of this question: {', '.join(unknown)}."]},
            )
        if kind == Question.Kind.SINGLE_CHOICE and len(picked) > 1:
            return {}, None, {f"{path}.choices": ["Pick at most one choice."]}
        return {}, picked, {}
    if kind == Question.Kind.TRUE_FALSE:
        if not answer.has_value:
            return {}, None, {f"{path}.value": ["Answer a true/false question with `value`."]}
        return {"boolean_response": answer.value}, None, {}
    if kind == Question.Kind.SHORT_TEXT:
        if answer.text is None:
            return {}, None, {f"{path}.text": ["Answer a short-text question with `text`."]}
        return {"text_response": answer.text}, None, {}
    if not answer.has_number:
        return {}, None, {f"{path}.number": ["Answer a numeric question with `number`."]}
    return {"number_response": answer.number}, None, {}


def _attempt_for_learner_update(*, attempt: Attempt, user: User) -> Attempt:
    """Lock the attempt; only its learner may change it. Caller is in a transaction."""
    if attempt.user_id != user.pk:
        raise NotYourAttempt()
    locked = (
        Attempt.objects.select_for_update(of=("self",))
        .select_related("quiz__lesson__module", "user")
        .get(pk=attempt.pk)
    )
    if locked.status != Attempt.Status.IN_PROGRESS:
        raise AttemptClosed()
    return locked


@transaction.atomic
def attempt_save_answers(
    *, attempt: Attempt, user: User, answers: Sequence[AnswerInput], now: datetime | None = None
) -> Attempt:
    """Save (replace) the learner's answers to some of the attempt's questions.

    Every answer is checked against its question's kind and the attempt's own questions and
    choices before anything is written. After the deadline: 409 `attempt_expired`.
    """
    now = now or timezone.now()
    attempt = _attempt_for_learner_update(attempt=attempt, user=user)
    if attempt.deadline is not None and attempt.is_past_deadline(now):
        raise AttemptExpired(deadline=attempt.deadline)
    questions = {question.pk: question for question in _attempt_questions(attempt)}
    problems: dict[str, list[str]] = {}
    planned = []
    seen: set[uuid.UUID] = set()
    for index, answer in enumerate(answers):
        path = f"answers[{index}]"
        question = questions.get(answer.question)
        if question is None:
            problems[f"{path}.question"] = ["Not a question of this attempt."]
            continue
        if answer.question in seen:
            problems[f"{path}.question"] = ["This question is answered twice."]
            continue
        seen.add(answer.question)
        fields, choice_ids, answer_problems = _answer_fields(question, answer, attempt, path)
        problems |= answer_problems
        planned.append((question, fields, choice_ids))
    if problems:
        raise ValidationError(problems, code="invalid")
    for question, fields, choice_ids in planned:
        row, _ = Answer.objects.update_or_create(
            attempt=attempt, question=question, defaults=fields
        )
        if choice_ids is not None:
            row.selected_choices.set(Choice.objects.filter(question=question, pk__in=choice_ids))
    Attempt.objects.filter(pk=attempt.pk).update(updated_at=now)
    return attempt


def _grade_and_close(attempt: Attempt, *, lesson: Lesson, now: datetime) -> Attempt:
    """Grade the saved answers and close the attempt (expired when past its deadline).

    Caller holds the learner's enrolment lock (if any) and the attempt's lock, in that order.
    Every question of the attempt gets an answer row, empty if it was not answered, so the
    statistics count unanswered questions as wrong.
    """
    questions = _attempt_questions(attempt)
    answers = {
        answer.question_id: answer
        for answer in Answer.objects.filter(attempt=attempt).prefetch_related("selected_choices")
    }
    awarded = Decimal(0)
    max_points = 0
    to_update, to_create = [], []
    for question in questions:
        answer = answers.get(question.pk)
        correct = frozenset(choice.pk for choice in question.choices.all() if choice.is_correct)
        response = None
        if answer is not None:
            response = grading.Response(
                choice_ids=frozenset(choice.pk for choice in answer.selected_choices.all()),
                boolean=answer.boolean_response,
                text=answer.text_response,
                number=answer.number_response,
            )
        result = grading.grade(question, response, correct_choice_ids=correct)
        awarded += result.points
        max_points += question.points
        if answer is None:
            answer = Answer(attempt=attempt, question=question)
            to_create.append(answer)
        else:
            to_update.append(answer)
        answer.is_correct = result.is_correct
        answer.points_awarded = result.points
    Answer.objects.bulk_update(to_update, ["is_correct", "points_awarded"])
    Answer.objects.bulk_create(to_create)
    percent = grading.score_percent(awarded=awarded, max_points=max_points)
    attempt.score_points = awarded
    attempt.max_points = max_points
    attempt.score_percent = percent
    attempt.passed = max_points > 0 and percent >= attempt.quiz.passing_score_percent
    attempt.status = (
        Attempt.Status.EXPIRED if attempt.is_past_deadline(now) else Attempt.Status.SUBMITTED
    )
    attempt.submitted_at = now
    attempt.save(
        update_fields=[
            "score_points",
            "max_points",
            "score_percent",
            "passed",
            "status",
            "submitted_at",
            "updated_at",
        ]
    )
    if attempt.passed:
        _record_pass(user=attempt.user, lesson=lesson)
    return attempt


@transaction.atomic
def attempt_submit(*, attempt: Attempt, user: User, now: datetime | None = None) -> Attempt:
    """Grade the attempt on the server and close it; after the deadline what was saved before
    it is graded (status `expired`). A pass completes the quiz lesson for the learner."""
    now = now or timezone.now()
    if attempt.user_id != user.pk:
        raise NotYourAttempt()
    lesson = attempt.quiz.lesson
    _learner_enrollment_for_update(user=user, course_id=lesson.module.course_id)
    attempt = _attempt_for_learner_update(attempt=attempt, user=user)
    return _grade_and_close(attempt, lesson=lesson, now=now)


@transaction.atomic
def attempt_close_if_expired(*, attempt_id: uuid.UUID, now: datetime | None = None) -> bool:
    """Grade and close one open attempt whose deadline passed; False if there is nothing to do."""
    now = now or timezone.now()
    attempt = (
        Attempt.objects.select_related("quiz__lesson__module", "user").filter(pk=attempt_id).first()
    )
    if attempt is None:
        return False
    lesson = attempt.quiz.lesson
    _learner_enrollment_for_update(user=attempt.user, course_id=lesson.module.course_id)
    attempt = (
        Attempt.objects.select_for_update(of=("self",))
        .select_related("quiz", "user")
        .get(pk=attempt_id)
    )
    if attempt.status != Attempt.Status.IN_PROGRESS or not attempt.is_past_deadline(now):
        return False
    _grade_and_close(attempt, lesson=lesson, now=now)
    return True


def attempt_close_expired(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Close up to `batch_size` expired open attempts, each in its own transaction."""
    now = now or timezone.now()
    expired = list(
        Attempt.objects.filter(status=Attempt.Status.IN_PROGRESS, deadline__lt=now)
        .order_by("deadline")
        .values_list("pk", flat=True)[:batch_size]
    )
    return sum(attempt_close_if_expired(attempt_id=pk, now=now) for pk in expired)


# --- Assignments and submissions ----------------------------------------------------------


def _check_assignment_limits(assignment: Assignment) -> None:
    problems: dict[str, list[str]] = {}
    known = {extension.lower() for extension in settings.UPLOADS_ALLOWED_EXTENSIONS}
    extensions = assignment.allowed_extensions
    if not isinstance(extensions, list) or any(not isinstance(item, str) for item in extensions):
        problems["allowed_extensions"] = ["Expected a list of file extensions."]
    elif unknown := sorted({item.lower().lstrip(".") for item in extensions} - known):
        problems["allowed_extensions"] = [
            f"Not accepted on this server: {', '.join(unknown)} "
            f"(allowed: {', '.join(sorted(known))})."
        ]
    if assignment.max_file_bytes < 1 or assignment.max_file_bytes > settings.UPLOADS_MAX_BYTES:
        problems["max_file_bytes"] = [
            f"Between 1 and {settings.UPLOADS_MAX_BYTES} bytes (UPLOADS_MAX_BYTES)."
        ]
    if assignment.max_files > MAX_FILES_LIMIT:
        problems["max_files"] = [f"At most {MAX_FILES_LIMIT}."]
    if problems:
        raise ValidationError(problems, code="invalid")
    assignment.allowed_extensions = sorted({item.lower().lstrip(".") for item in extensions})


@transaction.atomic
def assignment_create(*, lesson: Lesson, **fields: Any) -> Assignment:
    """The assignment of an assignment lesson (409 `assignment_exists` if it has one)."""
    if lesson.kind != Lesson.Kind.ASSIGNMENT:
        raise WrongLessonKind(expected=Lesson.Kind.ASSIGNMENT)
    course_get_for_update(pk=lesson.module.course_id)
    if Assignment.objects.filter(lesson=lesson).exists():
        raise AssignmentExists()
    assignment = Assignment(lesson=lesson, **fields)
    assignment.full_clean()
    _check_assignment_limits(assignment)
    assignment.save()
    return assignment


@transaction.atomic
def assignment_update(*, assignment: Assignment, data: dict[str, Any]) -> Assignment:
    assignment = (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("lesson__module")
        .get(pk=assignment.pk)
    )
    for name in ASSIGNMENT_EDITABLE_FIELDS:
        if name in data:
            setattr(assignment, name, data[name])
    assignment.full_clean()
    _check_assignment_limits(assignment)
    assignment.save()
    return assignment


def _delete_files_after_commit(names: list[str]) -> None:
    storage = private_storage()
    for name in names:
        transaction.on_commit(partial(storage.delete, name))


@transaction.atomic
def submission_submit(
    *,
    assignment: Assignment,
    user: User,
    text: str = "",
    files: Sequence[UploadedFile] = (),
    now: datetime | None = None,
) -> Submission:
    """Submit (or, until it is graded, resubmit) a learner's work: text and/or files.

    Every file passes lms.uploads.validate_upload with the assignment's extensions and size
    before anything is stored. A resubmission replaces the text and all files and clears a
    returned grade. After the due date the work is flagged late, or refused (409
    `assignment_past_due`) by the assignment's late policy.
    """
    now = now or timezone.now()
    lesson = assignment.lesson
    enrollment = Enrollment.objects.filter(user=user, course_id=lesson.module.course_id).first()
    _check_lesson_open(lesson=lesson, enrollment=enrollment, now=now)
    if not text.strip() and not files:
        raise SubmissionEmpty()
    if len(files) > assignment.max_files:
        raise TooManyFiles(limit=assignment.max_files)
    max_bytes = min(assignment.max_file_bytes, settings.UPLOADS_MAX_BYTES)
    checked: list[ValidatedUpload] = [
        validate_upload(
            file,
            allowed_extensions=assignment.allowed_extensions,
            max_bytes=max_bytes,
            field=f"files[{index}]",
        )
        for index, file in enumerate(files)
    ]
    is_late = assignment.due_at is not None and now > assignment.due_at
    if is_late and assignment.late_policy == Assignment.LatePolicy.REFUSE:
        raise AssignmentPastDue()
    submission = _submission_for_update(assignment=assignment, user=user, now=now)
    if submission.status == Submission.Status.GRADED:
        raise SubmissionGraded()
    old_names = list(submission.files.values_list("file", flat=True))
    submission.files.all().delete()
    _delete_files_after_commit(old_names)
    submission.text = text
    submission.status = Submission.Status.SUBMITTED
    submission.is_late = is_late
    submission.submitted_at = now
    submission.points = None
    submission.save()
    for file, info in zip(files, checked, strict=True):
        stored = SubmissionFile(
            submission=submission,
            original_name=info.display_name,
            size=info.size,
            content_type=info.content_type,
        )
        # upload_to makes the stored name; only the validated extension is kept from this.
        stored.file.save(f"upload.{info.extension}", file, save=False)
        stored.save()
    return submission


def _submission_for_update(*, assignment: Assignment, user: User, now: datetime) -> Submission:
    """The learner's locked submission row, created if there is none (race-safe)."""
    submission = (
        Submission.objects.select_for_update().filter(assignment=assignment, user=user).first()
    )
    if submission is not None:
        return submission
    try:
        with transaction.atomic():
            return Submission.objects.create(assignment=assignment, user=user, submitted_at=now)
    except IntegrityError:
        # A concurrent first submission won the unique (assignment, user) row: use it.
        return Submission.objects.select_for_update().get(assignment=assignment, user=user)


@transaction.atomic
def submission_grade(
    *, submission: Submission, grader: User, points: Decimal, feedback: str = "", status: str
) -> Submission:
    """Grade a submission (graded: final; returned: the learner may resubmit) and email the
    learner after the commit. A passing final grade completes the assignment lesson."""
    if status not in (Submission.Status.GRADED, Submission.Status.RETURNED):
        raise ValidationError({"status": ["Expected graded or returned."]}, code="invalid")
    submission = (
        Submission.objects.select_for_update(of=("self",))
        .select_related("assignment__lesson__module__course", "user")
        .get(pk=submission.pk)
    )
    assignment = submission.assignment
    if points < 0 or points > assignment.max_points:
        raise PointsOutOfRange(max_points=assignment.max_points)
    submission.points = points
    submission.feedback = feedback
    submission.status = status
    submission.graded_by = grader
    submission.graded_at = timezone.now()
    submission.save(
        update_fields=["points", "feedback", "status", "graded_by", "graded_at", "updated_at"]
    )
    lesson = assignment.lesson
    course = lesson.module.course
    student = submission.user
    passed = points >= assignment.passing_points
    send_templated_email(
        to=[student.email],
        subject=f"Your work for “{lesson.title}” was {status}",
        template="assignment_graded",
        context={
            "full_name": student.full_name,
            "course_title": course.title,
            "lesson_title": lesson.title,
            "status": status,
            "points": points,
            "max_points": assignment.max_points,
            "passed": passed,
            "feedback": feedback,
            "course_url": f"{settings.SITE_URL}/courses/{course.slug}/",
        },
    )
    if status == Submission.Status.GRADED:
        events.publish(
            events.SUBMISSION_GRADED,
            {
                "submission_id": submission.pk,
                "assignment_id": assignment.pk,
                "lesson_id": lesson.pk,
                "user_id": student.pk,
                "course_id": course.pk,
                "course_slug": course.slug,
                "points": str(points),
                "max_points": assignment.max_points,
                "is_passing": passed,
                "graded_at": submission.graded_at,
            },
        )
    if status == Submission.Status.GRADED and passed:
        _record_pass(user=student, lesson=lesson)
    return submission
