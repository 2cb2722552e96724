"""Input and output shapes of the assessments API.

Learner-facing attempt output is built by `attempt_output_data`, which leaves out everything
that reveals an answer (correct flags, accepted answers, numeric values, explanations,
per-question results) unless the attempt view says the key may be revealed.
"""

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from assessments.models import (
    Assignment,
    Attempt,
    Choice,
    Question,
    Quiz,
    Submission,
    SubmissionFile,
)
from assessments.selectors import AttemptView
from lms.uploads import KIND_SUBMISSION_FILE, download_url

MAX_CHOICES = 20
MAX_ACCEPTED_ANSWERS = 50
MAX_ANSWERS_PER_REQUEST = 500

# --- Shared -------------------------------------------------------------------------------


class UserSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "full_name"]
        read_only_fields = fields


# --- Quizzes ------------------------------------------------------------------------------


class MyAttemptsSerializer(serializers.Serializer):
    attempts_used = serializers.IntegerField()
    open_attempt = serializers.UUIDField(allow_null=True)
    passed = serializers.BooleanField()


class QuizOutputSerializer(serializers.ModelSerializer):
    title = serializers.CharField(source="lesson.title")
    course = serializers.UUIDField(source="lesson.module.course_id")
    question_count = serializers.IntegerField(
        help_text="Questions in the quiz now (an attempt keeps the ones it started with)."
    )
    me = serializers.SerializerMethodField(help_text="Your attempts at this quiz.")

    class Meta:
        model = Quiz
        fields = [
            "id",
            "lesson",
            "course",
            "title",
            "time_limit_seconds",
            "max_attempts",
            "passing_score_percent",
            "shuffle_questions",
            "shuffle_choices",
            "show_correct_answers",
            "available_from",
            "available_until",
            "score_policy",
            "question_count",
            "me",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(MyAttemptsSerializer)
    def get_me(self, quiz: Quiz) -> dict[str, Any]:
        return MyAttemptsSerializer(self.context["me"]).data


class QuizWriteInputSerializer(serializers.Serializer):
    time_limit_seconds = serializers.IntegerField(
        min_value=1, allow_null=True, required=False, help_text="null: no time limit."
    )
    max_attempts = serializers.IntegerField(
        min_value=0, max_value=1000, required=False, help_text="0: unlimited."
    )
    passing_score_percent = serializers.IntegerField(min_value=0, max_value=100, required=False)
    shuffle_questions = serializers.BooleanField(required=False)
    shuffle_choices = serializers.BooleanField(required=False)
    show_correct_answers = serializers.ChoiceField(choices=Quiz.ShowAnswers.choices, required=False)
    available_from = serializers.DateTimeField(allow_null=True, required=False)
    available_until = serializers.DateTimeField(allow_null=True, required=False)
    score_policy = serializers.ChoiceField(choices=Quiz.ScorePolicy.choices, required=False)


class ChoiceOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Choice
        fields = ["id", "text", "is_correct", "position"]
        read_only_fields = fields


class QuestionOutputSerializer(serializers.ModelSerializer):
    """A question with its answer key (the course's instructors and admins only)."""

    choices = ChoiceOutputSerializer(many=True)

    class Meta:
        model = Question
        fields = [
            "id",
            "quiz",
            "position",
            "kind",
            "text",
            "points",
            "explanation",
            "partial_credit",
            "correct_boolean",
            "accepted_answers",
            "numeric_value",
            "numeric_tolerance",
            "choices",
        ]
        read_only_fields = fields


class ChoiceInputSerializer(serializers.Serializer):
    id = serializers.UUIDField(
        required=False, help_text="On update: an existing choice to keep (and change)."
    )
    text = serializers.CharField(max_length=500)
    is_correct = serializers.BooleanField(default=False)


class QuestionWriteInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Question.Kind.choices)
    text = serializers.CharField()
    points = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    explanation = serializers.CharField(allow_blank=True, required=False)
    partial_credit = serializers.BooleanField(
        required=False, help_text="Multiple choice: right minus wrong picks earn a share."
    )
    correct_boolean = serializers.BooleanField(
        allow_null=True, required=False, help_text="True/false: the correct value."
    )
    accepted_answers = serializers.ListField(
        child=serializers.CharField(max_length=200),
        max_length=MAX_ACCEPTED_ANSWERS,
        required=False,
        help_text="Short text: accepted answers (case and extra spaces are ignored).",
    )
    numeric_value = serializers.DecimalField(
        max_digits=20, decimal_places=6, allow_null=True, required=False
    )
    numeric_tolerance = serializers.DecimalField(
        max_digits=20, decimal_places=6, min_value=Decimal(0), required=False
    )
    choices = ChoiceInputSerializer(
        many=True,
        required=False,
        max_length=MAX_CHOICES,
        help_text="Choice questions: every choice in order. On update the list replaces them.",
    )


# --- Attempts -----------------------------------------------------------------------------


class AttemptChoiceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    text = serializers.CharField()


class AttemptQuestionSerializer(serializers.Serializer):
    """A question as a learner sees it: no answer key."""

    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=Question.Kind.choices)
    text = serializers.CharField()
    points = serializers.IntegerField()
    partial_credit = serializers.BooleanField()
    choices = AttemptChoiceSerializer(many=True, help_text="In this attempt's order.")


class SavedAnswerSerializer(serializers.Serializer):
    question = serializers.UUIDField()
    choices = serializers.ListField(child=serializers.UUIDField())
    value = serializers.BooleanField(allow_null=True)
    text = serializers.CharField(allow_blank=True)
    number = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)


class ReviewItemSerializer(serializers.Serializer):
    """The answer key and the result of one question (only once the quiz allows it)."""

    question = serializers.UUIDField()
    is_correct = serializers.BooleanField(allow_null=True)
    points_awarded = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True)
    correct_choices = serializers.ListField(child=serializers.UUIDField())
    correct_boolean = serializers.BooleanField(allow_null=True)
    accepted_answers = serializers.ListField(child=serializers.CharField())
    numeric_value = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)
    numeric_tolerance = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)
    explanation = serializers.CharField(allow_blank=True)


class AttemptOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    quiz = serializers.UUIDField()
    user = serializers.UUIDField()
    number = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Attempt.Status.choices)
    started_at = serializers.DateTimeField()
    deadline = serializers.DateTimeField(allow_null=True)
    is_past_deadline = serializers.BooleanField(
        help_text="Saving is refused; submitting grades what was saved in time."
    )
    submitted_at = serializers.DateTimeField(allow_null=True)
    score_points = serializers.DecimalField(max_digits=9, decimal_places=2, allow_null=True)
    max_points = serializers.IntegerField(allow_null=True)
    score_percent = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    passed = serializers.BooleanField(allow_null=True)
    questions = AttemptQuestionSerializer(many=True)
    answers = SavedAnswerSerializer(many=True)
    review = ReviewItemSerializer(
        many=True,
        allow_null=True,
        help_text="null until the quiz's policy shows the correct answers.",
    )


def attempt_output_data(view: AttemptView, *, now: Any) -> dict[str, Any]:
    """The attempt as plain data; the answer key only when `view.reveal`."""
    attempt = view.attempt
    questions = [
        {
            "id": question.pk,
            "kind": question.kind,
            "text": question.text,
            "points": question.points,
            "partial_credit": question.partial_credit,
            "choices": [
                {"id": choice.pk, "text": choice.text} for choice in view.choices[question.pk]
            ],
        }
        for question in view.questions
    ]
    answers = []
    for question in view.questions:
        answer = view.answers.get(question.pk)
        if answer is None:
            continue
        answers.append(
            {
                "question": question.pk,
                "choices": [choice.pk for choice in answer.selected_choices.all()],
                "value": answer.boolean_response,
                "text": answer.text_response,
                "number": answer.number_response,
            }
        )
    review = None
    if view.reveal:
        review = []
        for question in view.questions:
            answer = view.answers.get(question.pk)
            review.append(
                {
                    "question": question.pk,
                    "is_correct": answer.is_correct if answer else None,
                    "points_awarded": answer.points_awarded if answer else None,
                    "correct_choices": [
                        choice.pk for choice in view.choices[question.pk] if choice.is_correct
                    ],
                    "correct_boolean": question.correct_boolean,
                    "accepted_answers": question.accepted_answers,
                    "numeric_value": question.numeric_value,
                    "numeric_tolerance": (
                        question.numeric_tolerance
                        if question.kind == Question.Kind.NUMERIC
                        else None
                    ),
                    "explanation": question.explanation,
                }
            )
    return {
        "id": attempt.pk,
        "quiz": attempt.quiz_id,
        "user": attempt.user_id,
        "number": attempt.number,
        "status": attempt.status,
        "started_at": attempt.started_at,
        "deadline": attempt.deadline,
        "is_past_deadline": attempt.is_past_deadline(now),
        "submitted_at": attempt.submitted_at,
        "score_points": attempt.score_points,
        "max_points": attempt.max_points,
        "score_percent": attempt.score_percent,
        "passed": attempt.passed,
        "questions": questions,
        "answers": answers,
        "review": review,
    }


class AttemptSummaryOutputSerializer(serializers.ModelSerializer):
    user = UserSummarySerializer()

    class Meta:
        model = Attempt
        fields = [
            "id",
            "quiz",
            "user",
            "number",
            "status",
            "started_at",
            "deadline",
            "submitted_at",
            "score_percent",
            "passed",
        ]
        read_only_fields = fields


class AnswerInputSerializer(serializers.Serializer):
    question = serializers.UUIDField()
    choices = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        max_length=MAX_CHOICES,
        help_text="Single or multiple choice: the picked choice ids ([] clears).",
    )
    value = serializers.BooleanField(
        allow_null=True, required=False, help_text="True/false (null clears)."
    )
    text = serializers.CharField(
        allow_blank=True,
        max_length=1000,
        required=False,
        trim_whitespace=False,
        help_text="Short text.",
    )
    number = serializers.DecimalField(
        max_digits=20, decimal_places=6, allow_null=True, required=False, help_text="Numeric."
    )


class AttemptAnswersInputSerializer(serializers.Serializer):
    answers = AnswerInputSerializer(many=True, max_length=MAX_ANSWERS_PER_REQUEST)


# --- Statistics ---------------------------------------------------------------------------


class ChoiceStatisticsSerializer(serializers.Serializer):
    id = serializers.UUIDField(allow_null=True, help_text="null for true/false.")
    text = serializers.CharField()
    is_correct = serializers.BooleanField()
    picks = serializers.IntegerField()


class QuestionStatisticsSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    position = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Question.Kind.choices)
    text = serializers.CharField()
    points = serializers.IntegerField()
    answered = serializers.IntegerField()
    percent_correct = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    average_points = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True)
    choices = ChoiceStatisticsSerializer(many=True)


class QuizStatisticsOutputSerializer(serializers.Serializer):
    quiz = serializers.UUIDField()
    attempts = serializers.IntegerField(help_text="Graded attempts.")
    learners = serializers.IntegerField()
    average_score = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    median_score = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    pass_rate = serializers.DecimalField(
        max_digits=5, decimal_places=2, allow_null=True, help_text="Percent of graded attempts."
    )
    questions = QuestionStatisticsSerializer(many=True)


# --- Assignments and submissions ----------------------------------------------------------


class AssignmentOutputSerializer(serializers.ModelSerializer):
    title = serializers.CharField(source="lesson.title")
    course = serializers.UUIDField(source="lesson.module.course_id")

    class Meta:
        model = Assignment
        fields = [
            "id",
            "lesson",
            "course",
            "title",
            "instructions",
            "due_at",
            "max_points",
            "passing_points",
            "late_policy",
            "allowed_extensions",
            "max_file_bytes",
            "max_files",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class AssignmentWriteInputSerializer(serializers.Serializer):
    instructions = serializers.CharField(allow_blank=True, required=False)
    due_at = serializers.DateTimeField(allow_null=True, required=False)
    max_points = serializers.IntegerField(min_value=1, max_value=100_000, required=False)
    passing_points = serializers.IntegerField(min_value=0, max_value=100_000, required=False)
    late_policy = serializers.ChoiceField(choices=Assignment.LatePolicy.choices, required=False)
    allowed_extensions = serializers.ListField(
        child=serializers.CharField(max_length=10), max_length=50, required=False
    )
    max_file_bytes = serializers.IntegerField(min_value=1, required=False)
    max_files = serializers.IntegerField(min_value=0, required=False)


class SubmissionFileOutputSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name")
    download_url = serializers.SerializerMethodField(
        help_text=(
            "A short-lived link (UPLOADS_SIGNED_URL_SECONDS): presigned on S3, otherwise "
            "files/{token}/, which also checks who asks."
        )
    )

    class Meta:
        model = SubmissionFile
        fields = ["id", "name", "size", "content_type", "download_url"]
        read_only_fields = fields

    def get_download_url(self, stored: SubmissionFile) -> str:
        return download_url(
            file=stored.file,
            kind=KIND_SUBMISSION_FILE,
            object_id=stored.pk,
            filename=stored.original_name,
            request=self.context.get("request"),
        )


class SubmissionOutputSerializer(serializers.ModelSerializer):
    user = UserSummarySerializer()
    files = SubmissionFileOutputSerializer(many=True)
    passed = serializers.SerializerMethodField(
        help_text="Graded at or above the passing points; null until graded."
    )

    class Meta:
        model = Submission
        fields = [
            "id",
            "assignment",
            "user",
            "text",
            "files",
            "status",
            "is_late",
            "submitted_at",
            "points",
            "feedback",
            "graded_by",
            "graded_at",
            "passed",
        ]
        read_only_fields = fields

    def get_passed(self, submission: Submission) -> bool | None:
        if submission.status != Submission.Status.GRADED or submission.points is None:
            return None
        return bool(submission.points >= submission.assignment.passing_points)


class SubmissionCreateInputSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, required=False, default="", max_length=100_000)
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True, use_url=False),
        required=False,
        default=list,
        help_text="Multipart: repeat the `files` field once per file.",
    )


class SubmissionTextInputSerializer(serializers.Serializer):
    """A text-only submission as JSON (files need multipart)."""

    text = serializers.CharField(allow_blank=True, required=False, default="", max_length=100_000)


class SubmissionGradeInputSerializer(serializers.Serializer):
    points = serializers.DecimalField(max_digits=7, decimal_places=2, min_value=Decimal(0))
    feedback = serializers.CharField(allow_blank=True, required=False, default="")
    status = serializers.ChoiceField(
        choices=[Submission.Status.GRADED, Submission.Status.RETURNED],
        default=Submission.Status.GRADED,
        help_text="graded: final; returned: the learner may resubmit.",
    )


# --- Gradebook ----------------------------------------------------------------------------


class GradebookQuizColumnSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    lesson = serializers.UUIDField()
    title = serializers.CharField()
    passing_score_percent = serializers.IntegerField()
    score_policy = serializers.ChoiceField(choices=Quiz.ScorePolicy.choices)


class GradebookAssignmentColumnSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    lesson = serializers.UUIDField()
    title = serializers.CharField()
    max_points = serializers.IntegerField()
    passing_points = serializers.IntegerField()


class GradebookQuizCellSerializer(serializers.Serializer):
    quiz = serializers.UUIDField()
    score = serializers.DecimalField(
        max_digits=5, decimal_places=2, allow_null=True, help_text="By the quiz's score policy."
    )
    passed = serializers.BooleanField()
    attempts = serializers.IntegerField()


class GradebookAssignmentCellSerializer(serializers.Serializer):
    assignment = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Submission.Status.choices, allow_null=True)
    points = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True)
    is_late = serializers.BooleanField()
    passed = serializers.BooleanField(allow_null=True)


class GradebookRowSerializer(serializers.Serializer):
    user = UserSummarySerializer()
    enrollment = serializers.UUIDField()
    status = serializers.CharField()
    progress_percent = serializers.IntegerField()
    quizzes = GradebookQuizCellSerializer(many=True, help_text="In the order of `quizzes`.")
    assignments = GradebookAssignmentCellSerializer(
        many=True, help_text="In the order of `assignments`."
    )


class GradebookOutputSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    quizzes = GradebookQuizColumnSerializer(many=True)
    assignments = GradebookAssignmentColumnSerializer(many=True)
    results = GradebookRowSerializer(many=True)


def gradebook_columns_data(
    quizzes: list[Quiz], assignments: list[Assignment]
) -> dict[str, list[dict[str, Any]]]:
    return {
        "quizzes": [
            {
                "id": quiz.pk,
                "lesson": quiz.lesson_id,
                "title": quiz.lesson.title,
                "passing_score_percent": quiz.passing_score_percent,
                "score_policy": quiz.score_policy,
            }
            for quiz in quizzes
        ],
        "assignments": [
            {
                "id": assignment.pk,
                "lesson": assignment.lesson_id,
                "title": assignment.lesson.title,
                "max_points": assignment.max_points,
                "passing_points": assignment.passing_points,
            }
            for assignment in assignments
        ],
    }
