"""The back office for categories, courses, modules and lessons.

Admins see everything. Instructors see only the courses they own or co-teach, and the modules
and lessons of those courses; they have no Django model permissions, so every has_*_permission
method decides from the role and the course. Saves, deletes and reorders go through
courses.services.
"""

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Model, Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from accounts.models import User
from courses import caching, selectors, services
from courses.errors import CourseHasEnrollments, CourseNotPublishable
from courses.models import Category, Course, Lesson, Module
from lms.exceptions import ApplicationError


def _is_teaching_staff(request: HttpRequest) -> bool:
    """Active staff who are instructors or admins: the people this admin is for."""
    user = request.user
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and (user.is_admin or user.is_instructor)
    )


def _is_back_office(request: HttpRequest) -> bool:
    return _is_teaching_staff(request) and request.user.is_admin


def _can_manage(request: HttpRequest, course: Course | None) -> bool:
    """Admins manage every course, instructors the ones they teach (None: any of them)."""
    if not _is_teaching_staff(request):
        return False
    if course is None or request.user.is_admin:
        return True
    return selectors.user_teaches_course(user=request.user, course=course)


def _teaching_staff_users() -> QuerySet[User]:
    """Who may own or co-teach a course; the user autocomplete narrows to the same people."""
    return User.objects.filter(is_active=True).filter(
        Q(role__in=[User.Role.INSTRUCTOR, User.Role.ADMIN]) | Q(is_superuser=True)
    )


def _error_text(error: ApplicationError | ValidationError) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    problems = [message for field_messages in error.fields.values() for message in field_messages]
    return " ".join([error.message, *problems])


def _adopt(instance: Model, saved: Model) -> None:
    """Point the admin's unsaved instance at the row a service created.

    The admin goes on using its own instance (inlines, the log entry, the redirect).
    """
    instance.pk = saved.pk
    instance.refresh_from_db()
    instance._state.adding = False


def _save_ordered_children(
    formset: BaseInlineFormSet,
    *,
    editable_fields: Sequence[str],
    create: Callable[[Any], Model],
    update: Callable[[Any, dict[str, Any]], object],
    delete: Callable[[Any], None],
    siblings: QuerySet,
    reorder: Callable[[list[uuid.UUID]], object],
) -> None:
    """Save an inline of modules or lessons through the services, then apply its order.

    Positions are only an ordering hint: rows are saved without them (new ones are appended
    by the create service), then one reorder call numbers every row 1..n in the submitted
    order, so swapping two positions never trips the unique (parent, position) constraint.
    """
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    deleted_forms = formset.deleted_forms
    rows = []
    for index, form in enumerate(formset.forms):
        instance = form.instance
        is_new = index >= formset.initial_form_count()
        if form in deleted_forms:
            if not is_new:
                delete(instance)
                formset.deleted_objects.append(instance)
            continue
        if is_new:
            if not form.has_changed():
                continue
            instance = create(instance)
            formset.new_objects.append(instance)
        elif form.changed_data:
            changed = [name for name in form.changed_data if name in editable_fields]
            if changed:
                update(instance, {name: getattr(instance, name) for name in changed})
            formset.changed_objects.append((instance, form.changed_data))
        position = form.cleaned_data.get("position")
        # Rows without a position go last; ties keep the order of the form.
        rows.append((position is None, position or 0, index, instance.pk))
    order = [pk for *_, pk in sorted(rows)]
    current = list(siblings.order_by("position").values_list("pk", flat=True))
    # Rows added elsewhere since the page was loaded keep their place after these.
    order += [pk for pk in current if pk not in order]
    if order != current:
        reorder(order)


class OrderedChildForm(forms.ModelForm):
    # Only an ordering hint (see _save_ordered_children): new rows may leave it empty.
    position = forms.IntegerField(min_value=1, required=False)


class CourseAdminForm(forms.ModelForm):
    class Meta:
        model = Course
        fields = (*services.COURSE_EDITABLE_FIELDS, "owner", "co_instructors")

    def clean_slug(self) -> str:
        # The service stores slugs lower-cased, so check uniqueness on that spelling.
        return self.cleaned_data["slug"].lower()


class ServiceErrorsAsMessages(admin.ModelAdmin):
    """Show a service's refusal on the form page as an error message instead of a 500."""

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
            # The form reports most problems as field errors; what only a service can see
            # (a slug taken meanwhile, seats below the enrolments, a concurrent reorder)
            # arrives here, after the admin's transaction rolled everything back.
            self.message_user(request, _error_text(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


# --- Categories ---------------------------------------------------------------------------


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent"]
    list_select_related = ["parent"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ["parent"]

    # Admins manage categories; instructors only view them, which the category autocomplete
    # on their courses needs.
    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_teaching_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Category | None = None) -> bool:
        return _is_teaching_staff(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_back_office(request)

    def has_change_permission(self, request: HttpRequest, obj: Category | None = None) -> bool:
        return _is_back_office(request)

    def has_delete_permission(self, request: HttpRequest, obj: Category | None = None) -> bool:
        return _is_back_office(request)

    def save_model(
        self, request: HttpRequest, obj: Category, form: forms.ModelForm, change: bool
    ) -> None:
        if not change:
            _adopt(obj, services.category_create(name=obj.name, slug=obj.slug, parent=obj.parent))
            return
        # There is no category_update service yet: save here and let the catalog follow.
        super().save_model(request, obj, form, change)
        caching.invalidate_catalog()

    def delete_model(self, request: HttpRequest, obj: Category) -> None:
        # There is no category_delete service yet (see save_model).
        super().delete_model(request, obj)
        caching.invalidate_catalog()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Category]) -> None:
        super().delete_queryset(request, queryset)
        caching.invalidate_catalog()


# --- Courses ------------------------------------------------------------------------------


class ModuleInline(admin.TabularInline):
    model = Module
    form = OrderedChildForm
    fields = ["title", "position"]
    extra = 1
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Module]:
        return _modules_for(request, super().get_queryset(request))

    # `obj` is the course being edited (None on the add page).
    def has_view_permission(self, request: HttpRequest, obj: Course | None = None) -> bool:
        return _can_manage(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Course | None = None) -> bool:
        return _can_manage(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Course | None = None) -> bool:
        return _can_manage(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Course | None = None) -> bool:
        return _can_manage(request, obj)


def _modules_for(request: HttpRequest, queryset: QuerySet[Module]) -> QuerySet[Module]:
    if _is_back_office(request):
        return queryset
    return queryset.filter(course__in=selectors.course_list_taught(user=request.user))


@admin.register(Course)
class CourseAdmin(ServiceErrorsAsMessages):
    form = CourseAdminForm
    inlines = [ModuleInline]
    list_display = ["title", "status", "owner", "price", "enrollment_count", "published_at"]
    list_filter = ["status", "level", "language", "category"]
    list_select_related = ["owner"]
    search_fields = ["title", "slug", "owner__email"]
    autocomplete_fields = ["category", "owner", "co_instructors"]
    prepopulated_fields = {"slug": ("title",)}
    actions = ["publish_courses", "archive_courses", "duplicate_courses"]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "title",
                    "slug",
                    "subtitle",
                    "description",
                    "language",
                    "level",
                    "category",
                    "cover_image",
                )
            },
        ),
        (
            "Price and enrolment",
            {
                "fields": (
                    "price_amount",
                    "currency",
                    "seat_capacity",
                    "enrollment_opens_at",
                    "enrollment_closes_at",
                    "certificate_enabled",
                )
            },
        ),
        ("Team", {"fields": ("owner", "co_instructors")}),
        ("Status", {"fields": ("status", "published_at", "enrollment_count")}),
        ("More", {"classes": ("collapse",), "fields": ("metadata", "created_at", "updated_at")}),
    )

    @admin.display(description="Price (minor units)", ordering="price_amount")
    def price(self, course: Course) -> str:
        return "Free" if course.is_free else f"{course.price_amount} {course.currency}"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Course]:
        if _is_back_office(request):
            return super().get_queryset(request)
        return selectors.course_list_taught(user=request.user)

    # --- Permissions: roles and teaching, not Django model permissions ---

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_teaching_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Course | None = None) -> bool:
        return _can_manage(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_teaching_staff(request)

    def has_change_permission(self, request: HttpRequest, obj: Course | None = None) -> bool:
        return _can_manage(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Course | None = None) -> bool:
        return _can_manage(request, obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        # Deleting goes one course at a time through course_delete; archiving is the bulk path.
        actions.pop("delete_selected", None)
        return actions

    # --- The form ---

    def get_readonly_fields(self, request: HttpRequest, obj: Course | None = None) -> list[str]:
        readonly = ["status", "published_at", "enrollment_count", "created_at", "updated_at"]
        # Ownership is chosen once, on the add page, and only by an admin (instructors own
        # what they create); no service transfers it afterwards.
        if obj is not None or not request.user.is_admin:
            readonly.append("owner")
        if obj is not None and not (request.user.is_admin or obj.owner_id == request.user.pk):
            readonly.append("co_instructors")
        return readonly

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"owner": request.user.pk, **super().get_changeform_initial_data(request)}

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        if db_field.name == "owner":
            kwargs["queryset"] = _teaching_staff_users()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        if db_field.name == "co_instructors":
            kwargs["queryset"] = _teaching_staff_users()
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    # --- Writes through the services ---

    def save_model(
        self, request: HttpRequest, obj: Course, form: forms.ModelForm, change: bool
    ) -> None:
        editable = [name for name in services.COURSE_EDITABLE_FIELDS if name in form.cleaned_data]
        co_instructors = form.cleaned_data.get("co_instructors")
        if not change:
            course = services.course_create(
                owner=obj.owner if request.user.is_admin else request.user,
                co_instructors=list(co_instructors or []),
                **{name: getattr(obj, name) for name in editable},
            )
            _adopt(obj, course)
            return
        data = {name: getattr(obj, name) for name in editable if name in form.changed_data}
        # co_instructors is only in the form for the owner and admins (get_readonly_fields);
        # course_update checks that rule again and keeps the owner out of the list.
        if "co_instructors" in form.changed_data:
            data["co_instructors"] = list(co_instructors)
        services.course_update(course=obj, actor=request.user, data=data)
        obj.refresh_from_db()

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm, formsets: list, change: bool
    ) -> None:
        # No form.save_m2m(): save_model already set the co-instructors through the service.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(
        self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool
    ) -> None:
        course = form.instance
        _save_ordered_children(
            formset,
            editable_fields=services.MODULE_EDITABLE_FIELDS,
            create=lambda module: services.module_create(
                course=course, title=module.title, description=module.description
            ),
            update=lambda module, data: services.module_update(
                module=Module.objects.get(pk=module.pk), data=data
            ),
            delete=lambda module: services.module_delete(module=module),
            siblings=Module.objects.filter(course=course),
            reorder=lambda order: services.modules_reorder(course=course, order=order),
        )

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except CourseHasEnrollments as error:
            # Raised by delete_model; the admin's transaction (and its log entry) rolled back.
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:courses_course_change", args=[object_id]))

    def delete_model(self, request: HttpRequest, obj: Course) -> None:
        services.course_delete(course=obj)

    # --- Actions ---

    @admin.action(description="Publish selected courses", permissions=["change"])
    def publish_courses(self, request: HttpRequest, queryset: QuerySet[Course]) -> None:
        published = 0
        for course in queryset:
            try:
                services.course_publish(course=course)
            except CourseNotPublishable as error:
                self.message_user(
                    request, f"“{course}” was not published: {_error_text(error)}", messages.ERROR
                )
            else:
                published += 1
        if published:
            self.message_user(request, f"{published} course(s) published.", messages.SUCCESS)

    @admin.action(description="Archive selected courses", permissions=["change"])
    def archive_courses(self, request: HttpRequest, queryset: QuerySet[Course]) -> None:
        archived = 0
        for course in queryset:
            services.course_archive(course=course)
            archived += 1
        self.message_user(request, f"{archived} course(s) archived.", messages.SUCCESS)

    @admin.action(description="Duplicate selected courses as drafts", permissions=["add"])
    def duplicate_courses(self, request: HttpRequest, queryset: QuerySet[Course]) -> None:
        copies = [services.course_duplicate(course=course) for course in queryset]
        self.message_user(request, f"{len(copies)} draft copy(ies) created.", messages.SUCCESS)


# --- Modules and lessons ------------------------------------------------------------------


class LessonInline(admin.StackedInline):
    model = Lesson
    form = OrderedChildForm
    fields = [
        "title",
        "position",
        "kind",
        "body",
        "video_url",
        "attachment",
        "duration_seconds",
        "is_preview",
        "is_required",
        "available_from",
        "available_after_days",
    ]
    extra = 0
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Lesson]:
        queryset = super().get_queryset(request)
        if _is_back_office(request):
            return queryset
        return queryset.filter(module__course__in=selectors.course_list_taught(user=request.user))

    # `obj` is the module being edited (None on the add page).
    def _can_manage_module(self, request: HttpRequest, obj: Module | None) -> bool:
        return _can_manage(request, obj.course if obj is not None else None)

    def has_view_permission(self, request: HttpRequest, obj: Module | None = None) -> bool:
        return self._can_manage_module(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Module | None = None) -> bool:
        return self._can_manage_module(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Module | None = None) -> bool:
        return self._can_manage_module(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Module | None = None) -> bool:
        return self._can_manage_module(request, obj)


@admin.register(Module)
class ModuleAdmin(ServiceErrorsAsMessages):
    inlines = [LessonInline]
    list_display = ["title", "course", "position"]
    list_select_related = ["course"]
    search_fields = ["title", "course__title"]
    ordering = ["course__title", "position"]
    autocomplete_fields = ["course"]
    fields = ["course", "title", "description", "position"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Module]:
        return _modules_for(request, super().get_queryset(request).select_related("course"))

    def _can_manage_module(self, request: HttpRequest, obj: Module | None) -> bool:
        return _can_manage(request, obj.course if obj is not None else None)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_teaching_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Module | None = None) -> bool:
        return self._can_manage_module(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_teaching_staff(request)

    def has_change_permission(self, request: HttpRequest, obj: Module | None = None) -> bool:
        return self._can_manage_module(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Module | None = None) -> bool:
        return self._can_manage_module(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Module | None = None) -> list[str]:
        # Modules are reordered on their course's page; moving one to another course has no
        # service.
        return ["position"] if obj is None else ["course", "position"]

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        if db_field.name == "course" and not _is_back_office(request):
            kwargs["queryset"] = selectors.course_list_taught(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(
        self, request: HttpRequest, obj: Module, form: forms.ModelForm, change: bool
    ) -> None:
        if not change:
            module = services.module_create(
                course=obj.course, title=obj.title, description=obj.description
            )
            _adopt(obj, module)
            return
        data = {
            name: getattr(obj, name)
            for name in services.MODULE_EDITABLE_FIELDS
            if name in form.changed_data
        }
        services.module_update(module=Module.objects.get(pk=obj.pk), data=data)
        obj.refresh_from_db()

    def save_formset(
        self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool
    ) -> None:
        module = form.instance
        _save_ordered_children(
            formset,
            editable_fields=services.LESSON_EDITABLE_FIELDS,
            create=lambda lesson: services.lesson_create(
                module=module,
                title=lesson.title,
                attachment=lesson.attachment or None,
                **{
                    name: getattr(lesson, name)
                    for name in services.LESSON_EDITABLE_FIELDS
                    if name not in ("title", "attachment")
                },
            ),
            update=lambda lesson, data: services.lesson_update(
                lesson=Lesson.objects.select_related("module").get(pk=lesson.pk), data=data
            ),
            delete=lambda lesson: services.lesson_delete(lesson=lesson),
            siblings=Lesson.objects.filter(module=module),
            reorder=lambda order: services.lessons_reorder(module=module, order=order),
        )

    def delete_model(self, request: HttpRequest, obj: Module) -> None:
        services.module_delete(module=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Module]) -> None:
        for module in queryset.select_related("course"):
            services.module_delete(module=module)
