import uuid

from django.db.models import QuerySet
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import MfaRequiredForStaff
from courses.models import Course, Lesson
from courses.selectors import course_get_visible, lesson_get_visible, user_can_manage_course
from enrollments import selectors, services
from enrollments.api.serializers import (
    CourseAnalyticsOutputSerializer,
    EnrollmentOutputSerializer,
    LessonCompleteOutputSerializer,
    LessonProgressInputSerializer,
    LessonProgressOutputSerializer,
    MyEnrollmentOutputSerializer,
    RosterRowSerializer,
)
from enrollments.filters import LearnerEnrollmentFilter, RosterFilter
from enrollments.models import Enrollment
from lms.exceptions import error_responses
from lms.renderers import CSVRenderer

COURSE_ID = OpenApiParameter(
    "id", str, OpenApiParameter.PATH, description="The course's UUID or its slug."
)


def _uuid_or_404(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Http404 from None


def _course_managed_by(request: Request, id_or_slug: str) -> Course:
    """404 when the course is invisible to the caller, 403 when visible but not theirs."""
    course = course_get_visible(user=request.user, id_or_slug=id_or_slug)
    if not user_can_manage_course(user=request.user, course=course):
        raise PermissionDenied("Only the course's instructors and admins can see this.")
    return course


def _lesson(request: Request, pk: str) -> Lesson:
    return lesson_get_visible(user=request.user, pk=_uuid_or_404(pk))


class CourseEnrollView(APIView):
    permission_classes = [IsAuthenticated, MfaRequiredForStaff]

    @extend_schema(
        parameters=[COURSE_ID],
        request=None,
        responses={
            200: EnrollmentOutputSerializer,
            201: EnrollmentOutputSerializer,
            **error_responses(401, 402, 403, 404, 409),
        },
    )
    def post(self, request: Request, pk: str) -> Response:
        """Enrol in a free course: 201 on a new seat, 200 if you were already enrolled."""
        course = course_get_visible(user=request.user, id_or_slug=pk)
        enrollment, created = services.enrollment_create(
            user=request.user, course=course, source=Enrollment.Source.FREE
        )
        return Response(
            EnrollmentOutputSerializer(enrollment, context={"request": request}).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class EnrollmentDetailView(APIView):
    permission_classes = [IsAuthenticated, MfaRequiredForStaff]

    @extend_schema(responses={200: EnrollmentOutputSerializer, **error_responses(401, 404)})
    def get(self, request: Request, pk: str) -> Response:
        """An enrolment: the learner's own, or one of a course you teach."""
        enrollment = selectors.enrollment_get_visible(user=request.user, pk=_uuid_or_404(pk))
        return Response(EnrollmentOutputSerializer(enrollment, context={"request": request}).data)


class EnrollmentCancelView(APIView):
    permission_classes = [IsAuthenticated, MfaRequiredForStaff]

    @extend_schema(
        request=None, responses={200: EnrollmentOutputSerializer, **error_responses(401, 404, 409)}
    )
    def post(self, request: Request, pk: str) -> Response:
        """Cancel an enrolment (its learner, the course's instructors, admins); it is kept."""
        enrollment = selectors.enrollment_get_visible(user=request.user, pk=_uuid_or_404(pk))
        enrollment = services.enrollment_cancel(enrollment=enrollment)
        enrollment = selectors.enrollment_get_visible(user=request.user, pk=enrollment.pk)
        return Response(EnrollmentOutputSerializer(enrollment, context={"request": request}).data)


class LessonCompleteView(APIView):
    permission_classes = [IsAuthenticated, MfaRequiredForStaff]

    @extend_schema(
        request=None,
        responses={200: LessonCompleteOutputSerializer, **error_responses(401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: str) -> Response:
        """Mark the lesson complete (idempotent). 403 `not_enrolled` or `lesson_locked`."""
        progress, enrollment = services.lesson_complete_by_learner(
            user=request.user, lesson=_lesson(request, pk)
        )
        return Response(
            LessonCompleteOutputSerializer({"progress": progress, "enrollment": enrollment}).data
        )


class LessonProgressView(APIView):
    permission_classes = [IsAuthenticated, MfaRequiredForStaff]

    @extend_schema(
        request=LessonProgressInputSerializer,
        responses={200: LessonProgressOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, pk: str) -> Response:
        """Save the video position and add time spent."""
        serializer = LessonProgressInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        progress = services.lesson_progress_save(
            user=request.user, lesson=_lesson(request, pk), **serializer.validated_data
        )
        return Response(LessonProgressOutputSerializer(progress).data)


class MyEnrollmentsView(generics.ListAPIView):
    """My learning: my enrolments with progress and the lesson to continue, recent first."""

    permission_classes = [IsAuthenticated, MfaRequiredForStaff]
    serializer_class = MyEnrollmentOutputSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = LearnerEnrollmentFilter

    def get_queryset(self) -> QuerySet[Enrollment]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Enrollment.objects.none()
        return selectors.enrollment_list_for_learner(user=self.request.user)


class CourseAnalyticsView(APIView):
    permission_classes = [IsAuthenticated, MfaRequiredForStaff]

    @extend_schema(
        parameters=[COURSE_ID],
        responses={200: CourseAnalyticsOutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, pk: str) -> Response:
        """Enrolments by status, completion rate, average progress and the lesson funnel."""
        course = _course_managed_by(request, pk)
        return Response(
            CourseAnalyticsOutputSerializer(
                selectors.course_analytics(course=course, user=request.user)
            ).data
        )


@extend_schema(parameters=[COURSE_ID])
class CourseStudentsView(generics.ListAPIView):
    """The course's learners with progress; `?format=csv` downloads every row as CSV."""

    permission_classes = [IsAuthenticated, MfaRequiredForStaff]
    serializer_class = RosterRowSerializer
    renderer_classes = [JSONRenderer, CSVRenderer]
    filter_backends = [DjangoFilterBackend]
    filterset_class = RosterFilter

    def get_queryset(self) -> QuerySet[Enrollment]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Enrollment.objects.none()
        return selectors.course_roster(course=_course_managed_by(self.request, self.kwargs["pk"]))

    def paginate_queryset(self, queryset: QuerySet[Enrollment]) -> list | None:
        if self.request.accepted_renderer.format == "csv":
            return None  # the export has every row
        return super().paginate_queryset(queryset)

    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        response = super().list(request, *args, **kwargs)
        if request.accepted_renderer.format == "csv":
            response["Content-Disposition"] = 'attachment; filename="students.csv"'
        return response

    def handle_exception(self, exc: Exception) -> Response:
        """Errors keep the common JSON shape, also when the CSV export was asked for."""
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response
