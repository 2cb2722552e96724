"""Server-side grading of one answer, per question kind. Pure functions: no queries.

Rules:
- single choice: full points when exactly the correct choice is picked, else 0.
- multiple choice: all or nothing (the picked set equals the correct set), or with partial
  credit (right picks - wrong picks) / correct choices, never below 0.
- true/false: the value equals the correct one.
- short text: equal to an accepted answer after Unicode NFKC normalisation, case folding and
  collapsing whitespace.
- numeric: |answer - value| <= tolerance (both bounds included).
An empty answer scores 0. Points are rounded to 2 decimals.
"""

import unicodedata
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from assessments.models import Question

TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class Response:
    """What a learner answered (only the part for the question's kind is used)."""

    choice_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    boolean: bool | None = None
    text: str = ""
    number: Decimal | None = None

    def is_empty(self, kind: str) -> bool:
        if kind in Question.CHOICE_KINDS:
            return not self.choice_ids
        if kind == Question.Kind.TRUE_FALSE:
            return self.boolean is None
        if kind == Question.Kind.SHORT_TEXT:
            return not normalize_text(self.text)
        return self.number is None


@dataclass(frozen=True)
class Result:
    points: Decimal
    is_correct: bool


def normalize_text(value: str) -> str:
    """Compare short text answers without case, width forms or extra whitespace."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def grade(
    question: Question, response: Response | None, *, correct_choice_ids: frozenset[uuid.UUID]
) -> Result:
    """Points for `response` to `question` (None: not answered).

    `correct_choice_ids` are the question's correct choices (passed in so that grading a whole
    attempt needs no query per question).
    """
    points = Decimal(question.points)
    if response is None or response.is_empty(question.kind):
        return Result(points=Decimal("0.00"), is_correct=False)
    share = _share(question, response, correct_choice_ids)
    awarded = (points * share).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
    return Result(points=awarded, is_correct=share == 1)


def _share(
    question: Question, response: Response, correct_choice_ids: frozenset[uuid.UUID]
) -> Decimal:
    """The fraction of the points earned, from 0 to 1."""
    kind = question.kind
    if kind == Question.Kind.SINGLE_CHOICE:
        return Decimal(1 if response.choice_ids == correct_choice_ids else 0)
    if kind == Question.Kind.MULTIPLE_CHOICE:
        if not question.partial_credit or not correct_choice_ids:
            return Decimal(1 if response.choice_ids == correct_choice_ids else 0)
        right = len(response.choice_ids & correct_choice_ids)
        wrong = len(response.choice_ids - correct_choice_ids)
        return max(Decimal(0), Decimal(right - wrong) / Decimal(len(correct_choice_ids)))
    if kind == Question.Kind.TRUE_FALSE:
        return Decimal(
            1
            if question.correct_boolean is not None and response.boolean is question.correct_boolean
            else 0
        )
    if kind == Question.Kind.SHORT_TEXT:
        accepted = {normalize_text(str(answer)) for answer in question.accepted_answers}
        accepted.discard("")
        return Decimal(1 if normalize_text(response.text) in accepted else 0)
    if kind == Question.Kind.NUMERIC:
        if question.numeric_value is None or response.number is None:
            return Decimal(0)
        difference = abs(response.number - Decimal(question.numeric_value))
        return Decimal(1 if difference <= Decimal(question.numeric_tolerance) else 0)
    return Decimal(0)


def score_percent(*, awarded: Decimal, max_points: int) -> Decimal:
    """The attempt's score as a percentage with 2 decimals (0 for a quiz without points)."""
    if max_points <= 0:
        return Decimal("0.00")
    return (awarded * 100 / Decimal(max_points)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
