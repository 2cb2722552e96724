"""Certificates through the API: per-role access, verification, downloads, query counts."""

import pytest
from django.utils import timezone
from freezegun import freeze_time

from certificates.models import Certificate
from certificates.tests.factories import MINIMAL_PDF, CertificateFactory
from enrollments.tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "student", "other_student", "instructor", "other_instructor", "admin_user"]


def _expect(**statuses: int) -> list:
    return [pytest.param(role, statuses[role], id=f"_case {role}") for role in ROLES]


@pytest.fixture
def certificate(enrollment) -> Certificate:
    """`student`'s issued certificate in `course`, which `instructor` owns."""
    return CertificateFactory(issued=True, enrollment=enrollment)


# --- Reading ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=200,
        other_student=404,
        instructor=200,
        other_instructor=404,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_certificate_detail_by_role(auth_client, role_user, expected, certificate):
    response = auth_client(role_user).get(f"/api/v1/certificates/{certificate.pk}/")

    assert response.status_code == expected


def test_certificate_detail_shape(auth_client, student, certificate, settings):
    settings.SITE_URL = "https://learn.example.com"

    body = auth_client(student).get(f"/api/v1/certificates/{certificate.pk}/").json()

    assert body["id"] == str(certificate.pk)
    assert body["status"] == "issued"
    assert body["course"] == {
        "id": str(certificate.course_id),
        "slug": certificate.course.slug,
        "title": certificate.course.title,
    }
    assert body["verification_url"] == (
        f"https://learn.example.com/certificates/verify/{certificate.verification_code}/"
    )
    assert body["learner_name"] == certificate.learner_name
    assert body["revoked_reason"] == ""


def test_unknown_certificate_is_404(auth_client, admin_user):
    response = auth_client(admin_user).get(f"/api/v1/certificates/{Certificate().pk}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_my_certificates_lists_mine_newest_first(auth_client, student, enrollment):
    older = CertificateFactory(issued=True, enrollment=enrollment)
    older.issued_at = timezone.now() - timezone.timedelta(days=3)
    older.save()
    newer = CertificateFactory(revoked=True, enrollment=EnrollmentFactory(user=student))
    CertificateFactory(issued=True)  # someone else's

    body = auth_client(student).get("/api/v1/me/certificates/").json()

    assert body["count"] == 2
    assert [item["id"] for item in body["results"]] == [str(newer.pk), str(older.pk)]
    assert body["results"][0]["status"] == "revoked"


def test_my_certificates_needs_authentication(api_client):
    assert api_client.get("/api/v1/me/certificates/").status_code == 401


@pytest.mark.parametrize("rows", [5, 50])
def test_my_certificates_query_count_is_constant(
    auth_client, student, rows, django_assert_num_queries
):
    for _ in range(rows):
        CertificateFactory(enrollment=EnrollmentFactory(user=student))
    client = auth_client(student)

    # count, page of certificates with their courses; nothing per row.
    with django_assert_num_queries(2):
        response = client.get("/api/v1/me/certificates/", {"page_size": 100})

    assert response.json()["count"] == rows


# --- Issuing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=403,
        other_student=404,
        instructor=201,
        other_instructor=404,
        admin_user=201,
    ),
    indirect=["role_user"],
)
def test_issue_by_role(auth_client, role_user, expected, enrollment):
    response = auth_client(role_user).post(f"/api/v1/enrollments/{enrollment.pk}/certificate/")

    assert response.status_code == expected
    assert Certificate.objects.count() == (1 if expected == 201 else 0)


def test_issue_renders_the_certificate_and_answers_200_the_second_time(
    auth_client, instructor, enrollment, django_capture_on_commit_callbacks, mailoutbox
):
    client = auth_client(instructor)

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(f"/api/v1/enrollments/{enrollment.pk}/certificate/", {"grade": "Merit"})
    second = client.post(f"/api/v1/enrollments/{enrollment.pk}/certificate/")

    assert first.status_code == 201
    assert first.json()["status"] == "pending"
    assert first.json()["grade"] == "Merit"
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["status"] == "issued"
    assert Certificate.objects.get().issued_by == instructor
    assert len(mailoutbox) == 1


def test_issue_for_a_cancelled_enrolment_is_409(auth_client, admin_user):
    enrollment = EnrollmentFactory(cancelled=True)

    response = auth_client(admin_user).post(f"/api/v1/enrollments/{enrollment.pk}/certificate/")

    assert response.status_code == 409
    assert response.json()["code"] == "enrollment_not_eligible"
    assert Certificate.objects.count() == 0


def test_issue_in_a_course_without_certificates_is_409(auth_client, instructor, enrollment):
    enrollment.course.certificate_enabled = False
    enrollment.course.save()

    response = auth_client(instructor).post(f"/api/v1/enrollments/{enrollment.pk}/certificate/")

    assert response.status_code == 409
    assert response.json()["code"] == "certificates_disabled"


def test_issue_rejects_a_long_grade(auth_client, instructor, enrollment):
    response = auth_client(instructor).post(
        f"/api/v1/enrollments/{enrollment.pk}/certificate/", {"grade": "x" * 51}
    )

    assert response.status_code == 400
    assert "grade" in response.json()["fields"]
    assert Certificate.objects.count() == 0


# --- Revoking -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=403,
        other_student=403,
        instructor=403,
        other_instructor=403,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_revoke_by_role(auth_client, role_user, expected, certificate):
    response = auth_client(role_user).post(
        f"/api/v1/certificates/{certificate.pk}/revoke/", {"reason": "Plagiarism."}
    )

    certificate.refresh_from_db()
    assert response.status_code == expected
    assert certificate.status == ("revoked" if expected == 200 else "issued")


def test_revoke_answers_the_revoked_certificate(auth_client, admin_user, certificate):
    body = (
        auth_client(admin_user)
        .post(f"/api/v1/certificates/{certificate.pk}/revoke/", {"reason": "Plagiarism."})
        .json()
    )

    assert body["status"] == "revoked"
    assert body["revoked_reason"] == "Plagiarism."
    assert body["revoked_at"] is not None


def test_revoke_needs_a_reason(auth_client, admin_user, certificate):
    response = auth_client(admin_user).post(
        f"/api/v1/certificates/{certificate.pk}/revoke/", {"reason": ""}
    )

    certificate.refresh_from_db()
    assert response.status_code == 400
    assert "reason" in response.json()["fields"]
    assert certificate.status == "issued"


# --- Verification -------------------------------------------------------------------------


def test_verification_answers_name_course_date_and_status_only(api_client, certificate):
    response = api_client.get(f"/api/v1/certificates/verify/{certificate.verification_code}/")

    assert response.status_code == 200
    assert response.json() == {
        "learner_name": certificate.learner_name,
        "course_title": certificate.course_title,
        "issued_on": certificate.issued_at.date().isoformat(),
        "status": "valid",
    }


def test_verification_ignores_the_codes_case(api_client, certificate):
    code = certificate.verification_code.upper()

    assert api_client.get(f"/api/v1/certificates/verify/{code}/").status_code == 200


def test_verification_of_a_revoked_certificate_says_revoked(api_client):
    certificate = CertificateFactory(revoked=True)

    response = api_client.get(f"/api/v1/certificates/verify/{certificate.verification_code}/")

    assert response.json()["status"] == "revoked"


@pytest.mark.parametrize(
    "state",
    [pytest.param("unknown", id="_case unknown code"), pytest.param("pending", id="_case pending")],
)
def test_verification_of_an_unknown_or_pending_code_is_404(api_client, state):
    code = "doesnotexist0000" if state == "unknown" else CertificateFactory().verification_code

    response = api_client.get(f"/api/v1/certificates/verify/{code}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_verification_ignores_a_broken_token(api_client, certificate):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    response = api_client.get(f"/api/v1/certificates/verify/{certificate.verification_code}/")

    assert response.status_code == 200


def test_verification_is_throttled_per_client(api_client, certificate, settings):
    settings.CERTIFICATES_VERIFY_THROTTLE_RATE = "2/min"
    url = f"/api/v1/certificates/verify/{certificate.verification_code}/"

    statuses = [api_client.get(url).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    response = api_client.get(url)
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


# --- Downloading --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=200,
        other_student=404,
        instructor=200,
        other_instructor=404,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_download_link_by_role(auth_client, role_user, expected, certificate):
    response = auth_client(role_user).get(f"/api/v1/certificates/{certificate.pk}/download/")

    assert response.status_code == expected


def test_download_link_serves_the_pdf_without_authentication(
    auth_client, api_client, student, certificate, settings
):
    settings.CERTIFICATES_DOWNLOAD_LINK_MAX_AGE = 120
    with freeze_time("2026-05-04 10:00:00"):
        body = auth_client(student).get(f"/api/v1/certificates/{certificate.pk}/download/").json()

    with freeze_time("2026-05-04 10:01:00"):
        response = api_client.get(body["url"], HTTP_ACCEPT="application/pdf")

    assert body["url"].startswith("http://testserver/api/v1/certificates/files/")
    assert body["expires_at"] == "2026-05-04T10:02:00Z"
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="certificate-{certificate.verification_code}.pdf"'
    )
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == MINIMAL_PDF


def test_an_expired_download_link_is_404(auth_client, api_client, student, certificate):
    with freeze_time("2026-05-04 10:00:00"):
        url = auth_client(student).get(f"/api/v1/certificates/{certificate.pk}/download/").json()
    with freeze_time("2026-05-04 11:00:00"):
        response = api_client.get(url["url"], HTTP_ACCEPT="application/pdf")

    assert response.status_code == 404
    assert response.json()["code"] == "download_link_invalid"


def test_a_forged_download_link_is_404(api_client, certificate):
    response = api_client.get(f"/api/v1/certificates/files/{certificate.pk}:1vAbCd:forged/")

    assert response.status_code == 404


def test_download_link_of_a_pending_certificate_is_409(auth_client, student, enrollment):
    certificate = CertificateFactory(enrollment=enrollment)

    response = auth_client(student).get(f"/api/v1/certificates/{certificate.pk}/download/")

    assert response.status_code == 409
    assert response.json()["code"] == "certificate_not_ready"


def test_download_link_of_a_revoked_certificate_is_409(auth_client, student, enrollment):
    certificate = CertificateFactory(revoked=True, enrollment=enrollment)

    response = auth_client(student).get(f"/api/v1/certificates/{certificate.pk}/download/")

    assert response.status_code == 409
    assert response.json()["code"] == "certificate_revoked"


def test_api_schema_documents_the_certificate_endpoints(client):
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]

    assert {
        "/api/v1/enrollments/{id}/certificate/",
        "/api/v1/certificates/{id}/",
        "/api/v1/certificates/{id}/download/",
        "/api/v1/certificates/{id}/revoke/",
        "/api/v1/certificates/verify/{code}/",
        "/api/v1/certificates/files/{token}/",
        "/api/v1/me/certificates/",
    } <= set(paths)
