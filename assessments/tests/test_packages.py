"""Quizzes and assignments travel in course packages (export, import, round trip)."""

import copy
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from assessments.models import Assignment, Question, Quiz
from assessments.tests.factories import AssignmentFactory, QuestionFactory, choice_question
from courses.errors import PackageInvalid
from courses.packages import course_export_package, course_import_package, package_dumps

pytestmark = pytest.mark.django_db


@pytest.fixture
def authored(course, quiz, assignment):
    """The fixture course with a quiz of every kind of question and an assignment."""
    Quiz.objects.filter(pk=quiz.pk).update(
        time_limit_seconds=900,
        max_attempts=3,
        passing_score_percent=75,
        shuffle_questions=True,
        show_correct_answers="after_passing",
        available_until=datetime(2031, 1, 1, 12, 0, tzinfo=UTC),
        score_policy="last",
    )
    choice_question(quiz, kind="multiple_choice", correct=(0, 2), partial_credit=True, points=3)
    QuestionFactory(quiz=quiz, correct_boolean=False, explanation="No.")
    QuestionFactory(
        quiz=quiz, kind="short_text", correct_boolean=None, accepted_answers=["Ada", "Lovelace"]
    )
    QuestionFactory(
        quiz=quiz,
        kind="numeric",
        correct_boolean=None,
        numeric_value=Decimal("2.718281"),
        numeric_tolerance=Decimal("0.001"),
    )
    Assignment.objects.filter(pk=assignment.pk).update(
        due_at=datetime(2031, 2, 1, tzinfo=UTC), late_policy="refuse", max_files=2
    )
    return course


def _lessons(package):
    return [lesson for module in package["modules"] for lesson in module["lessons"]]


def test_export_includes_the_quiz_with_questions_and_choices(authored):
    quiz_lesson, assignment_lesson = _lessons(course_export_package(course=authored))

    quiz = quiz_lesson["quiz"]
    assert (quiz["time_limit_seconds"], quiz["max_attempts"], quiz["score_policy"]) == (
        900,
        3,
        "last",
    )
    assert quiz["available_until"] == "2031-01-01T12:00:00Z"
    assert [question["kind"] for question in quiz["questions"]] == [
        "multiple_choice",
        "true_false",
        "short_text",
        "numeric",
    ]
    assert quiz["questions"][0]["choices"] == [
        {"text": "Option 0", "is_correct": True},
        {"text": "Option 1", "is_correct": False},
        {"text": "Option 2", "is_correct": True},
    ]
    assert quiz["questions"][3]["numeric_value"] == "2.718281"
    assert assignment_lesson["assignment"]["late_policy"] == "refuse"
    assert "quiz" not in assignment_lesson


def test_round_trip_recreates_the_same_package(authored):
    package = course_export_package(course=authored)

    copy_course = course_import_package(package=package, owner=UserFactory(instructor=True))

    again = course_export_package(course=copy_course)
    package["course"]["slug"] = again["course"]["slug"]  # a free slug was made
    assert package_dumps(again) == package_dumps(package)
    assert Question.objects.filter(quiz__lesson__module__course=copy_course).count() == 4


def test_import_refuses_a_bad_question_with_its_path(authored):
    package = course_export_package(course=authored)
    bad = copy.deepcopy(package)
    bad["modules"][0]["lessons"][0]["quiz"]["questions"][1]["correct_boolean"] = None
    bad["modules"][0]["lessons"][0]["quiz"]["questions"][2]["accepted_answers"] = []

    with pytest.raises(PackageInvalid) as error:
        course_import_package(package=bad, owner=UserFactory(instructor=True))

    path = "modules[0].lessons[0].quiz.questions"
    assert set(error.value.fields) == {
        f"{path}[1].correct_boolean",
        f"{path}[2].accepted_answers",
    }


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        pytest.param(
            lambda quiz: quiz.update(max_attempts="three"),
            "modules[0].lessons[0].quiz.max_attempts",
            id="_case wrong type",
        ),
        pytest.param(
            lambda quiz: quiz.update(show_correct_answers="sometimes"),
            "modules[0].lessons[0].quiz.show_correct_answers",
            id="_case unknown choice",
        ),
        pytest.param(
            lambda quiz: quiz.update(surprise=1),
            "modules[0].lessons[0].quiz.surprise",
            id="_case unknown key",
        ),
        pytest.param(
            lambda quiz: quiz["questions"][0]["choices"].append({"text": 5}),
            "modules[0].lessons[0].quiz.questions[0].choices[3].text",
            id="_case choice text not a string",
        ),
    ],
)
def test_import_names_each_problem(authored, change, problem):
    package = course_export_package(course=authored)
    change(package["modules"][0]["lessons"][0]["quiz"])

    with pytest.raises(PackageInvalid) as error:
        course_import_package(package=package, owner=UserFactory(instructor=True))

    assert problem in error.value.fields


def test_import_writes_nothing_when_a_quiz_is_bad(authored):
    package = course_export_package(course=authored)
    package["modules"][0]["lessons"][0]["quiz"]["passing_score_percent"] = 101
    before = Quiz.objects.count()

    with pytest.raises(PackageInvalid):
        course_import_package(package=package, owner=UserFactory(instructor=True))

    assert Quiz.objects.count() == before


def test_a_quiz_on_a_text_lesson_is_refused(authored):
    package = course_export_package(course=authored)
    package["modules"][0]["lessons"][0]["kind"] = "text"

    with pytest.raises(PackageInvalid) as error:
        course_import_package(package=package, owner=UserFactory(instructor=True))

    assert "quiz" in error.value.fields


def test_an_assignment_with_an_extension_the_server_refuses_is_invalid(authored, settings):
    package = course_export_package(course=authored)
    package["modules"][0]["lessons"][1]["assignment"]["allowed_extensions"] = ["exe"]

    with pytest.raises(PackageInvalid) as error:
        course_import_package(package=package, owner=UserFactory(instructor=True))

    assert "assignment.allowed_extensions" in error.value.fields


def test_learner_data_is_never_exported(authored, student, enrolled, quiz):
    from assessments import services
    from assessments.tests.factories import SubmissionFactory

    services.attempt_start(quiz=quiz, user=student)
    SubmissionFactory(assignment=AssignmentFactory(), user=student, text="secret essay")

    text = package_dumps(course_export_package(course=authored))

    assert student.email not in text
    assert "secret essay" not in text
    assert "in_progress" not in text
