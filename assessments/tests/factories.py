import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import UserFactory
from assessments.models import Assignment, Choice, Question, Quiz, Submission
from courses.models import Lesson
from courses.tests.factories import LessonFactory


class QuizFactory(DjangoModelFactory):
    """A quiz on a new quiz lesson of a draft course (pass `lesson=` to place it)."""

    class Meta:
        model = Quiz

    lesson = factory.SubFactory(LessonFactory, kind=Lesson.Kind.QUIZ)
    passing_score_percent = 50
    show_correct_answers = Quiz.ShowAnswers.AFTER_SUBMIT


class QuestionFactory(DjangoModelFactory):
    """A true/false question (true); other kinds set their own answer key."""

    class Meta:
        model = Question

    quiz = factory.SubFactory(QuizFactory)
    kind = Question.Kind.TRUE_FALSE
    text = factory.Sequence(lambda n: f"Statement {n} is true.")
    points = 1
    explanation = "Because it is."
    correct_boolean = True
    position = factory.Sequence(lambda n: n + 1)


class ChoiceFactory(DjangoModelFactory):
    class Meta:
        model = Choice

    question = factory.SubFactory(QuestionFactory, kind=Question.Kind.SINGLE_CHOICE)
    text = factory.Sequence(lambda n: f"Choice {n}")
    is_correct = False
    position = factory.Sequence(lambda n: n + 1)


def choice_question(quiz, *, kind=Question.Kind.SINGLE_CHOICE, correct=(0,), count=3, **fields):
    """A choice question with `count` choices; the indexes in `correct` are the right ones."""
    question = QuestionFactory(quiz=quiz, kind=kind, correct_boolean=None, **fields)
    for index in range(count):
        ChoiceFactory(question=question, text=f"Option {index}", is_correct=index in correct)
    return question


class AssignmentFactory(DjangoModelFactory):
    class Meta:
        model = Assignment

    lesson = factory.SubFactory(LessonFactory, kind=Lesson.Kind.ASSIGNMENT)
    instructions = "Write an essay."
    max_points = 10
    passing_points = 6
    allowed_extensions = ["pdf", "png", "txt"]


class SubmissionFactory(DjangoModelFactory):
    class Meta:
        model = Submission

    assignment = factory.SubFactory(AssignmentFactory)
    user = factory.SubFactory(UserFactory)
    text = "My essay."
    submitted_at = factory.LazyFunction(timezone.now)
