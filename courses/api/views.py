import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.permissions import IsAdmin, MfaRequiredForStaff
from courses import caching, hooks, selectors, services
from courses.api.permissions import CanManageCourse, IsInstructorOrAdmin
from courses.api.serializers import (
    CategoryCreateInputSerializer,
    CategoryOutputSerializer,
    CourseDetailOutputSerializer,
    CourseListOutputSerializer,
    CourseWriteInputSerializer,
    LessonDetailOutputSerializer,
    LessonSummaryOutputSerializer,
    LessonWriteInputSerializer,
    ModuleOutputSerializer,
    ModuleWriteInputSerializer,
    OutlineOutputSerializer,
    ReorderInputSerializer,
)
from courses.filters import CourseFilter
from courses.models import Category, Course, Lesson, Module
from lms.exceptions import error_responses

ID_OR_SLUG = OpenApiParameter(
    "id", str, OpenApiParameter.PATH, description="The course's UUID or its slug."
)


@extend_schema(responses={200: CategoryOutputSerializer})
class CategoryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Course categories (a tree through `parent`)."""

    serializer_class = CategoryOutputSerializer

    def get_permissions(self) -> list[BasePermission]:
        return [AllowAny()] if self.action == "list" else [IsAdmin()]

    def get_queryset(self) -> QuerySet[Category]:
        return selectors.category_list()

    @extend_schema(
        request=CategoryCreateInputSerializer,
        responses={201: CategoryOutputSerializer, **error_responses(400, 401, 403)},
    )
    def create(self, request: Request) -> Response:
        """Add a category (admins)."""
        serializer = CategoryCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        category = services.category_create(**serializer.validated_data)
        return Response(CategoryOutputSerializer(category).data, status=status.HTTP_201_CREATED)


class CourseViewSet(viewsets.GenericViewSet):
    """The catalog, and course authoring by the course's instructors."""

    filter_backends = [DjangoFilterBackend]
    filterset_class = CourseFilter
    serializer_class = CourseListOutputSerializer
    lookup_value_regex = "[^/]+"

    def get_permissions(self) -> list[BasePermission]:
        if self.action in ("list", "retrieve", "outline", "modules"):
            return [AllowAny()]  # visibility is applied by the selectors; writes check below
        if self.action == "create":
            return [IsAuthenticated(), MfaRequiredForStaff(), IsInstructorOrAdmin()]
        return [IsAuthenticated(), MfaRequiredForStaff(), CanManageCourse()]

    def get_queryset(self) -> QuerySet[Course]:
        return selectors.course_list_for_catalog(user=self.request.user)

    def get_object(self) -> Course:
        course = selectors.course_get_visible(user=self.request.user, id_or_slug=self.kwargs["pk"])
        self.check_object_permissions(self.request, course)
        return course

    def _course_to_manage(self) -> Course:
        course = self.get_object()
        if not CanManageCourse().has_object_permission(self.request, self, course):
            self.permission_denied(self.request, message=CanManageCourse.message)
        return course

    @extend_schema(responses={200: CourseListOutputSerializer(many=True), **error_responses(400)})
    def list(self, request: Request) -> Response:
        """Published courses (or, with `mine=true`, the courses you teach in any status)."""
        # A URL answered from the cache was a valid public listing when it was stored.
        if (cached := caching.catalog_page_cached(request.build_absolute_uri())) is not None:
            return Response(cached)
        filterset = CourseFilter(request.query_params, self.get_queryset(), request=request)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        if filterset.is_public_listing:
            data = caching.catalog_page(
                request.build_absolute_uri(), lambda: self._page_data(filterset.qs)
            )
            return Response(data)
        return Response(self._page_data(filterset.qs))

    def _page_data(self, queryset: QuerySet[Course]) -> dict[str, Any]:
        page = self.paginate_queryset(queryset)
        data = CourseListOutputSerializer(page, many=True, context=self.get_serializer_context())
        return self.get_paginated_response(data.data).data

    @extend_schema(
        parameters=[ID_OR_SLUG],
        responses={200: CourseDetailOutputSerializer, **error_responses(404)},
    )
    def retrieve(self, request: Request, pk: str) -> Response:
        """A course by id or slug. Drafts are visible only to their instructors and admins."""
        return Response(self._detail(self.get_object()))

    @extend_schema(
        request=CourseWriteInputSerializer,
        responses={201: CourseDetailOutputSerializer, **error_responses(400, 401, 403, 409)},
    )
    def create(self, request: Request) -> Response:
        """Create a draft course; you are its owner."""
        serializer = CourseWriteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        course = services.course_create(owner=request.user, **serializer.validated_data)
        return Response(self._detail(course), status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[ID_OR_SLUG],
        request=CourseWriteInputSerializer,
        responses={200: CourseDetailOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        """Change a course. Only the owner and admins change the co-instructors."""
        course = self._course_to_manage()
        serializer = CourseWriteInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        course = services.course_update(
            course=course, actor=request.user, data=serializer.validated_data
        )
        return Response(self._detail(course))

    @extend_schema(
        parameters=[ID_OR_SLUG], responses={204: None, **error_responses(401, 403, 404, 409)}
    )
    def destroy(self, request: Request, pk: str) -> Response:
        """Delete a course without enrolments (409 otherwise: archive it)."""
        services.course_delete(course=self._course_to_manage())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        parameters=[ID_OR_SLUG],
        request=None,
        responses={200: CourseDetailOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str) -> Response:
        """Publish after validation; each problem is listed under `fields`."""
        course = services.course_publish(course=self._course_to_manage())
        return Response(self._detail(course))

    @extend_schema(
        parameters=[ID_OR_SLUG],
        request=None,
        responses={200: CourseDetailOutputSerializer, **error_responses(401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, pk: str) -> Response:
        """Take the course out of the catalog; enrolled learners keep access."""
        course = services.course_archive(course=self._course_to_manage())
        return Response(self._detail(course))

    @extend_schema(
        parameters=[ID_OR_SLUG],
        request=None,
        responses={201: CourseDetailOutputSerializer, **error_responses(401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def duplicate(self, request: Request, pk: str) -> Response:
        """Copy the course with its modules and lessons into a new draft."""
        copy = services.course_duplicate(course=self._course_to_manage())
        return Response(self._detail(copy), status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[ID_OR_SLUG], responses={200: OutlineOutputSerializer, **error_responses(404)}
    )
    @action(detail=True, methods=["get"])
    def outline(self, request: Request, pk: str) -> Response:
        """Modules and lessons in order (no bodies), with your completion flags when enrolled."""
        # Visibility is all the outline needs of the course (AllowAny: no object permission).
        course = selectors.course_get_visible_row(user=request.user, id_or_slug=pk)
        # Cached serialized, as a caller who is not enrolled sees it: serializing every
        # lesson on every read cost more than the rest of the request.
        outline = caching.course_outline_response(course.pk, lambda: _outline_body(course))
        user = request.user if request.user.is_authenticated else None
        state = hooks.learner_state(user=user, course_id=course.pk)
        if not state.is_enrolled:
            return Response(outline)
        completed = {str(lesson_id) for lesson_id in state.completed_lesson_ids}
        data = {
            **outline,
            "is_enrolled": True,
            "modules": [
                {
                    **module,
                    "lessons": [
                        {**lesson, "is_completed": lesson["id"] in completed}
                        for lesson in module["lessons"]
                    ],
                }
                for module in outline["modules"]
            ],
        }
        return Response(data)

    @extend_schema(
        parameters=[ID_OR_SLUG],
        request=ModuleWriteInputSerializer,
        responses={
            200: ModuleOutputSerializer(many=True),
            201: ModuleOutputSerializer,
            **error_responses(400, 401, 403, 404),
        },
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)  # the whole list
    def modules(self, request: Request, pk: str) -> Response:
        """GET: the course's modules in order. POST: add a module at the end."""
        if request.method == "GET":
            modules = selectors.module_list(course=self.get_object())
            return Response(ModuleOutputSerializer(modules, many=True).data)
        course = self._course_to_manage()
        serializer = ModuleWriteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        module = services.module_create(course=course, **serializer.validated_data)
        return Response(ModuleOutputSerializer(module).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[ID_OR_SLUG],
        request=ReorderInputSerializer,
        responses={200: ModuleOutputSerializer(many=True), **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="modules/reorder")
    def reorder_modules(self, request: Request, pk: str) -> Response:
        """Set the order of all modules at once (atomic)."""
        course = self._course_to_manage()
        serializer = ReorderInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        modules = services.modules_reorder(course=course, order=serializer.validated_data["order"])
        return Response(ModuleOutputSerializer(modules, many=True).data)

    def _detail(self, course: Course) -> dict[str, Any]:
        return CourseDetailOutputSerializer(course, context=self.get_serializer_context()).data


def _outline_body(course: Course) -> dict[str, Any]:
    """The outline response for a caller who is not enrolled (plain, cacheable data)."""
    outline = selectors.course_outline_data(course=course)
    data = {
        **outline,
        "is_enrolled": False,
        "modules": [
            {
                **module,
                "lessons": [{**lesson, "is_completed": False} for lesson in module["lessons"]],
            }
            for module in outline["modules"]
        ],
    }
    return dict(OutlineOutputSerializer(data).data)


class _CourseContentViewSet(viewsets.GenericViewSet):
    """Modules and lessons: readable where the course is visible, writable by its managers."""

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method == "GET":
            return [AllowAny()]
        return [IsAuthenticated(), MfaRequiredForStaff(), CanManageCourse()]

    def _pk(self) -> uuid.UUID:
        try:
            return uuid.UUID(self.kwargs["pk"])
        except ValueError:
            raise Http404 from None


class ModuleViewSet(_CourseContentViewSet):
    """One module of a course, and its lessons."""

    serializer_class = ModuleOutputSerializer

    def get_queryset(self) -> QuerySet[Module]:
        return Module.objects.none()  # objects come from get_object(); this is for the schema

    def get_object(self) -> Module:
        module = selectors.module_get_visible(user=self.request.user, pk=self._pk())
        self.check_object_permissions(self.request, module)
        return module

    @extend_schema(responses={200: ModuleOutputSerializer, **error_responses(404)})
    def retrieve(self, request: Request, pk: str) -> Response:
        """A module."""
        return Response(ModuleOutputSerializer(self.get_object()).data)

    @extend_schema(
        request=ModuleWriteInputSerializer,
        responses={200: ModuleOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        """Rename or describe a module."""
        module = self.get_object()
        serializer = ModuleWriteInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        module = services.module_update(module=module, data=serializer.validated_data)
        return Response(ModuleOutputSerializer(module).data)

    @extend_schema(responses={204: None, **error_responses(401, 403, 404)})
    def destroy(self, request: Request, pk: str) -> Response:
        """Delete a module and its lessons."""
        services.module_delete(module=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=LessonWriteInputSerializer,
        responses={
            200: LessonSummaryOutputSerializer(many=True),
            201: LessonDetailOutputSerializer,
            **error_responses(400, 401, 403, 404),
        },
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)  # the whole list
    def lessons(self, request: Request, pk: str) -> Response:
        """GET: the module's lessons in order (no bodies). POST: add a lesson at the end."""
        module = self.get_object()
        if request.method == "GET":
            lessons = selectors.lesson_list(module=module)
            return Response(LessonSummaryOutputSerializer(lessons, many=True).data)
        serializer = LessonWriteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lesson = services.lesson_create(module=module, **serializer.validated_data)
        return Response(LessonDetailOutputSerializer(lesson).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ReorderInputSerializer,
        responses={
            200: LessonSummaryOutputSerializer(many=True),
            **error_responses(400, 401, 403, 404),
        },
    )
    @action(detail=True, methods=["post"], url_path="lessons/reorder")
    def reorder_lessons(self, request: Request, pk: str) -> Response:
        """Set the order of all the module's lessons at once (atomic)."""
        module = self.get_object()
        serializer = ReorderInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lessons = services.lessons_reorder(module=module, order=serializer.validated_data["order"])
        return Response(LessonSummaryOutputSerializer(lessons, many=True).data)


class LessonViewSet(_CourseContentViewSet):
    """One lesson. Its body is for enrolled learners, previews, instructors and admins."""

    serializer_class = LessonDetailOutputSerializer

    def get_queryset(self) -> QuerySet[Lesson]:
        return Lesson.objects.none()  # objects come from get_object(); this is for the schema

    def get_object(self) -> Lesson:
        lesson = selectors.lesson_get_visible(user=self.request.user, pk=self._pk())
        self.check_object_permissions(self.request, lesson)
        return lesson

    @extend_schema(responses={200: LessonDetailOutputSerializer, **error_responses(403, 404)})
    def retrieve(self, request: Request, pk: str) -> Response:
        """A lesson with its body (403 `not_enrolled` or `lesson_locked` if you may not read it)."""
        lesson = self.get_object()
        selectors.lesson_check_access(user=request.user, lesson=lesson)
        return Response(LessonDetailOutputSerializer(lesson, context={"request": request}).data)

    @extend_schema(
        request=LessonWriteInputSerializer,
        responses={200: LessonDetailOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        """Change a lesson."""
        lesson = self.get_object()
        serializer = LessonWriteInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        lesson = services.lesson_update(lesson=lesson, data=serializer.validated_data)
        return Response(LessonDetailOutputSerializer(lesson).data)

    @extend_schema(responses={204: None, **error_responses(401, 403, 404)})
    def destroy(self, request: Request, pk: str) -> Response:
        """Delete a lesson."""
        services.lesson_delete(lesson=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
