"""Quizzes (with questions and choices) and assignments in course packages.

Registered with courses.packages from AssessmentsConfig.ready(): a quiz lesson's package
entry gets a `quiz` key, an assignment lesson's an `assignment` key:

    "quiz": {"time_limit_seconds": 600, "max_attempts": 3, "passing_score_percent": 70, ...,
             "questions": [{"kind": "single_choice", "text": ..., "points": 1,
                            "choices": [{"text": ..., "is_correct": true}, ...]}, ...]}
    "assignment": {"instructions": ..., "due_at": null, "max_points": 100, ...}

Numeric values travel as strings ("3.14") so that no precision is lost; times as ISO 8601.
Attempts and submissions (learner data) are never exported.
"""

import uuid
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.dateparse import parse_datetime

from assessments import services
from assessments.models import Assignment, Choice, Question, Quiz
from courses.errors import PackageInvalid
from courses.models import Lesson
from courses.packages import LessonExtension, Problems, register_lesson_extension

# key -> (JSON kind, nullable)
QUIZ_KEYS: dict[str, tuple[type, bool]] = {
    "time_limit_seconds": (int, True),
    "max_attempts": (int, False),
    "passing_score_percent": (int, False),
    "shuffle_questions": (bool, False),
    "shuffle_choices": (bool, False),
    "show_correct_answers": (str, False),
    "available_from": (datetime, True),
    "available_until": (datetime, True),
    "score_policy": (str, False),
}
QUESTION_KEYS: dict[str, tuple[type, bool]] = {
    "kind": (str, False),
    "text": (str, False),
    "points": (int, False),
    "explanation": (str, False),
    "partial_credit": (bool, False),
    "correct_boolean": (bool, True),
    "accepted_answers": (list, False),
    "numeric_value": (Decimal, True),
    "numeric_tolerance": (Decimal, False),
}
CHOICE_KEYS: dict[str, tuple[type, bool]] = {"text": (str, False), "is_correct": (bool, False)}
ASSIGNMENT_KEYS: dict[str, tuple[type, bool]] = {
    "instructions": (str, False),
    "due_at": (datetime, True),
    "max_points": (int, False),
    "passing_points": (int, False),
    "late_policy": (str, False),
    "allowed_extensions": (list, False),
    "max_file_bytes": (int, False),
    "max_files": (int, False),
}


def _text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


# --- Export -------------------------------------------------------------------------------


def export_quizzes(lessons: list[Lesson]) -> dict[uuid.UUID, Any]:
    quiz_lessons = [lesson.pk for lesson in lessons if lesson.kind == Lesson.Kind.QUIZ]
    if not quiz_lessons:
        return {}
    quizzes = Quiz.objects.filter(lesson_id__in=quiz_lessons).prefetch_related("questions__choices")
    return {
        quiz.lesson_id: {
            **{key: _text(getattr(quiz, key)) for key in QUIZ_KEYS},
            "questions": [
                {
                    **{key: _text(getattr(question, key)) for key in QUESTION_KEYS},
                    "choices": [
                        {"text": choice.text, "is_correct": choice.is_correct}
                        for choice in sorted(question.choices.all(), key=lambda c: c.position)
                    ],
                }
                for question in sorted(quiz.questions.all(), key=lambda q: q.position)
            ],
        }
        for quiz in quizzes
    }


def export_assignments(lessons: list[Lesson]) -> dict[uuid.UUID, Any]:
    assignment_lessons = [lesson.pk for lesson in lessons if lesson.kind == Lesson.Kind.ASSIGNMENT]
    if not assignment_lessons:
        return {}
    return {
        assignment.lesson_id: {key: _text(getattr(assignment, key)) for key in ASSIGNMENT_KEYS}
        for assignment in Assignment.objects.filter(lesson_id__in=assignment_lessons)
    }


# --- Validation ---------------------------------------------------------------------------


def _converted(value: Any, kind: type) -> tuple[bool, Any]:
    if kind is datetime:
        parsed = parse_datetime(value) if isinstance(value, str) else None
        return (parsed is not None and parsed.tzinfo is not None), parsed
    if kind is Decimal:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return False, None
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return False, None
        return number.is_finite(), number
    if isinstance(value, bool) and kind is not bool:
        return False, None
    return isinstance(value, kind), value


def _values(
    data: Any, keys: dict[str, tuple[type, bool]], path: str, problems: Problems, extra: set[str]
) -> dict[str, Any]:
    if not isinstance(data, dict):
        problems.setdefault(path, []).append("Expected an object.")
        return {}
    for name in data:
        if name not in keys and name not in extra:
            problems.setdefault(f"{path}.{name}", []).append("Unknown key.")
    values: dict[str, Any] = {}
    for name, (kind, nullable) in keys.items():
        if name not in data:
            continue
        if data[name] is None and nullable:
            values[name] = None
            continue
        ok, value = _converted(data[name], kind)
        if ok:
            values[name] = value
        else:
            problems.setdefault(f"{path}.{name}", []).append(f"Expected a {kind.__name__} value.")
    return values


def _model_problems(instance: Any, path: str, exclude: set[str], problems: Problems) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except DjangoValidationError as error:
        for name, messages in error.message_dict.items():
            if name not in exclude:
                problems.setdefault(f"{path}.{name}", []).extend(messages)


def _quiz_plan(value: Any, path: str) -> tuple[dict[str, Any], list[tuple[dict, list]], Problems]:
    problems: Problems = {}
    fields = _values(value, QUIZ_KEYS, path, problems, extra={"questions"})
    _model_problems(Quiz(**fields), path, {"lesson", *(set(QUIZ_KEYS) - set(fields))}, problems)
    questions = value.get("questions", []) if isinstance(value, dict) else []
    if not isinstance(questions, list):
        problems.setdefault(f"{path}.questions", []).append("Expected a list.")
        questions = []
    planned = []
    for index, item in enumerate(questions):
        question_path = f"{path}.questions[{index}]"
        question_fields = _values(item, QUESTION_KEYS, question_path, problems, extra={"choices"})
        raw_choices = item.get("choices", []) if isinstance(item, dict) else []
        if not isinstance(raw_choices, list):
            problems.setdefault(f"{question_path}.choices", []).append("Expected a list.")
            raw_choices = []
        choices = []
        for choice_index, choice in enumerate(raw_choices):
            choice_path = f"{question_path}.choices[{choice_index}]"
            choice_fields = _values(choice, CHOICE_KEYS, choice_path, problems, extra=set())
            _model_problems(
                Choice(**choice_fields),
                choice_path,
                {"question", "position", *(set(CHOICE_KEYS) - set(choice_fields))},
                problems,
            )
            choices.append(choice_fields)
        if "kind" not in question_fields or "text" not in question_fields:
            problems.setdefault(question_path, []).append("A question needs `kind` and `text`.")
            continue
        question = Question(**question_fields)
        _model_problems(question, question_path, {"quiz", "position"}, problems)
        services.question_keep_kind_fields(question)
        for name, messages in services.question_problems(question, choices).items():
            problems.setdefault(f"{question_path}.{name}", []).extend(messages)
        planned.append((question_fields, choices))
    return fields, planned, problems


def validate_quiz(value: Any, path: str) -> Problems:
    return _quiz_plan(value, path)[2]


def validate_assignment(value: Any, path: str) -> Problems:
    problems: Problems = {}
    fields = _values(value, ASSIGNMENT_KEYS, path, problems, extra=set())
    _model_problems(
        Assignment(**fields), path, {"lesson", *(set(ASSIGNMENT_KEYS) - set(fields))}, problems
    )
    return problems


# --- Import -------------------------------------------------------------------------------


def _refuse_other_kind(lesson: Lesson, key: str, kind: str) -> None:
    if lesson.kind != kind:
        raise PackageInvalid({key: [f"Only a lesson of kind '{kind}' can have a {key}."]})


def create_quiz(lesson: Lesson, value: Any) -> None:
    _refuse_other_kind(lesson, "quiz", Lesson.Kind.QUIZ)
    fields, questions, problems = _quiz_plan(value, "quiz")
    if problems:
        raise PackageInvalid(problems)
    quiz = services.quiz_create(lesson=lesson, **fields)
    for question_fields, choices in questions:
        services.question_create(quiz=quiz, choices=choices, **question_fields)


def create_assignment(lesson: Lesson, value: Any) -> None:
    _refuse_other_kind(lesson, "assignment", Lesson.Kind.ASSIGNMENT)
    problems: Problems = {}
    fields = _values(value, ASSIGNMENT_KEYS, "assignment", problems, extra=set())
    if problems:
        raise PackageInvalid(problems)
    try:
        services.assignment_create(lesson=lesson, **fields)
    except DjangoValidationError as error:
        raise PackageInvalid(
            {f"assignment.{name}": messages for name, messages in error.message_dict.items()}
        ) from error


def register() -> None:
    register_lesson_extension(
        LessonExtension(
            key="quiz", export=export_quizzes, validate=validate_quiz, create=create_quiz
        )
    )
    register_lesson_extension(
        LessonExtension(
            key="assignment",
            export=export_assignments,
            validate=validate_assignment,
            create=create_assignment,
        )
    )
