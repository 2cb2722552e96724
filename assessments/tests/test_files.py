"""Uploads through the API (each refusal a 400 with its code), the per-user upload throttle,
signed downloads (expiry, tampering, guessing), lesson attachments, and the S3 path (moto)."""

import uuid
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from freezegun import freeze_time
from moto import mock_aws

from assessments import services
from assessments.models import Submission, SubmissionFile
from assessments.tests.conftest import PDF, PNG, enrol, pdf_file
from courses.models import Lesson
from courses.tests.factories import LessonFactory
from lms.uploads import KIND_SUBMISSION_FILE, download_token

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "student", "other_student", "instructor", "other_instructor", "admin_user"]


def _expect(**statuses: int) -> list:
    return [pytest.param(role, statuses[role], id=f"_case {role}") for role in ROLES]


def _submit(client, assignment, **data):
    return client.post(
        f"/api/v1/assignments/{assignment.pk}/submissions/", data, format="multipart"
    )


def _url_path(url: str) -> str:
    return urlparse(url).path


@pytest.fixture
def submission(assignment, student, enrolled):
    return services.submission_submit(
        assignment=assignment, user=student, text="Mine", files=[pdf_file("mine.pdf")]
    )


@pytest.fixture
def file_url(auth_client, student, submission):
    """The signed download path of `student`'s file, as the API hands it out."""
    body = auth_client(student).get(f"/api/v1/submissions/{submission.pk}/").json()
    return _url_path(body["files"][0]["download_url"])


# --- Upload refusals through the API ------------------------------------------------------


@pytest.mark.parametrize(
    ("upload", "code"),
    [
        pytest.param(
            lambda: SimpleUploadedFile("big.pdf", PDF + b"0" * 2048),
            "file_too_large",
            id="_case big",
        ),
        pytest.param(lambda: SimpleUploadedFile("empty.pdf", b""), "file_empty", id="_case empty"),
        pytest.param(
            lambda: SimpleUploadedFile("run.exe", b"MZ\x90\x00"),
            "file_type_not_allowed",
            id="_case wrong type",
        ),
        pytest.param(
            lambda: SimpleUploadedFile("photo.png", PDF),
            "file_content_mismatch",
            id="_case content does not match",
        ),
        pytest.param(
            lambda: SimpleUploadedFile("essay.pdf", b"<html><script>x</script></html>"),
            "file_content_mismatch",
            id="_case html named pdf",
        ),
    ],
)
def test_refused_uploads_are_400_with_a_clear_code(
    auth_client, student, assignment, enrolled, upload, code
):
    assignment.max_file_bytes = 1024
    assignment.save()

    response = _submit(auth_client(student), assignment, files=[upload()])

    body = response.json()
    assert (response.status_code, body["code"]) == (400, code)
    assert list(body["fields"]) == ["files[0]"]
    assert not Submission.objects.exists()
    assert not SubmissionFile.objects.exists()


def _raw_multipart(filename: str) -> tuple[bytes, str]:
    boundary = "----lms-test-boundary"
    body = (
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="files"; filename="{filename}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + PDF
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize(
    "filename",
    [
        pytest.param("../../../etc/cron.d/evil.pdf", id="_case parent directories"),
        pytest.param("..\\..\\windows\\evil.pdf", id="_case windows separators"),
        pytest.param("/var/www/evil.pdf", id="_case absolute"),
        pytest.param("..", id="_case dot dot"),
        pytest.param("&#x2F;etc&#x2F;evil.pdf", id="_case html escaped slash"),
    ],
)
def test_path_traversal_names_are_400(auth_client, student, assignment, enrolled, filename):
    body, content_type = _raw_multipart(filename)

    response = auth_client(student).generic(
        "POST",
        f"/api/v1/assignments/{assignment.pk}/submissions/",
        body,
        content_type=content_type,
    )

    assert (response.status_code, response.json()["code"]) == (400, "file_name_invalid")
    assert not SubmissionFile.objects.exists()


def test_a_plain_name_through_the_raw_parser_is_accepted(
    auth_client, student, assignment, enrolled
):
    body, content_type = _raw_multipart("Résumé final.pdf")

    response = auth_client(student).generic(
        "POST",
        f"/api/v1/assignments/{assignment.pk}/submissions/",
        body,
        content_type=content_type,
    )

    assert response.status_code == 201
    stored = SubmissionFile.objects.get()
    assert stored.original_name == "Résumé final.pdf"
    assert stored.file.name.startswith("submissions/")
    assert "sum" not in stored.file.name


def test_uploads_are_throttled_per_user(
    auth_client, student, other_student, assignment, enrolled, monkeypatch
):
    from lms.uploads import UploadRateThrottle

    monkeypatch.setattr(
        UploadRateThrottle,
        "THROTTLE_RATES",
        {**UploadRateThrottle.THROTTLE_RATES, "uploads": "2/hour"},
    )
    enrol(other_student, assignment.lesson.module.course)
    client = auth_client(student)

    statuses = [_submit(client, assignment, text=f"v{n}").status_code for n in range(3)]
    other = _submit(auth_client(other_student), assignment, text="mine")
    listing = client.get(f"/api/v1/assignments/{assignment.pk}/submissions/")

    assert statuses == [201, 201, 429]
    assert other.status_code == 201  # another learner has their own budget
    assert listing.status_code == 200  # reading is not an upload


# --- Signed downloads ---------------------------------------------------------------------


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
def test_download_checks_the_token_and_the_callers_right(
    auth_client, file_url, role_user, expected
):
    response = auth_client(role_user).get(file_url)

    assert response.status_code == expected
    if expected == 200:
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Disposition"] == 'attachment; filename="mine.pdf"'
        assert response["Cache-Control"] == "private, no-store"


def test_download_link_expires(auth_client, student, submission, settings):
    settings.UPLOADS_SIGNED_URL_SECONDS = 60
    with freeze_time("2030-01-01 12:00:00"):
        url = _url_path(
            auth_client(student)
            .get(f"/api/v1/submissions/{submission.pk}/")
            .json()["files"][0]["download_url"]
        )

    with freeze_time("2030-01-01 12:01:01"):
        response = auth_client(student).get(url)

    assert (response.status_code, response.json()["code"]) == (403, "download_link_expired")


def test_download_link_works_until_it_expires(auth_client, student, submission, settings):
    settings.UPLOADS_SIGNED_URL_SECONDS = 60
    with freeze_time("2030-01-01 12:00:00"):
        url = _url_path(
            auth_client(student)
            .get(f"/api/v1/submissions/{submission.pk}/")
            .json()["files"][0]["download_url"]
        )

    with freeze_time("2030-01-01 12:00:59"):
        response = auth_client(student).get(url)

    assert response.status_code == 200


def test_tampered_download_link_is_refused(auth_client, student, file_url):
    token = file_url.rstrip("/").rsplit("/", 1)[1]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    response = auth_client(student).get(f"/api/v1/files/{tampered}/")

    assert (response.status_code, response.json()["code"]) == (403, "download_link_invalid")


def test_a_token_made_for_another_students_file_is_not_found(
    auth_client, other_student, assignment, submission
):
    enrol(other_student, assignment.lesson.module.course)
    services.submission_submit(assignment=assignment, user=other_student, files=[pdf_file("b.pdf")])
    victim_file = submission.files.get()
    token = download_token(kind=KIND_SUBMISSION_FILE, object_id=victim_file.pk)

    response = auth_client(other_student).get(f"/api/v1/files/{token}/")

    assert response.status_code == 404


def test_guessed_ids_find_nothing(auth_client, other_student, submission):
    stolen_id = submission.files.get().pk
    client = auth_client(other_student)

    responses = [
        client.get(f"/api/v1/submissions/{submission.pk}/"),
        client.get(f"/api/v1/files/{stolen_id}/"),
        client.get(f"/api/v1/files/{uuid.uuid4()}/"),
    ]

    assert [response.status_code for response in responses] == [404, 403, 403]


def test_a_token_of_an_unknown_kind_is_not_found(auth_client, student, submission):
    token = download_token(kind="something_else", object_id=submission.files.get().pk)

    assert auth_client(student).get(f"/api/v1/files/{token}/").status_code == 404


def test_the_file_on_disk_is_not_under_the_public_media_root(submission, settings):
    stored = submission.files.get()

    assert not str(stored.file.path).startswith(str(settings.MEDIA_ROOT))


# --- Lesson attachments -------------------------------------------------------------------


@pytest.fixture
def file_lesson(module):
    lesson = LessonFactory(module=module, kind=Lesson.Kind.FILE, position=5, title="Slides")
    lesson.attachment.save("slides.pdf", SimpleUploadedFile("slides.pdf", PDF))
    return lesson


@pytest.mark.parametrize(
    ("role_user", "expected"),
    _expect(
        anonymous=401,
        student=200,
        other_student=403,
        instructor=200,
        other_instructor=403,
        admin_user=200,
    ),
    indirect=["role_user"],
)
def test_lesson_attachment_download_follows_lesson_access(
    auth_client, file_lesson, enrolled, role_user, expected
):
    from lms.uploads import KIND_LESSON_ATTACHMENT

    token = download_token(kind=KIND_LESSON_ATTACHMENT, object_id=file_lesson.pk)

    response = auth_client(role_user).get(f"/api/v1/files/{token}/")

    # Anonymous callers are refused by the lesson's own rule (a non-preview lesson).
    assert response.status_code == (403 if expected == 401 else expected)


def test_lesson_detail_offers_a_signed_attachment_url(auth_client, student, file_lesson, enrolled):
    body = auth_client(student).get(f"/api/v1/lessons/{file_lesson.pk}/").json()

    response = auth_client(student).get(_url_path(body["attachment_url"]))

    assert body["attachment_url"].startswith("http://testserver/api/v1/files/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"] == 'attachment; filename="slides.pdf"'


def test_a_preview_attachment_downloads_without_signing_in(api_client, file_lesson):
    from lms.uploads import KIND_LESSON_ATTACHMENT

    Lesson.objects.filter(pk=file_lesson.pk).update(is_preview=True)
    token = download_token(kind=KIND_LESSON_ATTACHMENT, object_id=file_lesson.pk)

    assert api_client.get(f"/api/v1/files/{token}/").status_code == 200


def test_lesson_without_attachment_has_no_url(auth_client, instructor, module):
    lesson = LessonFactory(module=module, position=6)

    body = auth_client(instructor).get(f"/api/v1/lessons/{lesson.pk}/").json()

    assert body["attachment_url"] is None


# --- S3 (moto) ----------------------------------------------------------------------------

BUCKET = "lms-test-private"


@pytest.fixture
def s3(settings, monkeypatch):
    """STORAGE_BACKEND=s3 as settings.py builds it, against moto's in-memory S3."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        options = {
            "bucket_name": BUCKET,
            "region_name": "us-east-1",
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": settings.UPLOADS_SIGNED_URL_SECONDS,
            "file_overwrite": False,
            "signature_version": "s3v4",
        }
        settings.STORAGE_BACKEND = "s3"
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {**options, "location": "media"},
            },
            "private": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {**options, "location": "private"},
            },
        }
        yield client


def test_s3_upload_stores_a_private_object_and_hands_out_a_presigned_url(
    s3, auth_client, student, assignment, enrolled
):
    response = _submit(auth_client(student), assignment, files=[pdf_file("essay.pdf")])

    stored = SubmissionFile.objects.get()
    key = f"private/{stored.file.name}"
    url = urlparse(response.json()["files"][0]["download_url"])
    query = parse_qs(url.query)
    assert response.status_code == 201
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == PDF
    assert url.path == f"/{key}" or url.path.endswith(f"/{BUCKET}/{key}")
    assert query["X-Amz-Expires"] == ["300"]
    assert "X-Amz-Signature" in query
    assert query["response-content-disposition"] == ["attachment; filename*=UTF-8''essay.pdf"]


def test_s3_objects_are_not_public(s3, auth_client, student, assignment, enrolled):
    _submit(auth_client(student), assignment, files=[pdf_file("essay.pdf")])
    key = f"private/{SubmissionFile.objects.get().file.name}"

    grants = s3.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]

    assert all("AllUsers" not in str(grant["Grantee"]) for grant in grants)


def test_s3_resubmission_deletes_the_old_object(
    s3, auth_client, student, assignment, enrolled, django_capture_on_commit_callbacks
):
    client = auth_client(student)
    _submit(client, assignment, files=[pdf_file("v1.pdf")])
    old_key = f"private/{SubmissionFile.objects.get().file.name}"

    with django_capture_on_commit_callbacks(execute=True):
        _submit(client, assignment, files=[SimpleUploadedFile("v2.png", PNG)])

    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert old_key not in keys
    assert len(keys) == 1


def test_s3_lesson_attachment_url_is_presigned(s3, auth_client, instructor, module):
    lesson = LessonFactory(module=module, kind=Lesson.Kind.FILE, position=5)
    lesson.attachment.save("slides.pdf", SimpleUploadedFile("slides.pdf", PDF))

    url = auth_client(instructor).get(f"/api/v1/lessons/{lesson.pk}/").json()["attachment_url"]

    assert "X-Amz-Signature" in parse_qs(urlparse(url).query)
    assert s3.get_object(Bucket=BUCKET, Key=f"media/{lesson.attachment.name}")["Body"].read() == PDF
