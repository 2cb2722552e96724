"""The back office for enrolments.

Admins see every enrolment. Instructors see, grant and act on the enrolments of the courses
they own or co-teach; they have no Django model permissions, so every has_*_permission method
decides from the role and the course (as in courses/admin.py). Enrolments are never edited
field by field: granting goes through services.enrollment_create, and status changes through
the actions, which call the services. Progress is kept by the services and only shown here.
"""

import csv
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.forms.models import ModelChoiceField
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone

from accounts.models import User, normalize_email
from courses.models import Course
from courses.selectors import course_list_taught, user_teaches_course
from enrollments import services
from enrollments.models import Enrollment, LessonProgress
from lms.exceptions import ApplicationError
from lms.renderers import safe_csv_cell

# What staff may grant: a free course as a normal free enrolment, any course as a grant.
# Purchases come from payments and imports from `manage.py import_users`.
GRANT_SOURCES = [
    (Enrollment.Source.ADMIN, Enrollment.Source.ADMIN.label),
    (Enrollment.Source.FREE, Enrollment.Source.FREE.label),
]

CSV_COLUMNS = [
    "email",
    "full_name",
    "course_slug",
    "course_title",
    "status",
    "source",
    "progress_percent",
    "completed_required_lessons",
    "enrolled_at",
    "completed_at",
    "cancelled_at",
    "last_accessed_at",
]


def _teaching_staff(request: HttpRequest) -> User | None:
    """The signed-in user if active staff who are instructors or admins: this admin's users."""
    user = request.user
    if (
        isinstance(user, User)
        and user.is_active
        and user.is_staff
        and (user.is_admin or user.is_instructor)
    ):
        return user
    return None


def _is_teaching_staff(request: HttpRequest) -> bool:
    return _teaching_staff(request) is not None


def _is_back_office(request: HttpRequest) -> bool:
    user = _teaching_staff(request)
    return user is not None and user.is_admin


def _can_manage(request: HttpRequest, course: Course | None) -> bool:
    """Admins manage every course's enrolments, instructors those of the courses they teach."""
    user = _teaching_staff(request)
    if user is None:
        return False
    if course is None or user.is_admin:
        return True
    return user_teaches_course(user=user, course=course)


def _courses_in_scope(request: HttpRequest) -> QuerySet[Course]:
    """Every course for admins, the courses they teach for instructors, none for others."""
    user = _teaching_staff(request)
    if user is None:
        return Course.objects.none()
    return Course.objects.all() if user.is_admin else course_list_taught(user=user)


def _adopt(instance: Model, saved: Model) -> None:
    """Point the admin's unsaved instance at the row the service created (log entry, redirect)."""
    instance.pk = saved.pk
    instance.refresh_from_db()
    instance._state.adding = False


def _error_text(error: ApplicationError | ValidationError) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return f"{error.message} (code: {error.code})"


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return safe_csv_cell(value)


class LearnerField(ModelChoiceField):
    """An active account, typed as its email address (any case).

    An email rather than a user picker: instructors do not browse the user directory, and the
    user autocomplete only lists teaching staff to them.
    """

    widget = forms.EmailInput

    def to_python(self, value: Any) -> User | None:
        if isinstance(value, str):
            value = normalize_email(value)
        return super().to_python(value)


class EnrollmentGrantForm(forms.ModelForm):
    """The add form. It only checks its input; enrollment_create (in save_model) decides.

    The learner is not the model's `user` field, so the form's model validation skips the
    (user, course) unique constraint: enrolling again reactivates a cancelled enrolment, which
    only the service knows how to do.
    """

    learner = LearnerField(
        queryset=User.objects.filter(is_active=True),
        to_field_name="email",
        label="Learner email",
        error_messages={"invalid_choice": "No active account has this email address."},
    )
    source = forms.ChoiceField(choices=GRANT_SOURCES, initial=Enrollment.Source.ADMIN)

    class Meta:
        model = Enrollment
        fields = ("course", "source")


class LessonProgressInline(admin.TabularInline):
    """Lesson by lesson progress on the enrolment page; written only by the services."""

    model = LessonProgress
    fields = ["lesson", "completed_at", "position_seconds", "time_spent_seconds"]
    readonly_fields = ["lesson", "completed_at", "position_seconds", "time_spent_seconds"]
    ordering = ["lesson__module__position", "lesson__position"]
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[LessonProgress]:
        return super().get_queryset(request).select_related("lesson")

    # The enrolment page itself is scoped by EnrollmentAdmin; the inline only follows it.
    def has_view_permission(self, request: HttpRequest, obj: Enrollment | None = None) -> bool:
        return _can_manage(request, obj.course if obj is not None else None)

    def has_add_permission(self, request: HttpRequest, obj: Enrollment | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Enrollment | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Enrollment | None = None) -> bool:
        return False


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = [
        "learner_email",
        "course",
        "status",
        "source",
        "progress_percent",
        "enrolled_at",
        "completed_at",
        "last_accessed_at",
    ]
    list_filter = [("course", admin.RelatedOnlyFieldListFilter), "status", "source"]
    list_select_related = ["user", "course"]
    search_fields = ["user__email", "user__full_name", "course__title"]
    date_hierarchy = "enrolled_at"
    autocomplete_fields = ["course"]
    actions = ["cancel_enrollments", "mark_completed", "export_csv"]
    readonly_fields = [
        "user",
        "course",
        "status",
        "source",
        "progress_percent",
        "completed_required_lessons",
        "enrolled_at",
        "completed_at",
        "cancelled_at",
        "last_accessed_at",
        "created_at",
        "updated_at",
    ]

    @admin.display(description="Learner", ordering="user__email")
    def learner_email(self, enrollment: Enrollment) -> str:
        return enrollment.user.email

    def get_queryset(self, request: HttpRequest) -> QuerySet[Enrollment]:
        queryset = super().get_queryset(request).select_related("user", "course")
        if _is_back_office(request):
            return queryset
        return queryset.filter(course__in=_courses_in_scope(request))

    # --- Permissions: roles and teaching, not Django model permissions ---

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_teaching_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Enrollment | None = None) -> bool:
        return _can_manage(request, obj.course if obj is not None else None)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_teaching_staff(request)

    def has_change_permission(self, request: HttpRequest, obj: Enrollment | None = None) -> bool:
        # No field is edited in place: the change page is a view, status moves by actions.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Enrollment | None = None) -> bool:
        # Enrolments are records (progress, certificates, payments): cancel them instead.
        user = _teaching_staff(request)
        return user is not None and user.is_superuser

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return _is_teaching_staff(request)

    def has_complete_permission(self, request: HttpRequest) -> bool:
        return _is_teaching_staff(request)

    # --- The forms: a grant form on the add page, a read-only page for an enrolment ---

    def get_fields(self, request: HttpRequest, obj: Enrollment | None = None) -> list[Any]:
        if obj is None:
            return ["learner", "course", "source"]
        return list(self.readonly_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: Enrollment | None = None) -> list[str]:
        return [] if obj is None else list(self.readonly_fields)

    def get_form(
        self,
        request: HttpRequest,
        obj: Enrollment | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[forms.ModelForm]:
        if obj is None:
            kwargs["form"] = EnrollmentGrantForm
        return super().get_form(request, obj, change, **kwargs)

    def get_inlines(self, request: HttpRequest, obj: Enrollment | None) -> list[type]:
        return [] if obj is None else [LessonProgressInline]

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField | None:
        if db_field.name == "course":
            kwargs["queryset"] = _courses_in_scope(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (ApplicationError, ValidationError) as error:
            # enrollment_create refused (course full, closed, paid...): the admin's transaction
            # has rolled back, so no row and no log entry. Back to the form, filled in again.
            self.message_user(request, f"Not enrolled: {_error_text(error)}", messages.ERROR)
            kept = {name: request.POST.get(name, "") for name in ("learner", "course", "source")}
            return HttpResponseRedirect(f"{request.path}?{urlencode(kept)}")

    def save_model(
        self, request: HttpRequest, obj: Enrollment, form: forms.ModelForm, change: bool
    ) -> None:
        if change:  # unreachable: has_change_permission is False
            raise ValidationError("Enrolments are changed through the actions.")
        learner, course = form.cleaned_data["learner"], form.cleaned_data["course"]
        enrollment, created = services.enrollment_create(
            user=learner, course=course, source=form.cleaned_data["source"]
        )
        if not created:
            raise ApplicationError(
                f"{learner.email} is already enrolled in “{course}”.", code="already_enrolled"
            )
        _adopt(obj, enrollment)

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm, formsets: list, change: bool
    ) -> None:
        # Nothing related is written from here: the add page has no inlines, the service did
        # the rest.
        return

    def delete_model(self, request: HttpRequest, obj: Enrollment) -> None:
        # Superusers only. Cancel first so the course's seat count stays right.
        with transaction.atomic():
            if obj.is_active:
                services.enrollment_cancel(enrollment=obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Enrollment]) -> None:
        with transaction.atomic():
            for enrollment in queryset:
                self.delete_model(request, enrollment)

    # --- Actions, each through a service ---

    @admin.action(
        description="Cancel selected enrolments (frees their seats)", permissions=["cancel"]
    )
    def cancel_enrollments(self, request: HttpRequest, queryset: QuerySet[Enrollment]) -> None:
        cancelled = 0
        for enrollment in queryset.filter(status__in=Enrollment.HOLDS_SEAT):
            services.enrollment_cancel(enrollment=enrollment)
            cancelled += 1
        skipped = queryset.count() - cancelled
        self.message_user(request, f"{cancelled} enrolment(s) cancelled.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} enrolment(s) skipped: already cancelled or refunded.",
                messages.WARNING,
            )

    @admin.action(description="Mark selected enrolments completed", permissions=["complete"])
    def mark_completed(self, request: HttpRequest, queryset: QuerySet[Enrollment]) -> None:
        completed = 0
        for enrollment in queryset.filter(status=Enrollment.Status.ACTIVE):
            enrollment = services.enrollment_mark_completed(enrollment=enrollment)
            completed += enrollment.status == Enrollment.Status.COMPLETED
        skipped = queryset.count() - completed
        self.message_user(request, f"{completed} enrolment(s) marked completed.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} enrolment(s) skipped: only active enrolments can be completed.",
                messages.WARNING,
            )

    @admin.action(description="Export selected enrolments as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Enrollment]) -> HttpResponse:
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="enrollments-{stamp}.csv"'
        writer = csv.writer(response)
        writer.writerow(CSV_COLUMNS)
        rows = queryset.select_related("user", "course").order_by("course__title", "user__email")
        for enrollment in rows.iterator(chunk_size=2000):
            writer.writerow(
                _csv_value(value)
                for value in (
                    enrollment.user.email,
                    enrollment.user.full_name,
                    enrollment.course.slug,
                    enrollment.course.title,
                    enrollment.status,
                    enrollment.source,
                    enrollment.progress_percent,
                    enrollment.completed_required_lessons,
                    enrollment.enrolled_at,
                    enrollment.completed_at,
                    enrollment.cancelled_at,
                    enrollment.last_accessed_at,
                )
            )
        return response
