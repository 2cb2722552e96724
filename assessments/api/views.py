"""The assessments API: quizzes, questions, attempts, statistics, assignments, submissions,
signed file downloads and the gradebook. Views are thin: a selector or a service each."""

import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, Http404
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from assessments import selectors, services
from assessments.api.serializers import (
    AssignmentOutputSerializer,
    AssignmentWriteInputSerializer,
    AttemptAnswersInputSerializer,
    AttemptOutputSerializer,
    AttemptSummaryOutputSerializer,
    GradebookOutputSerializer,
    QuestionOutputSerializer,
    QuestionWriteInputSerializer,
    QuizOutputSerializer,
    QuizStatisticsOutputSerializer,
    QuizWriteInputSerializer,
    SubmissionCreateInputSerializer,
    SubmissionGradeInputSerializer,
    SubmissionOutputSerializer,
    SubmissionTextInputSerializer,
    attempt_output_data,
    gradebook_columns_data,
)
from assessments.models import Assignment, Attempt, Quiz, Submission
from courses.models import Course, Lesson
from courses.selectors import (
    course_get_visible,
    lesson_check_access,
    lesson_get_visible,
    user_can_manage_course,
)
from lms.exceptions import error_responses
from lms.pagination import PageNumberPagination
from lms.renderers import CSVRenderer
from lms.uploads import (
    KIND_LESSON_ATTACHMENT,
    KIND_SUBMISSION_FILE,
    UploadMultiPartParser,
    UploadRateThrottle,
    read_download_token,
)

COURSE_ID = OpenApiParameter(
    "id", str, OpenApiParameter.PATH, description="The course's UUID or its slug."
)
MANAGERS_ONLY = "Only the course's instructors and admins can do this."


def _uuid_or_404(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Http404 from None


def _require_manager(request: Request, course: Course) -> None:
    if not user_can_manage_course(user=request.user, course=course):
        raise PermissionDenied(MANAGERS_ONLY)


def _require_reader(request: Request, lesson: Lesson) -> None:
    """Managers, or learners who may open the lesson (403 `not_enrolled`/`lesson_locked`)."""
    lesson_check_access(user=request.user, lesson=lesson)


def _lesson(request: Request, pk: str) -> Lesson:
    return lesson_get_visible(user=request.user, pk=_uuid_or_404(pk))


def _quiz_response(request: Request, quiz: Quiz, *, status_code: int = 200) -> Response:
    quiz = selectors.quiz_get_for_lesson(lesson=quiz.lesson)  # with its question count
    context = {"me": selectors.learner_attempt_summary(quiz=quiz, user=request.user)}
    return Response(QuizOutputSerializer(quiz, context=context).data, status=status_code)


# --- Quizzes ------------------------------------------------------------------------------


class LessonQuizView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: QuizOutputSerializer, **error_responses(401, 403, 404)})
    def get(self, request: Request, pk: str) -> Response:
        """The quiz of a quiz lesson (its settings, not its questions)."""
        lesson = _lesson(request, pk)
        _require_reader(request, lesson)
        return _quiz_response(request, selectors.quiz_get_for_lesson(lesson=lesson))

    @extend_schema(
        request=QuizWriteInputSerializer,
        responses={201: QuizOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: str) -> Response:
        """Create the quiz of a quiz lesson (409 `quiz_exists` if it has one)."""
        lesson = _lesson(request, pk)
        _require_manager(request, lesson.module.course)
        serializer = QuizWriteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        quiz = services.quiz_create(lesson=lesson, **serializer.validated_data)
        return _quiz_response(request, quiz, status_code=status.HTTP_201_CREATED)


class QuizDetailView(APIView):
    permission_classes = [IsAuthenticated]

    def _quiz(self, request: Request, pk: str) -> Quiz:
        return selectors.quiz_get_visible(user=request.user, pk=_uuid_or_404(pk))

    @extend_schema(responses={200: QuizOutputSerializer, **error_responses(401, 403, 404)})
    def get(self, request: Request, pk: str) -> Response:
        """A quiz's settings and your attempts at it."""
        quiz = self._quiz(request, pk)
        _require_reader(request, quiz.lesson)
        return _quiz_response(request, quiz)

    @extend_schema(
        request=QuizWriteInputSerializer,
        responses={200: QuizOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, pk: str) -> Response:
        """Change a quiz's settings."""
        quiz = self._quiz(request, pk)
        _require_manager(request, quiz.lesson.module.course)
        serializer = QuizWriteInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        quiz = services.quiz_update(quiz=quiz, data=serializer.validated_data)
        return _quiz_response(request, quiz)


class QuizQuestionsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={200: QuestionOutputSerializer(many=True), **error_responses(401, 403, 404)}
    )
    def get(self, request: Request, pk: str) -> Response:
        """The questions with their answer key (instructors and admins; learners see
        questions only through an attempt)."""
        quiz = selectors.quiz_get_visible(user=request.user, pk=_uuid_or_404(pk))
        _require_manager(request, quiz.lesson.module.course)
        questions = selectors.question_list(quiz=quiz)
        return Response(QuestionOutputSerializer(questions, many=True).data)

    @extend_schema(
        request=QuestionWriteInputSerializer,
        responses={201: QuestionOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, pk: str) -> Response:
        """Add a question at the end (400 when its answer key does not fit its kind)."""
        quiz = selectors.quiz_get_visible(user=request.user, pk=_uuid_or_404(pk))
        _require_manager(request, quiz.lesson.module.course)
        serializer = QuestionWriteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        question = services.question_create(quiz=quiz, **serializer.validated_data)
        question = selectors.question_get_visible(user=request.user, pk=question.pk)
        return Response(QuestionOutputSerializer(question).data, status=status.HTTP_201_CREATED)


class QuestionDetailView(APIView):
    permission_classes = [IsAuthenticated]

    def _question(self, request: Request, pk: str) -> Any:
        question = selectors.question_get_visible(user=request.user, pk=_uuid_or_404(pk))
        _require_manager(request, question.quiz.lesson.module.course)
        return question

    @extend_schema(responses={200: QuestionOutputSerializer, **error_responses(401, 403, 404)})
    def get(self, request: Request, pk: str) -> Response:
        """A question with its answer key."""
        return Response(QuestionOutputSerializer(self._question(request, pk)).data)

    @extend_schema(
        request=QuestionWriteInputSerializer,
        responses={200: QuestionOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, pk: str) -> Response:
        """Change a question; `choices` replaces the choices (keep one by sending its id)."""
        question = self._question(request, pk)
        serializer = QuestionWriteInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        question = services.question_update(question=question, data=serializer.validated_data)
        question = selectors.question_get_visible(user=request.user, pk=question.pk)
        return Response(QuestionOutputSerializer(question).data)

    @extend_schema(responses={204: None, **error_responses(401, 403, 404)})
    def delete(self, request: Request, pk: str) -> Response:
        """Delete a question (graded attempts keep their scores)."""
        services.question_delete(question=self._question(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Attempts -----------------------------------------------------------------------------


def _attempt_response(request: Request, attempt: Attempt, *, status_code: int = 200) -> Response:
    attempt = selectors.attempt_get_visible(user=request.user, pk=attempt.pk)
    view = selectors.attempt_view(attempt=attempt, user=request.user)
    data = attempt_output_data(view, now=timezone.now())
    return Response(AttemptOutputSerializer(data).data, status=status_code)


class QuizAttemptsView(generics.ListAPIView):
    """GET: your attempts at the quiz (the course's instructors and admins: everyone's)."""

    permission_classes = [IsAuthenticated]
    serializer_class = AttemptSummaryOutputSerializer

    def get_queryset(self) -> QuerySet[Attempt]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Attempt.objects.none()
        quiz = selectors.quiz_get_visible(
            user=self.request.user, pk=_uuid_or_404(self.kwargs["pk"])
        )
        return selectors.attempt_list(quiz=quiz, user=self.request.user)

    @extend_schema(
        request=None,
        responses={201: AttemptOutputSerializer, **error_responses(401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: str) -> Response:
        """Start an attempt: the questions without anything that reveals the answers.

        409 `attempt_in_progress` (with its id), `max_attempts_reached`, `quiz_not_available`;
        403 `not_enrolled` / `lesson_locked`.
        """
        quiz = selectors.quiz_get_visible(user=request.user, pk=_uuid_or_404(pk))
        attempt = services.attempt_start(quiz=quiz, user=request.user)
        return _attempt_response(request, attempt, status_code=status.HTTP_201_CREATED)


class AttemptDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: AttemptOutputSerializer, **error_responses(401, 404)})
    def get(self, request: Request, pk: str) -> Response:
        """An attempt: yours, or any of a course you teach (with the answer key)."""
        attempt = selectors.attempt_get_visible(user=request.user, pk=_uuid_or_404(pk))
        return _attempt_response(request, attempt)


class AttemptAnswersView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=AttemptAnswersInputSerializer,
        responses={200: AttemptOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def put(self, request: Request, pk: str) -> Response:
        """Save answers (each replaces that question's saved answer); 409 `attempt_expired`
        after the deadline, `attempt_closed` once submitted."""
        attempt = selectors.attempt_get_visible(user=request.user, pk=_uuid_or_404(pk))
        serializer = AttemptAnswersInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        answers = [
            services.AnswerInput(
                question=item["question"],
                choices=item.get("choices"),
                value=item.get("value"),
                text=item.get("text"),
                number=item.get("number"),
                has_value="value" in item,
                has_number="number" in item,
            )
            for item in serializer.validated_data["answers"]
        ]
        services.attempt_save_answers(attempt=attempt, user=request.user, answers=answers)
        return _attempt_response(request, attempt)


class AttemptSubmitView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={200: AttemptOutputSerializer, **error_responses(401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: str) -> Response:
        """Grade on the server and close: score and pass, and the correct answers and
        explanations only if the quiz shows them."""
        attempt = selectors.attempt_get_visible(user=request.user, pk=_uuid_or_404(pk))
        attempt = services.attempt_submit(attempt=attempt, user=request.user)
        return _attempt_response(request, attempt)


class QuizStatisticsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={200: QuizStatisticsOutputSerializer, **error_responses(401, 403, 404)}
    )
    def get(self, request: Request, pk: str) -> Response:
        """Attempts, average and median score, pass rate, per-question percent correct and
        choice distribution (instructors and admins)."""
        quiz = selectors.quiz_get_visible(user=request.user, pk=_uuid_or_404(pk))
        _require_manager(request, quiz.lesson.module.course)
        statistics = selectors.quiz_statistics(quiz=quiz)
        return Response(QuizStatisticsOutputSerializer(statistics).data)


# --- Assignments and submissions ----------------------------------------------------------


def _assignment_response(assignment: Assignment, *, status_code: int = 200) -> Response:
    return Response(AssignmentOutputSerializer(assignment).data, status=status_code)


class LessonAssignmentView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: AssignmentOutputSerializer, **error_responses(401, 403, 404)})
    def get(self, request: Request, pk: str) -> Response:
        """The assignment of an assignment lesson."""
        lesson = _lesson(request, pk)
        _require_reader(request, lesson)
        return _assignment_response(selectors.assignment_get_for_lesson(lesson=lesson))

    @extend_schema(
        request=AssignmentWriteInputSerializer,
        responses={201: AssignmentOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: str) -> Response:
        """Create the assignment of an assignment lesson (409 `assignment_exists`)."""
        lesson = _lesson(request, pk)
        _require_manager(request, lesson.module.course)
        serializer = AssignmentWriteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assignment = services.assignment_create(lesson=lesson, **serializer.validated_data)
        return _assignment_response(assignment, status_code=status.HTTP_201_CREATED)


class AssignmentDetailView(APIView):
    permission_classes = [IsAuthenticated]

    def _assignment(self, request: Request, pk: str) -> Assignment:
        return selectors.assignment_get_visible(user=request.user, pk=_uuid_or_404(pk))

    @extend_schema(responses={200: AssignmentOutputSerializer, **error_responses(401, 403, 404)})
    def get(self, request: Request, pk: str) -> Response:
        """An assignment."""
        assignment = self._assignment(request, pk)
        _require_reader(request, assignment.lesson)
        return _assignment_response(assignment)

    @extend_schema(
        request=AssignmentWriteInputSerializer,
        responses={200: AssignmentOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, pk: str) -> Response:
        """Change an assignment."""
        assignment = self._assignment(request, pk)
        _require_manager(request, assignment.lesson.module.course)
        serializer = AssignmentWriteInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        assignment = services.assignment_update(
            assignment=assignment, data=serializer.validated_data
        )
        return _assignment_response(assignment)


class AssignmentSubmissionsView(generics.ListAPIView):
    """GET: your submission (the course's instructors and admins: everyone's)."""

    permission_classes = [IsAuthenticated]
    serializer_class = SubmissionOutputSerializer
    parser_classes = [UploadMultiPartParser, FormParser, JSONParser]

    def get_throttles(self) -> list[BaseThrottle]:
        throttles = super().get_throttles()
        if self.request.method == "POST":
            throttles.append(UploadRateThrottle())
        return throttles

    def get_queryset(self) -> QuerySet[Submission]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Submission.objects.none()
        assignment = selectors.assignment_get_visible(
            user=self.request.user, pk=_uuid_or_404(self.kwargs["pk"])
        )
        return selectors.submission_list(assignment=assignment, user=self.request.user)

    @extend_schema(
        request={
            "multipart/form-data": SubmissionCreateInputSerializer,
            "application/json": SubmissionTextInputSerializer,
        },
        responses={
            201: SubmissionOutputSerializer,
            **error_responses(400, 401, 403, 404, 409, 429),
        },
    )
    def post(self, request: Request, pk: str) -> Response:
        """Submit text and/or files (multipart); resubmitting replaces both until graded.

        Each refused file is a 400 naming it: `file_too_large`, `file_empty`,
        `file_type_not_allowed`, `file_content_mismatch`, `file_name_invalid`.
        """
        assignment = selectors.assignment_get_visible(user=request.user, pk=_uuid_or_404(pk))
        serializer = SubmissionCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        submission = services.submission_submit(
            assignment=assignment, user=request.user, **serializer.validated_data
        )
        submission = selectors.submission_get_visible(user=request.user, pk=submission.pk)
        return Response(
            SubmissionOutputSerializer(submission, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class SubmissionDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: SubmissionOutputSerializer, **error_responses(401, 404)})
    def get(self, request: Request, pk: str) -> Response:
        """A submission: yours, or any of a course you teach."""
        submission = selectors.submission_get_visible(user=request.user, pk=_uuid_or_404(pk))
        return Response(SubmissionOutputSerializer(submission, context={"request": request}).data)


class SubmissionGradeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=SubmissionGradeInputSerializer,
        responses={200: SubmissionOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, pk: str) -> Response:
        """Grade (final) or return (the learner may resubmit) with points and feedback; the
        learner is emailed."""
        submission = selectors.submission_get_visible(user=request.user, pk=_uuid_or_404(pk))
        _require_manager(request, submission.assignment.lesson.module.course)
        serializer = SubmissionGradeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.submission_grade(
            submission=submission, grader=request.user, **serializer.validated_data
        )
        submission = selectors.submission_get_visible(user=request.user, pk=submission.pk)
        return Response(SubmissionOutputSerializer(submission, context={"request": request}).data)


# --- Files --------------------------------------------------------------------------------


class FileDownloadView(APIView):
    """A private file through a signed, short-lived token; the caller's right is checked too."""

    permission_classes = [AllowAny]  # the token and the file's own rule decide, below

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
            **error_responses(401, 403, 404),
        }
    )
    def get(self, request: Request, token: str) -> HttpResponseBase:
        """Download a file: 403 `download_link_invalid` / `download_link_expired`, 404 when
        the file is gone or not yours."""
        kind, object_id = read_download_token(token)
        pk = _uuid_or_404(object_id)
        if kind == KIND_SUBMISSION_FILE:
            if not request.user.is_authenticated:
                raise NotAuthenticated()
            stored = selectors.submission_file_get_readable(user=request.user, pk=pk)
            return _file_response(stored.file, stored.original_name, stored.content_type)
        if kind == KIND_LESSON_ATTACHMENT:
            lesson = lesson_get_visible(user=request.user, pk=pk)
            lesson_check_access(user=request.user, lesson=lesson)
            if not lesson.attachment:
                raise Http404
            extension = (
                lesson.attachment.name.rsplit(".", 1)[-1] if "." in lesson.attachment.name else ""
            )
            name = f"{slugify(lesson.title) or 'attachment'}.{extension}".rstrip(".")
            return _file_response(lesson.attachment, name, "application/octet-stream")
        raise Http404


def _file_response(file: Any, filename: str, content_type: str) -> FileResponse:
    try:
        handle = file.storage.open(file.name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle, as_attachment=True, filename=filename, content_type=content_type
    )
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox"
    return response


# --- Gradebook ----------------------------------------------------------------------------


@extend_schema(parameters=[COURSE_ID])
class CourseGradebookView(APIView):
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        responses={
            200: GradebookOutputSerializer,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR),
            **error_responses(401, 403, 404),
        }
    )
    def get(self, request: Request, pk: str) -> Response:
        """Per learner: quiz scores (best or last, by each quiz's policy), assignment grades
        and progress. `?format=csv` downloads every learner as CSV."""
        course = course_get_visible(user=request.user, id_or_slug=pk)
        _require_manager(request, course)
        quizzes, assignments = selectors.gradebook_columns(course=course)
        enrollments = selectors.gradebook_enrollments(course=course)
        if request.accepted_renderer.format == "csv":
            rows = selectors.gradebook_rows(
                enrollments=list(enrollments), quizzes=quizzes, assignments=assignments
            )
            flat = selectors.gradebook_csv_rows(rows=rows, quizzes=quizzes, assignments=assignments)
            response = Response(flat)
            response["Content-Disposition"] = 'attachment; filename="gradebook.csv"'
            return response
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(enrollments, request, view=self) or []
        rows = selectors.gradebook_rows(
            enrollments=list(page), quizzes=quizzes, assignments=assignments
        )
        data = {
            "count": paginator.page.paginator.count if paginator.page else 0,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            **gradebook_columns_data(quizzes, assignments),
            "results": rows,
        }
        return Response(GradebookOutputSerializer(data).data)
