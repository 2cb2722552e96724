"""Database constraints of the assessments models."""

import pytest
from django.db import IntegrityError

from assessments.models import Attempt
from assessments.tests.factories import AssignmentFactory, QuestionFactory, SubmissionFactory

pytestmark = pytest.mark.django_db


def _attempt(quiz, user, *, number, status=Attempt.Status.SUBMITTED):
    from django.utils import timezone

    return Attempt.objects.create(
        quiz=quiz, user=user, number=number, status=status, started_at=timezone.now()
    )


def test_one_open_attempt_per_learner_and_quiz(quiz, student):
    _attempt(quiz, student, number=1, status=Attempt.Status.IN_PROGRESS)

    with pytest.raises(IntegrityError):
        _attempt(quiz, student, number=2, status=Attempt.Status.IN_PROGRESS)


def test_attempt_numbers_are_unique_per_learner_and_quiz(quiz, student):
    _attempt(quiz, student, number=1)

    with pytest.raises(IntegrityError):
        _attempt(quiz, student, number=1)


def test_question_points_are_positive(quiz):
    with pytest.raises(IntegrityError):
        QuestionFactory(quiz=quiz, points=0)


def test_one_submission_per_learner_and_assignment(student):
    assignment = AssignmentFactory()
    SubmissionFactory(assignment=assignment, user=student)

    with pytest.raises(IntegrityError):
        SubmissionFactory(assignment=assignment, user=student)


def test_a_graded_submission_has_points(student):
    with pytest.raises(IntegrityError):
        SubmissionFactory(user=student, status="graded", points=None)


def test_passing_points_cannot_exceed_the_maximum():
    with pytest.raises(IntegrityError):
        AssignmentFactory(max_points=10, passing_points=11)
