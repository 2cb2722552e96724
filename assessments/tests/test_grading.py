"""Server-side grading of each question kind, with its edge cases. Pure: no database."""

import uuid
from decimal import Decimal

import pytest

from assessments.grading import Response, grade, normalize_text, score_percent
from assessments.models import Question

A, B, C, D = (uuid.uuid4() for _ in range(4))


def _question(kind, **fields):
    return Question(kind=kind, text="?", points=fields.pop("points", 2), **fields)


def _grade(question, response, correct=frozenset()):
    return grade(question, response, correct_choice_ids=frozenset(correct))


# --- Single choice ------------------------------------------------------------------------


def test_single_choice_right_choice_earns_every_point():
    result = _grade(_question("single_choice"), Response(choice_ids=frozenset({A})), {A})

    assert (result.points, result.is_correct) == (Decimal("2.00"), True)


def test_single_choice_wrong_choice_earns_nothing():
    result = _grade(_question("single_choice"), Response(choice_ids=frozenset({B})), {A})

    assert (result.points, result.is_correct) == (Decimal("0.00"), False)


def test_single_choice_right_plus_an_extra_choice_earns_nothing():
    result = _grade(_question("single_choice"), Response(choice_ids=frozenset({A, B})), {A})

    assert result.points == Decimal("0.00")


def test_single_choice_empty_answer_earns_nothing():
    result = _grade(_question("single_choice"), Response(), {A})

    assert (result.points, result.is_correct) == (Decimal("0.00"), False)


def test_unanswered_question_earns_nothing():
    result = _grade(_question("single_choice"), None, {A})

    assert (result.points, result.is_correct) == (Decimal("0.00"), False)


# --- Multiple choice ----------------------------------------------------------------------


def test_multiple_choice_all_or_nothing_needs_exactly_the_correct_set():
    question = _question("multiple_choice")

    exact = _grade(question, Response(choice_ids=frozenset({A, B})), {A, B})
    missing = _grade(question, Response(choice_ids=frozenset({A})), {A, B})
    extra = _grade(question, Response(choice_ids=frozenset({A, B, C})), {A, B})

    assert [exact.points, missing.points, extra.points] == [
        Decimal("2.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    ]


def test_multiple_choice_partial_credit_is_right_minus_wrong_over_correct():
    question = _question("multiple_choice", partial_credit=True, points=3)

    result = _grade(question, Response(choice_ids=frozenset({A, B, D})), {A, B, C})

    assert (result.points, result.is_correct) == (Decimal("1.00"), False)  # (2 - 1) / 3 * 3


def test_multiple_choice_partial_credit_never_goes_below_zero():
    question = _question("multiple_choice", partial_credit=True)

    result = _grade(question, Response(choice_ids=frozenset({C, D})), {A})

    assert result.points == Decimal("0.00")


def test_multiple_choice_partial_credit_rounds_to_two_decimals():
    question = _question("multiple_choice", partial_credit=True, points=1)

    result = _grade(question, Response(choice_ids=frozenset({A})), {A, B, C})

    assert result.points == Decimal("0.33")


def test_multiple_choice_partial_credit_all_right_is_correct():
    question = _question("multiple_choice", partial_credit=True)

    result = _grade(question, Response(choice_ids=frozenset({A, B})), {A, B})

    assert (result.points, result.is_correct) == (Decimal("2.00"), True)


def test_multiple_choice_empty_answer_earns_nothing_even_with_partial_credit():
    question = _question("multiple_choice", partial_credit=True)

    assert _grade(question, Response(), {A}).points == Decimal("0.00")


# --- True/false ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        pytest.param(True, Decimal("2.00"), id="_case right"),
        pytest.param(False, Decimal("0.00"), id="_case wrong"),
        pytest.param(None, Decimal("0.00"), id="_case empty"),
    ],
)
def test_true_false(answer, expected):
    question = _question("true_false", correct_boolean=True)

    assert _grade(question, Response(boolean=answer)).points == expected


# --- Short text ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param("Paris", id="_case exact"),
        pytest.param("  pARIS ", id="_case case and outer spaces"),
        pytest.param("paris\t", id="_case tab"),
    ],
)
def test_short_text_ignores_case_and_whitespace(answer):
    question = _question("short_text", accepted_answers=["Paris"])

    assert _grade(question, Response(text=answer)).is_correct is True


def test_short_text_collapses_inner_whitespace():
    question = _question("short_text", accepted_answers=["New York"])

    assert _grade(question, Response(text="new    york")).is_correct is True


def test_short_text_any_accepted_answer_counts():
    question = _question("short_text", accepted_answers=["colour", "color"])

    assert _grade(question, Response(text="COLOR")).is_correct is True


def test_short_text_wrong_answer_earns_nothing():
    question = _question("short_text", accepted_answers=["Paris"])

    assert _grade(question, Response(text="Lyon")).points == Decimal("0.00")


def test_short_text_empty_or_blank_answer_earns_nothing():
    question = _question("short_text", accepted_answers=["Paris"])

    assert _grade(question, Response(text="   ")).points == Decimal("0.00")


@pytest.mark.parametrize(
    ("accepted", "answer"),
    [
        pytest.param("Straße", "STRASSE", id="_case german sharp s folds"),
        pytest.param("café", "cafe\u0301", id="_case composed equals decomposed"),
        pytest.param("\uff21\uff22\uff23", "abc", id="_case full width equals ascii"),
        pytest.param("Ἀθῆναι", "ἀθῆναι", id="_case greek"),
        pytest.param("القاهرة", "القاهرة ", id="_case arabic"),
    ],
)
def test_short_text_compares_unicode_by_meaning(accepted, answer):
    question = _question("short_text", accepted_answers=[accepted])

    assert _grade(question, Response(text=answer)).is_correct is True


def test_short_text_does_not_strip_accents():
    question = _question("short_text", accepted_answers=["résumé"])

    assert _grade(question, Response(text="resume")).is_correct is False


def test_normalize_text_is_what_the_comparison_uses():
    assert normalize_text("  Hello\u00a0 WORLD ") == "hello world"


# --- Numeric ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "correct"),
    [
        pytest.param("3.14", True, id="_case exact"),
        pytest.param("3.13", True, id="_case lower bound included"),
        pytest.param("3.15", True, id="_case upper bound included"),
        pytest.param("3.129999", False, id="_case just below"),
        pytest.param("3.150001", False, id="_case just above"),
        pytest.param("-3.14", False, id="_case sign matters"),
    ],
)
def test_numeric_tolerance_bounds(answer, correct):
    question = _question(
        "numeric", numeric_value=Decimal("3.14"), numeric_tolerance=Decimal("0.01")
    )

    assert _grade(question, Response(number=Decimal(answer))).is_correct is correct


def test_numeric_zero_tolerance_needs_the_exact_value():
    question = _question("numeric", numeric_value=Decimal("42"), numeric_tolerance=Decimal(0))

    assert _grade(question, Response(number=Decimal("42.000"))).is_correct is True
    assert _grade(question, Response(number=Decimal("42.000001"))).is_correct is False


def test_numeric_empty_answer_earns_nothing():
    question = _question("numeric", numeric_value=Decimal("1"), numeric_tolerance=Decimal(0))

    assert _grade(question, Response(number=None)).points == Decimal("0.00")


# --- Score --------------------------------------------------------------------------------


def test_score_percent_rounds_to_two_decimals():
    assert score_percent(awarded=Decimal(1), max_points=3) == Decimal("33.33")


def test_score_percent_of_a_quiz_without_points_is_zero():
    assert score_percent(awarded=Decimal(0), max_points=0) == Decimal("0.00")
