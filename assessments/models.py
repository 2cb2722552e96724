"""Quizzes (questions, choices, attempts, answers) and assignments (submissions, files).

Writes go through assessments.services. Grading happens on the server only
(assessments.grading); nothing a learner sends is trusted for a score.
"""

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q

from courses.models import Lesson
from lms.models import BaseModel
from lms.uploads import generated_name, private_storage


def default_allowed_extensions() -> list[str]:
    return list(settings.UPLOADS_ALLOWED_EXTENSIONS)


def default_max_file_bytes() -> int:
    return int(settings.UPLOADS_MAX_BYTES)


def default_max_files() -> int:
    return int(settings.ASSESSMENTS_MAX_FILES_PER_SUBMISSION)


def submission_file_path(instance: "SubmissionFile", filename: str) -> str:
    return generated_name("submissions", filename)


# --- Quizzes ------------------------------------------------------------------------------


class Quiz(BaseModel):
    """The quiz of a quiz lesson (one per lesson)."""

    class ShowAnswers(models.TextChoices):
        NEVER = "never", "Never"
        AFTER_SUBMIT = "after_submit", "After each submitted attempt"
        AFTER_PASSING = "after_passing", "Once the learner has passed"

    class ScorePolicy(models.TextChoices):
        BEST = "best", "Best attempt"
        LAST = "last", "Last attempt"

    lesson = models.OneToOneField(Lesson, on_delete=models.CASCADE, related_name="quiz")
    time_limit_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: no time limit."
    )
    max_attempts = models.PositiveSmallIntegerField(default=0, help_text="0: unlimited.")
    passing_score_percent = models.PositiveSmallIntegerField(
        default=70, validators=[MaxValueValidator(100)]
    )
    shuffle_questions = models.BooleanField(default=False)
    shuffle_choices = models.BooleanField(default=False)
    show_correct_answers = models.CharField(
        max_length=20, choices=ShowAnswers.choices, default=ShowAnswers.AFTER_SUBMIT
    )
    available_from = models.DateTimeField(null=True, blank=True)
    available_until = models.DateTimeField(null=True, blank=True)
    score_policy = models.CharField(
        max_length=10, choices=ScorePolicy.choices, default=ScorePolicy.BEST
    )

    class Meta:
        verbose_name_plural = "quizzes"
        constraints = [
            models.CheckConstraint(
                condition=Q(passing_score_percent__lte=100),
                name="assessments_quiz_passing_at_most_100",
            ),
            models.CheckConstraint(
                condition=Q(time_limit_seconds__isnull=True) | Q(time_limit_seconds__gte=1),
                name="assessments_quiz_time_limit_positive",
            ),
            models.CheckConstraint(
                condition=Q(available_from__isnull=True)
                | Q(available_until__isnull=True)
                | Q(available_from__lt=models.F("available_until")),
                name="assessments_quiz_window_ordered",
            ),
            models.CheckConstraint(
                condition=Q(show_correct_answers__in=["never", "after_submit", "after_passing"]),
                name="assessments_quiz_show_answers_valid",
            ),
            models.CheckConstraint(
                condition=Q(score_policy__in=["best", "last"]),
                name="assessments_quiz_score_policy_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Quiz: {self.lesson.title}"

    def clean(self) -> None:
        if (
            self.available_from
            and self.available_until
            and self.available_from >= self.available_until
        ):
            raise ValidationError(
                {"available_until": "The quiz must close after it opens."}, code="invalid"
            )

    def is_available(self, now: datetime) -> bool:
        if self.available_from and now < self.available_from:
            return False
        return not (self.available_until and now >= self.available_until)


class Question(BaseModel):
    class Kind(models.TextChoices):
        SINGLE_CHOICE = "single_choice", "Single choice"
        MULTIPLE_CHOICE = "multiple_choice", "Multiple choice"
        TRUE_FALSE = "true_false", "True or false"
        SHORT_TEXT = "short_text", "Short text"
        NUMERIC = "numeric", "Numeric"

    CHOICE_KINDS = (Kind.SINGLE_CHOICE, Kind.MULTIPLE_CHOICE)

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.TextField(help_text="The question (Markdown).")
    points = models.PositiveSmallIntegerField(default=1)
    explanation = models.TextField(blank=True, help_text="Shown with the correct answer.")
    position = models.PositiveIntegerField()
    # Multiple choice: right minus wrong picks, as a share of the correct choices (else all
    # or nothing).
    partial_credit = models.BooleanField(default=False)
    # True/false: the correct value.
    correct_boolean = models.BooleanField(null=True, blank=True)
    # Short text: accepted answers, compared without case and extra whitespace.
    accepted_answers = models.JSONField(default=list, blank=True)
    # Numeric: correct when |answer - value| <= tolerance.
    numeric_value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    numeric_tolerance = models.DecimalField(max_digits=20, decimal_places=6, default=0)

    class Meta:
        ordering = ["quiz", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["quiz", "position"], name="assessments_question_unique_position"
            ),
            models.CheckConstraint(
                condition=Q(points__gte=1), name="assessments_question_points_positive"
            ),
            models.CheckConstraint(
                condition=Q(numeric_tolerance__gte=0),
                name="assessments_question_tolerance_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "single_choice",
                        "multiple_choice",
                        "true_false",
                        "short_text",
                        "numeric",
                    ]
                ),
                name="assessments_question_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.text[:80]


class Choice(BaseModel):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    text = models.CharField(max_length=500)
    is_correct = models.BooleanField(default=False)
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["question", "position"]

    def __str__(self) -> str:
        return self.text


class Attempt(BaseModel):
    """One try at a quiz. Its questions and their choice order are fixed when it starts."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        SUBMITTED = "submitted", "Submitted"
        EXPIRED = "expired", "Closed at the deadline"

    GRADED = (Status.SUBMITTED, Status.EXPIRED)

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="attempts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="quiz_attempts"
    )
    number = models.PositiveSmallIntegerField(help_text="1 for the learner's first attempt.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.IN_PROGRESS)
    started_at = models.DateTimeField()
    deadline = models.DateTimeField(null=True, blank=True, help_text="Empty: no deadline.")
    submitted_at = models.DateTimeField(null=True, blank=True)
    # Question ids in the order shown, and per question id its choice ids in the order shown.
    question_order = models.JSONField(default=list, blank=True)
    choice_order = models.JSONField(default=dict, blank=True)
    score_points = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    max_points = models.PositiveIntegerField(null=True, blank=True)
    score_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    passed = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # The attempt count is exact even if two starts raced past the lock.
            models.UniqueConstraint(
                fields=["quiz", "user", "number"], name="assessments_attempt_unique_number"
            ),
            models.UniqueConstraint(
                fields=["quiz", "user"],
                condition=Q(status="in_progress"),
                name="assessments_attempt_one_open",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["in_progress", "submitted", "expired"]),
                name="assessments_attempt_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(score_percent__isnull=True)
                | (Q(score_percent__gte=0) & Q(score_percent__lte=100)),
                name="assessments_attempt_score_bounds",
            ),
        ]
        indexes = [
            models.Index(
                fields=["deadline"],
                condition=Q(status="in_progress"),
                name="assessments_attempt_open_dl",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.quiz} #{self.number}"

    @property
    def is_graded(self) -> bool:
        return self.status in self.GRADED

    def is_past_deadline(self, now: datetime) -> bool:
        return self.deadline is not None and now > self.deadline


class Answer(BaseModel):
    """A learner's answer to one question of an attempt; graded when the attempt closes."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    selected_choices = models.ManyToManyField(Choice, blank=True, related_name="selections")
    boolean_response = models.BooleanField(null=True, blank=True)
    text_response = models.CharField(max_length=1000, blank=True)
    number_response = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    is_correct = models.BooleanField(null=True, blank=True)
    points_awarded = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "question"], name="assessments_answer_one_per_question"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.attempt} / {self.question}"


# --- Assignments --------------------------------------------------------------------------


class Assignment(BaseModel):
    """The assignment of an assignment lesson (one per lesson)."""

    class LatePolicy(models.TextChoices):
        ACCEPT = "accept", "Accept and flag as late"
        REFUSE = "refuse", "Refuse after the due date"

    lesson = models.OneToOneField(Lesson, on_delete=models.CASCADE, related_name="assignment")
    instructions = models.TextField(blank=True, help_text="Markdown.")
    due_at = models.DateTimeField(null=True, blank=True)
    max_points = models.PositiveIntegerField(default=100)
    passing_points = models.PositiveIntegerField(default=50)
    late_policy = models.CharField(
        max_length=10, choices=LatePolicy.choices, default=LatePolicy.ACCEPT
    )
    allowed_extensions = models.JSONField(default=default_allowed_extensions, blank=True)
    max_file_bytes = models.PositiveIntegerField(default=default_max_file_bytes)
    max_files = models.PositiveSmallIntegerField(
        default=default_max_files, help_text="0: text only."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(max_points__gte=1), name="assessments_assignment_max_points_positive"
            ),
            models.CheckConstraint(
                condition=Q(passing_points__lte=models.F("max_points")),
                name="assessments_assignment_passing_at_most_max",
            ),
            models.CheckConstraint(
                condition=Q(late_policy__in=["accept", "refuse"]),
                name="assessments_assignment_late_policy_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Assignment: {self.lesson.title}"

    def clean(self) -> None:
        if self.passing_points > self.max_points:
            raise ValidationError(
                {"passing_points": "Passing points cannot exceed the maximum."}, code="invalid"
            )


class Submission(BaseModel):
    """A learner's work for an assignment: one row, replaced on resubmission until graded."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        GRADED = "graded", "Graded"
        RETURNED = "returned", "Returned for revision"

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="submissions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="submissions"
    )
    text = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    is_late = models.BooleanField(default=False)
    submitted_at = models.DateTimeField()
    points = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    feedback = models.TextField(blank=True)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="graded_submissions",
    )
    graded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "user"], name="assessments_submission_one_per_learner"
            ),
            models.CheckConstraint(
                condition=Q(points__isnull=True) | Q(points__gte=0),
                name="assessments_submission_points_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(status="submitted") | Q(points__isnull=False),
                name="assessments_submission_graded_has_points",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["submitted", "graded", "returned"]),
                name="assessments_submission_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.assignment}"


class SubmissionFile(BaseModel):
    """A file of a submission, in the private storage under a generated name."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(storage=private_storage, upload_to=submission_file_path, max_length=255)
    original_name = models.CharField(max_length=255, help_text="The client's name (display only).")
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.original_name
