"""The back office for quizzes and assignments.

Admins see everything. Instructors see only the quizzes, questions, assignments and
submissions of the courses they own or co-teach; they have no Django model permissions, so
every has_*_permission method decides from the role and the course (as in courses/admin.py).
Writes go through assessments.services: a question is saved with its choices in one call, so
its answer key is checked as a whole; grading sends the learner's email. Submission files are
downloaded through the same signed path as the API. Attempts are read-only records.
"""

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.html import format_html, format_html_join

from accounts.models import User
from assessments import services
from assessments.models import (
    Assignment,
    Attempt,
    Choice,
    Question,
    Quiz,
    Submission,
    SubmissionFile,
)
from courses.models import Course, Lesson
from courses.selectors import course_list_taught, user_teaches_course
from lms.exceptions import ApplicationError
from lms.uploads import KIND_SUBMISSION_FILE, download_url


def _teaching_staff(request: HttpRequest) -> User | None:
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
    """Admins manage every course's assessments, instructors those of courses they teach."""
    user = _teaching_staff(request)
    if user is None:
        return False
    if course is None or user.is_admin:
        return True
    return user_teaches_course(user=user, course=course)


def _courses_in_scope(request: HttpRequest) -> QuerySet[Course]:
    user = _teaching_staff(request)
    if user is None:
        return Course.objects.none()
    return Course.objects.all() if user.is_admin else course_list_taught(user=user)


def _adopt(instance: Model, saved: Model) -> None:
    """Point the admin's unsaved instance at the row a service created."""
    instance.pk = saved.pk
    instance.refresh_from_db()
    instance._state.adding = False


def _error_text(error: ApplicationError | ValidationError) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return f"{error.message} (code: {error.code})"


class _ScopedAdmin(admin.ModelAdmin):
    """Role- and course-scoped permissions; `_course(obj)` names the object's course."""

    course_path = ""  # the ORM path from the model to its course

    def _course(self, obj: Any) -> Course:
        raise NotImplementedError

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if _is_back_office(request):
            return queryset
        return queryset.filter(**{f"{self.course_path}__in": _courses_in_scope(request)})

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_teaching_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _can_manage(request, None if obj is None else self._course(obj))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_teaching_staff(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _can_manage(request, None if obj is None else self._course(obj))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _can_manage(request, None if obj is None else self._course(obj))

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
            # A refusal only a service can see arrives after the admin's transaction rolled
            # everything back: show it instead of a 500.
            self.message_user(request, _error_text(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField | None:
        if db_field.name == "lesson" and not _is_back_office(request):
            kwargs["queryset"] = Lesson.objects.filter(
                module__course__in=_courses_in_scope(request)
            )
        if db_field.name == "quiz" and not _is_back_office(request):
            kwargs["queryset"] = Quiz.objects.filter(
                lesson__module__course__in=_courses_in_scope(request)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# --- Quizzes ------------------------------------------------------------------------------


class QuestionInline(admin.StackedInline):
    """The quiz's questions, in order; choices are edited on each question's own page."""

    model = Question
    fields = ["position", "kind", "text", "points", "explanation"]
    readonly_fields = ["position", "kind"]
    extra = 0
    show_change_link = True
    ordering = ["position"]

    def has_add_permission(self, request: HttpRequest, obj: Quiz | None = None) -> bool:
        return False  # a question needs its answer key: "Add question" has the whole form

    def has_view_permission(self, request: HttpRequest, obj: Quiz | None = None) -> bool:
        return _can_manage(request, obj.lesson.module.course if obj else None)

    def has_change_permission(self, request: HttpRequest, obj: Quiz | None = None) -> bool:
        return _can_manage(request, obj.lesson.module.course if obj else None)

    def has_delete_permission(self, request: HttpRequest, obj: Quiz | None = None) -> bool:
        return _can_manage(request, obj.lesson.module.course if obj else None)


@admin.register(Quiz)
class QuizAdmin(_ScopedAdmin):
    course_path = "lesson__module__course"
    inlines = [QuestionInline]
    list_display = ["__str__", "course", "max_attempts", "passing_score_percent", "score_policy"]
    list_select_related = ["lesson__module__course"]
    search_fields = ["lesson__title", "lesson__module__course__title"]
    list_filter = ["show_correct_answers", "score_policy"]
    fields = ["lesson", *services.QUIZ_EDITABLE_FIELDS]

    def _course(self, obj: Quiz) -> Course:
        return obj.lesson.module.course

    @admin.display(ordering="lesson__module__course__title")
    def course(self, quiz: Quiz) -> Course:
        return quiz.lesson.module.course

    def get_readonly_fields(self, request: HttpRequest, obj: Quiz | None = None) -> list[str]:
        return ["lesson"] if obj is not None else []

    def save_model(
        self, request: HttpRequest, obj: Quiz, form: forms.ModelForm, change: bool
    ) -> None:
        data = {name: getattr(obj, name) for name in services.QUIZ_EDITABLE_FIELDS}
        if not change:
            _adopt(obj, services.quiz_create(lesson=obj.lesson, **data))
            return
        services.quiz_update(quiz=obj, data=data)

    def save_formset(
        self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool
    ) -> None:
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            question = inline_form.instance
            if inline_form in formset.deleted_forms:
                services.question_delete(question=question)
                formset.deleted_objects.append(question)
            elif inline_form.changed_data:
                services.question_update(
                    question=question,
                    data={
                        name: inline_form.cleaned_data[name] for name in inline_form.changed_data
                    },
                )
                formset.changed_objects.append((question, inline_form.changed_data))

    def delete_model(self, request: HttpRequest, obj: Quiz) -> None:
        obj.delete()  # a quiz goes with its questions and attempts; there is no service


class ChoiceInlineFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        """The question's whole answer key must fit its kind (the same check as the API)."""
        super().clean()
        if any(self.errors):
            return
        question = self.instance
        choices = [
            {
                "text": form.cleaned_data.get("text", ""),
                "is_correct": form.cleaned_data.get("is_correct"),
            }
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        problems = services.question_problems(question, choices)
        if problems:
            raise ValidationError(
                [message for messages in problems.values() for message in messages]
            )


class ChoiceInline(admin.TabularInline):
    model = Choice
    formset = ChoiceInlineFormSet
    fields = ["text", "is_correct"]
    extra = 2
    ordering = ["position"]

    def has_view_permission(self, request: HttpRequest, obj: Question | None = None) -> bool:
        return _can_manage(request, obj.quiz.lesson.module.course if obj else None)

    def has_add_permission(self, request: HttpRequest, obj: Question | None = None) -> bool:
        return _can_manage(request, obj.quiz.lesson.module.course if obj else None)

    def has_change_permission(self, request: HttpRequest, obj: Question | None = None) -> bool:
        return _can_manage(request, obj.quiz.lesson.module.course if obj else None)

    def has_delete_permission(self, request: HttpRequest, obj: Question | None = None) -> bool:
        return _can_manage(request, obj.quiz.lesson.module.course if obj else None)


@admin.register(Question)
class QuestionAdmin(_ScopedAdmin):
    course_path = "quiz__lesson__module__course"
    inlines = [ChoiceInline]
    list_display = ["__str__", "quiz", "kind", "points", "position"]
    list_select_related = ["quiz__lesson"]
    list_filter = ["kind"]
    search_fields = ["text", "quiz__lesson__title"]
    fields = ["quiz", *services.QUESTION_EDITABLE_FIELDS]

    def _course(self, obj: Question) -> Course:
        return obj.quiz.lesson.module.course

    def get_readonly_fields(self, request: HttpRequest, obj: Question | None = None) -> list[str]:
        return ["quiz"] if obj is not None else []

    def save_model(
        self, request: HttpRequest, obj: Question, form: forms.ModelForm, change: bool
    ) -> None:
        pass  # saved with its choices in save_related, through the services

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm, formsets: list, change: bool
    ) -> None:
        question = form.instance
        (choice_formset,) = formsets
        # The change message reads these; the service reports no per-choice detail.
        choice_formset.new_objects, choice_formset.deleted_objects = [], []
        choice_formset.changed_objects = []
        choices = [
            {
                "id": None if choice_form.instance._state.adding else choice_form.instance.pk,
                "text": choice_form.cleaned_data["text"],
                "is_correct": choice_form.cleaned_data.get("is_correct", False),
            }
            for choice_form in choice_formset.forms
            if choice_form.cleaned_data and not choice_form.cleaned_data.get("DELETE")
        ]
        data = {name: getattr(question, name) for name in services.QUESTION_EDITABLE_FIELDS}
        if change:
            services.question_update(question=question, data={**data, "choices": choices})
        else:
            fields = {k: v for k, v in data.items() if k not in ("kind", "text")}
            _adopt(
                question,
                services.question_create(
                    quiz=question.quiz,
                    kind=question.kind,
                    text=question.text,
                    choices=choices,
                    **fields,
                ),
            )

    def delete_model(self, request: HttpRequest, obj: Question) -> None:
        services.question_delete(question=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Question]) -> None:
        for question in queryset:
            services.question_delete(question=question)


@admin.register(Attempt)
class AttemptAdmin(_ScopedAdmin):
    """Attempts are records: visible to the course's staff, never edited here."""

    course_path = "quiz__lesson__module__course"
    list_display = ["user", "quiz", "number", "status", "score_percent", "passed", "started_at"]
    list_select_related = ["user", "quiz__lesson"]
    list_filter = ["status", "passed"]
    search_fields = ["user__email", "quiz__lesson__title"]
    readonly_fields = (
        "quiz",
        "user",
        "number",
        "status",
        "started_at",
        "deadline",
        "submitted_at",
        "score_points",
        "max_points",
        "score_percent",
        "passed",
    )
    fields = readonly_fields

    def _course(self, obj: Attempt) -> Course:
        return obj.quiz.lesson.module.course

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Attempt | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Attempt | None = None) -> bool:
        return False


# --- Assignments and submissions ----------------------------------------------------------


@admin.register(Assignment)
class AssignmentAdmin(_ScopedAdmin):
    course_path = "lesson__module__course"
    list_display = ["__str__", "due_at", "max_points", "passing_points", "late_policy"]
    list_select_related = ["lesson"]
    search_fields = ["lesson__title", "lesson__module__course__title"]
    fields = ["lesson", *services.ASSIGNMENT_EDITABLE_FIELDS]

    def _course(self, obj: Assignment) -> Course:
        return obj.lesson.module.course

    def get_readonly_fields(self, request: HttpRequest, obj: Assignment | None = None) -> list[str]:
        return ["lesson"] if obj is not None else []

    def save_model(
        self, request: HttpRequest, obj: Assignment, form: forms.ModelForm, change: bool
    ) -> None:
        data = {name: getattr(obj, name) for name in services.ASSIGNMENT_EDITABLE_FIELDS}
        if not change:
            _adopt(obj, services.assignment_create(lesson=obj.lesson, **data))
            return
        services.assignment_update(assignment=obj, data=data)


class SubmissionGradeForm(forms.ModelForm):
    status = forms.ChoiceField(
        choices=[
            (Submission.Status.GRADED, Submission.Status.GRADED.label),
            (Submission.Status.RETURNED, Submission.Status.RETURNED.label),
        ],
        help_text="Returned: the learner may resubmit.",
    )
    points = forms.DecimalField(min_value=Decimal(0), max_digits=7, decimal_places=2)

    class Meta:
        model = Submission
        fields = ("points", "feedback", "status")


@admin.register(Submission)
class SubmissionAdmin(_ScopedAdmin):
    """Grading: points, feedback and graded/returned; the learner is emailed."""

    course_path = "assignment__lesson__module__course"
    form = SubmissionGradeForm
    list_display = ["user", "assignment", "status", "is_late", "points", "submitted_at"]
    list_select_related = ["user", "assignment__lesson"]
    list_filter = ["status", "is_late"]
    search_fields = ["user__email", "user__full_name", "assignment__lesson__title"]
    readonly_fields = [
        "assignment",
        "user",
        "text",
        "files",
        "is_late",
        "submitted_at",
        "graded_by",
        "graded_at",
    ]
    fieldsets = (
        ("Work", {"fields": ("assignment", "user", "submitted_at", "is_late", "text", "files")}),
        ("Grade", {"fields": ("points", "feedback", "status", "graded_by", "graded_at")}),
    )

    def _course(self, obj: Submission) -> Course:
        return obj.assignment.lesson.module.course

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # learners submit; staff grade

    def has_delete_permission(self, request: HttpRequest, obj: Submission | None = None) -> bool:
        return _is_back_office(request)

    @admin.display(description="Files")
    def files(self, submission: Submission) -> str:
        stored_files: QuerySet[SubmissionFile] = submission.files.all()
        return format_html_join(
            "<br>",
            '<a href="{}">{}</a> ({} bytes)',
            (
                (
                    download_url(
                        file=stored.file,
                        kind=KIND_SUBMISSION_FILE,
                        object_id=stored.pk,
                        filename=stored.original_name,
                    ),
                    stored.original_name,
                    stored.size,
                )
                for stored in stored_files
            ),
        ) or format_html("{}", "—")

    def save_model(
        self, request: HttpRequest, obj: Submission, form: forms.ModelForm, change: bool
    ) -> None:
        services.submission_grade(
            submission=obj,
            grader=request.user,  # type: ignore[arg-type]
            points=form.cleaned_data["points"],
            feedback=form.cleaned_data.get("feedback", ""),
            status=form.cleaned_data["status"],
        )
        obj.refresh_from_db()
