"""The back office for certificate templates and certificates, plus what certificates add to
the course and enrolment admins.

Admins manage templates and certificates (revoke, render again). Instructors see the
certificates of the courses they teach, choose their courses' template, and issue
certificates from the enrolment admin. The course and enrolment admins are extended by
subclassing whatever class is registered for them (courses and enrollments cannot import
this app), so the extensions of other apps are kept.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.forms.formsets import INITIAL_FORM_COUNT, TOTAL_FORM_COUNT, ManagementForm
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.template import Engine, TemplateSyntaxError
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html

from accounts.models import User
from certificates import services
from certificates.models import Certificate, CertificateTemplate, CourseCertificateSettings
from certificates.rendering import (
    CertificateContent,
    default_template_source,
    render_certificate_pdf,
    verification_url,
)
from courses.models import Course
from courses.selectors import course_list_taught, user_can_manage_course
from enrollments.models import Enrollment
from lms.exceptions import ApplicationError


def _teaching_staff(request: HttpRequest) -> User | None:
    """Active staff who are instructors or admins: the people these admins are for."""
    user = request.user
    if (
        isinstance(user, User)
        and user.is_active
        and user.is_staff
        and (user.is_admin or user.is_instructor)
    ):
        return user
    return None


def _is_back_office(request: HttpRequest) -> bool:
    user = _teaching_staff(request)
    return user is not None and user.is_admin


# --- Templates ----------------------------------------------------------------------------


class CertificateTemplateForm(forms.ModelForm):
    class Meta:
        model = CertificateTemplate
        fields = [
            "name",
            "organization_name",
            "signatory_name",
            "signatory_title",
            "signature_image",
            "page_size",
            "orientation",
            "html",
            "css",
        ]
        widgets = {
            "html": forms.Textarea(
                attrs={"rows": 24, "cols": 110, "style": "font-family: monospace"}
            ),
            "css": forms.Textarea(
                attrs={"rows": 16, "cols": 110, "style": "font-family: monospace"}
            ),
        }

    def clean_html(self) -> str:
        html = self.cleaned_data["html"]
        try:
            Engine.get_default().from_string(html)
        except TemplateSyntaxError as error:
            raise forms.ValidationError(f"The template does not compile: {error}") from error
        return html


def _sample_content() -> CertificateContent:
    return CertificateContent(
        learner_name="Ada Lovelace",
        course_title="Introduction to Analytical Engines",
        instructor_names="Charles Babbage",
        grade="Distinction",
        issued_at=timezone.now(),
        verification_code="sample0000000000",
    )


@admin.register(CertificateTemplate)
class CertificateTemplateAdmin(admin.ModelAdmin):
    form = CertificateTemplateForm
    list_display = ["name", "organization_name", "page_size", "orientation", "is_default"]
    search_fields = ["name", "organization_name"]
    actions = ["make_default", "preview_pdf"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_back_office(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_back_office(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_back_office(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_back_office(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Templates in use are protected by the database (PROTECT): certificates keep theirs.
        return _is_back_office(request)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        html, css = default_template_source()
        return {"html": html, "css": css, **super().get_changeform_initial_data(request)}

    @admin.action(description="Use as the default template", permissions=["change"])
    def make_default(self, request: HttpRequest, queryset: QuerySet[CertificateTemplate]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one template.", messages.ERROR)
            return
        template = services.certificate_template_make_default(template=queryset.get())
        self.message_user(request, f"“{template}” is now the default.", messages.SUCCESS)

    @admin.action(description="Preview as PDF (sample learner)", permissions=["view"])
    def preview_pdf(
        self, request: HttpRequest, queryset: QuerySet[CertificateTemplate]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one template.", messages.ERROR)
            return None
        try:
            pdf = render_certificate_pdf(_sample_content(), queryset.get())
        except TemplateSyntaxError as error:
            self.message_user(request, f"The template does not render: {error}", messages.ERROR)
            return None
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = 'inline; filename="certificate-preview.pdf"'
        return response


# --- Certificates -------------------------------------------------------------------------


class RevokeForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        help_text="Kept with each certificate; its verification then answers “revoked”.",
    )


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    list_display = [
        "learner_name",
        "course_title",
        "status",
        "issued_at",
        "verification_code",
        "source",
    ]
    list_filter = ["status", "source", ("course", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["course"]
    search_fields = ["learner_name", "user__email", "course_title", "verification_code"]
    date_hierarchy = "issued_at"
    actions = ["revoke_certificates", "render_again"]
    fields = [
        "status",
        "verification_link",
        "pdf_link",
        "learner_name",
        "user",
        "course_title",
        "course",
        "enrollment",
        "instructor_names",
        "grade",
        "issued_at",
        "source",
        "issued_by",
        "template",
        "rendered_at",
        "render_failures",
        "last_render_error",
        "revoked_at",
        "revoked_reason",
        "revoked_by",
    ]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Certificate]:
        queryset = super().get_queryset(request)
        user = _teaching_staff(request)
        if user is None:
            return queryset.none()
        if user.is_admin:
            return queryset
        return queryset.filter(course__in=course_list_taught(user=user))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _teaching_staff(request) is not None

    def has_view_permission(self, request: HttpRequest, obj: Certificate | None = None) -> bool:
        user = _teaching_staff(request)
        if user is None:
            return False
        return obj is None or user_can_manage_course(user=user, course=obj.course)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # issued from enrolments (the enrolment admin's action), never typed in

    def has_change_permission(self, request: HttpRequest, obj: Certificate | None = None) -> bool:
        return False  # a record: only the actions change it

    def has_delete_permission(self, request: HttpRequest, obj: Certificate | None = None) -> bool:
        return False  # revoke instead

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return _is_back_office(request)

    @admin.display(description="Verification page")
    def verification_link(self, certificate: Certificate) -> str:
        url = verification_url(certificate.verification_code)
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)

    @admin.display(description="PDF")
    def pdf_link(self, certificate: Certificate) -> str:
        try:
            path, _ = services.certificate_download_link(certificate=certificate)
        except ApplicationError as error:
            return error.message
        return format_html('<a href="{}">Download (link valid for a few minutes)</a>', path)

    @admin.action(description="Revoke selected certificates…", permissions=["revoke"])
    def revoke_certificates(
        self, request: HttpRequest, queryset: QuerySet[Certificate]
    ) -> TemplateResponse | None:
        form = RevokeForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            revoked = 0
            for certificate in queryset.exclude(status=Certificate.Status.REVOKED):
                services.certificate_revoke(
                    certificate=certificate,
                    reason=form.cleaned_data["reason"],
                    actor=request.user,  # type: ignore[arg-type]
                )
                revoked += 1
            self.message_user(request, f"{revoked} certificate(s) revoked.", messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "certificates/admin/revoke.html",
            {
                **self.admin_site.each_context(request),
                "title": "Revoke certificates",
                "opts": self.model._meta,
                "certificates": queryset,
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description="Render the PDF again", permissions=["revoke"])
    def render_again(self, request: HttpRequest, queryset: QuerySet[Certificate]) -> None:
        count = services.certificates_render_again(
            certificates=queryset.exclude(status=Certificate.Status.REVOKED)
        )
        self.message_user(request, f"{count} certificate(s) sent to rendering.", messages.SUCCESS)


# --- The course admin: the certificate template of a course -------------------------------


class OptionalInlineFormSet(BaseInlineFormSet):
    """A course form posted without this inline (a script written before certificates
    existed) leaves the certificate settings as they are instead of failing validation."""

    @cached_property
    def management_form(self) -> ManagementForm:
        if self.is_bound and self.add_prefix(TOTAL_FORM_COUNT) not in self.data:
            form = ManagementForm(
                auto_id=self.auto_id,
                prefix=self.prefix,
                data={
                    self.add_prefix(TOTAL_FORM_COUNT): 0,
                    self.add_prefix(INITIAL_FORM_COUNT): 0,
                },
            )
            form.full_clean()
            return form
        return super().management_form


class CourseCertificateSettingsInline(admin.StackedInline):
    model = CourseCertificateSettings
    formset = OptionalInlineFormSet
    fields = ["template"]
    extra = 1
    max_num = 1
    can_delete = False
    verbose_name = "certificate"
    verbose_name_plural = "certificate"

    # `obj` is the course being edited (None on the add page).
    def _can_manage(self, request: HttpRequest, obj: Course | None) -> bool:
        user = _teaching_staff(request)
        return user is not None and (obj is None or user_can_manage_course(user=user, course=obj))

    def has_view_permission(self, request: HttpRequest, obj: Course | None = None) -> bool:
        return self._can_manage(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Course | None = None) -> bool:
        return self._can_manage(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Course | None = None) -> bool:
        return self._can_manage(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Course | None = None) -> bool:
        return False


_RegisteredCourseAdmin: type[admin.ModelAdmin] = type(admin.site.get_model_admin(Course))


class CourseAdmin(_RegisteredCourseAdmin):  # type: ignore[valid-type,misc]
    inlines = [*_RegisteredCourseAdmin.inlines, CourseCertificateSettingsInline]

    def save_formset(
        self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool
    ) -> None:
        if formset.model is not CourseCertificateSettings:
            super().save_formset(request, form, formset, change)
            return
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if inline_form.has_changed():
                settings = services.course_certificate_template_set(
                    course=form.instance, template=inline_form.cleaned_data.get("template")
                )
                formset.changed_objects.append((settings, inline_form.changed_data))


admin.site.unregister(Course)
admin.site.register(Course, CourseAdmin)


# --- The enrolment admin: issuing certificates --------------------------------------------

if admin.site.is_registered(Enrollment):
    _RegisteredEnrollmentAdmin: type[admin.ModelAdmin] = type(
        admin.site.get_model_admin(Enrollment)
    )

    class EnrollmentAdmin(_RegisteredEnrollmentAdmin):  # type: ignore[valid-type,misc]
        actions = [*_RegisteredEnrollmentAdmin.actions, "issue_certificates"]

        def has_issue_certificate_permission(self, request: HttpRequest) -> bool:
            return _teaching_staff(request) is not None

        @admin.action(
            description="Issue certificates for selected enrolments",
            permissions=["issue_certificate"],
        )
        def issue_certificates(self, request: HttpRequest, queryset: QuerySet[Enrollment]) -> None:
            # The queryset is already scoped to the enrolments this user may manage.
            issued = existing = 0
            refusals: dict[str, int] = {}
            for enrollment in queryset.select_related("course"):
                try:
                    _, created = services.certificate_issue(
                        enrollment=enrollment,
                        source=Certificate.Source.STAFF,
                        actor=request.user,  # type: ignore[arg-type]
                    )
                except ApplicationError as error:
                    refusals[error.message] = refusals.get(error.message, 0) + 1
                    continue
                issued += created
                existing += not created
            self.message_user(
                request,
                f"{issued} certificate(s) issued; {existing} enrolment(s) already had one.",
                messages.SUCCESS,
            )
            for message, count in refusals.items():
                self.message_user(request, f"{count} skipped: {message}", messages.WARNING)

    admin.site.unregister(Enrollment)
    admin.site.register(Enrollment, EnrollmentAdmin)
