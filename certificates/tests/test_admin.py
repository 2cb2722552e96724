import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from certificates.models import Certificate, CertificateTemplate, CourseCertificateSettings
from certificates.rendering import default_template_source
from certificates.tests.factories import CertificateFactory, CertificateTemplateFactory
from courses.tests.factories import course_with_content
from enrollments.tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db

TEMPLATES_URL = reverse("admin:certificates_certificatetemplate_changelist")
TEMPLATE_ADD_URL = reverse("admin:certificates_certificatetemplate_add")
CERTIFICATES_URL = reverse("admin:certificates_certificate_changelist")
ENROLLMENTS_URL = reverse("admin:enrollments_enrollment_changelist")


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def listed(response):
    return {row.pk for row in response.context["cl"].result_list}


def run_action(client, url, action, rows, **extra):
    return client.post(
        url, {"action": action, "_selected_action": [str(row.pk) for row in rows], **extra}
    )


# --- Templates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role_user", "expected"),
    [
        pytest.param("instructor", 403, id="_case instructor"),
        pytest.param("admin_user", 200, id="_case admin"),
    ],
    indirect=["role_user"],
)
def test_templates_are_managed_by_admins(client, role_user, expected):
    client.force_login(role_user)

    assert client.get(TEMPLATES_URL).status_code == expected


def test_a_new_template_starts_from_the_shipped_one(client, admin_user):
    client.force_login(admin_user)

    form = client.get(TEMPLATE_ADD_URL).context["adminform"].form

    assert (form.initial["html"], form.initial["css"]) == default_template_source()


def test_a_template_that_does_not_compile_is_refused(client, admin_user):
    client.force_login(admin_user)

    response = client.post(
        TEMPLATE_ADD_URL,
        {
            "name": "Broken",
            "organization_name": "Acme",
            "page_size": "A4",
            "orientation": "landscape",
            "html": "{% if %}",
            "css": "",
        },
    )

    assert response.status_code == 200
    assert "does not compile" in str(response.context["adminform"].form.errors["html"])
    assert CertificateTemplate.objects.count() == 0


def test_preview_renders_the_template_as_a_pdf(client, admin_user):
    template = CertificateTemplateFactory()
    client.force_login(admin_user)

    response = run_action(client, TEMPLATES_URL, "preview_pdf", [template])

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")


def test_make_default_action(client, admin_user):
    old, new = CertificateTemplateFactory(is_default=True), CertificateTemplateFactory()
    client.force_login(admin_user)

    run_action(client, TEMPLATES_URL, "make_default", [new])

    assert CertificateTemplate.objects.get(is_default=True) == new
    old.refresh_from_db()
    assert old.is_default is False


# --- Certificates -------------------------------------------------------------------------


def test_admin_sees_every_certificate(client, admin_user):
    certificates = [CertificateFactory(issued=True), CertificateFactory()]
    client.force_login(admin_user)

    response = client.get(CERTIFICATES_URL)

    assert listed(response) == {certificate.pk for certificate in certificates}


def test_instructor_sees_the_certificates_of_their_courses_only(client, instructor, enrollment):
    mine = CertificateFactory(issued=True, enrollment=enrollment)
    CertificateFactory(issued=True)
    client.force_login(instructor)

    response = client.get(CERTIFICATES_URL)

    assert listed(response) == {mine.pk}
    assert response.context["action_form"] is None  # revoking and rendering are for admins


def test_instructor_cannot_open_another_courses_certificate(client, instructor):
    certificate = CertificateFactory(issued=True)
    client.force_login(instructor)

    response = client.get(reverse("admin:certificates_certificate_change", args=[certificate.pk]))

    assert response.status_code == 302  # to the admin index: "does not exist"


def test_certificate_page_links_the_verification_page_and_the_pdf(client, admin_user):
    certificate = CertificateFactory(issued=True)
    client.force_login(admin_user)

    response = client.get(reverse("admin:certificates_certificate_change", args=[certificate.pk]))

    content = response.content.decode()
    assert f"/certificates/verify/{certificate.verification_code}/" in content
    assert "/api/v1/certificates/files/" in content


def test_certificates_cannot_be_added_or_deleted_in_the_admin(client, admin_user):
    certificate = CertificateFactory(issued=True)
    client.force_login(admin_user)

    assert client.get(reverse("admin:certificates_certificate_add")).status_code == 403
    delete = reverse("admin:certificates_certificate_delete", args=[certificate.pk])
    assert client.get(delete).status_code == 403


def test_revoke_action_asks_for_a_reason_first(client, admin_user):
    certificate = CertificateFactory(issued=True)
    client.force_login(admin_user)

    response = run_action(client, CERTIFICATES_URL, "revoke_certificates", [certificate])

    assert response.status_code == 200
    assert "reason" in response.context["form"].fields
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.ISSUED


def test_revoke_action_revokes_with_the_reason(client, admin_user):
    certificates = [CertificateFactory(issued=True), CertificateFactory(issued=True)]
    client.force_login(admin_user)

    response = run_action(
        client,
        CERTIFICATES_URL,
        "revoke_certificates",
        certificates,
        apply="1",
        reason="Exam fraud.",
    )

    assert response.status_code == 302
    assert "2 certificate(s) revoked." in messages_of(response)
    for certificate in certificates:
        certificate.refresh_from_db()
        assert certificate.status == Certificate.Status.REVOKED
        assert certificate.revoked_reason == "Exam fraud."
        assert certificate.revoked_by == admin_user


def test_instructor_cannot_run_the_revoke_action(client, instructor, enrollment):
    certificate = CertificateFactory(issued=True, enrollment=enrollment)
    client.force_login(instructor)

    run_action(
        client, CERTIFICATES_URL, "revoke_certificates", [certificate], apply="1", reason="No."
    )

    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.ISSUED


def test_render_again_action(client, admin_user, django_capture_on_commit_callbacks):
    certificate = CertificateFactory()
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(client, CERTIFICATES_URL, "render_again", [certificate])

    certificate.refresh_from_db()
    assert "1 certificate(s) sent to rendering." in messages_of(response)
    assert certificate.status == Certificate.Status.ISSUED


# --- The course admin ---------------------------------------------------------------------


def course_change_form(course, **certificate_fields) -> dict:
    data = {
        "title": course.title,
        "slug": course.slug,
        "subtitle": course.subtitle,
        "description": course.description,
        "language": course.language,
        "level": course.level,
        "category": "",
        "price_amount": course.price_amount,
        "currency": course.currency,
        "seat_capacity": "",
        "certificate_enabled": "on",
        "metadata": "{}",
        "modules-TOTAL_FORMS": 0,
        "modules-INITIAL_FORMS": 0,
        "modules-MIN_NUM_FORMS": 0,
        "modules-MAX_NUM_FORMS": 1000,
    }
    if certificate_fields:
        data |= {
            "certificate_settings-TOTAL_FORMS": 1,
            "certificate_settings-INITIAL_FORMS": 0,
            "certificate_settings-MIN_NUM_FORMS": 0,
            "certificate_settings-MAX_NUM_FORMS": 1,
            "certificate_settings-0-course": str(course.pk),
            **{
                f"certificate_settings-0-{name}": value
                for name, value in certificate_fields.items()
            },
        }
    return data


@pytest.mark.parametrize("role_user", ["instructor", "admin_user"], indirect=True)
def test_the_course_page_chooses_its_certificate_template(client, role_user, instructor):
    course = course_with_content(owner=instructor, modules=0)
    template = CertificateTemplateFactory()
    client.force_login(role_user)
    url = reverse("admin:courses_course_change", args=[course.pk])
    assert "certificate_settings-0-template" in client.get(url).content.decode()

    response = client.post(url, course_change_form(course, template=str(template.pk)))

    assert response.status_code == 302, response.context["errors"] if response.context else ""
    assert CourseCertificateSettings.objects.get(course=course).template == template


def test_a_course_form_without_the_certificate_section_keeps_the_choice(
    client, admin_user, instructor
):
    course = course_with_content(owner=instructor, modules=0)
    template = CertificateTemplateFactory()
    CourseCertificateSettings.objects.create(course=course, template=template)
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:courses_course_change", args=[course.pk]), course_change_form(course)
    )

    assert response.status_code == 302
    assert CourseCertificateSettings.objects.get(course=course).template == template


# --- The enrolment admin ------------------------------------------------------------------


@pytest.mark.parametrize("role_user", ["instructor", "admin_user"], indirect=True)
def test_issue_certificates_action(
    client, role_user, enrollment, django_capture_on_commit_callbacks
):
    client.force_login(role_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(client, ENROLLMENTS_URL, "issue_certificates", [enrollment])

    assert "1 certificate(s) issued; 0 enrolment(s) already had one." in messages_of(response)
    certificate = Certificate.objects.get()
    assert certificate.status == Certificate.Status.ISSUED
    assert certificate.issued_by == role_user


def test_issue_certificates_action_reports_refusals(client, admin_user):
    cancelled = EnrollmentFactory(cancelled=True)
    client.force_login(admin_user)

    response = run_action(client, ENROLLMENTS_URL, "issue_certificates", [cancelled])

    assert any(message.startswith("1 skipped: Only an active") for message in messages_of(response))
    assert Certificate.objects.count() == 0


def test_instructor_cannot_issue_for_another_instructors_course(client, instructor):
    other = EnrollmentFactory()
    client.force_login(instructor)

    run_action(client, ENROLLMENTS_URL, "issue_certificates", [other])

    assert Certificate.objects.count() == 0
