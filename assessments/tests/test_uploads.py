"""The one upload validator (lms/uploads.py) and the signed download tokens."""

import io
import zipfile

import pytest
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from freezegun import freeze_time

from assessments.tests.conftest import PDF, PNG
from lms.uploads import (
    DownloadLinkExpired,
    DownloadLinkInvalid,
    UploadRejected,
    download_token,
    generated_name,
    read_download_token,
    validate_upload,
)

ALL = ["pdf", "png", "jpg", "txt", "md", "csv", "docx", "zip"]


def _file(name, content):
    return SimpleUploadedFile(name, content)


def _raw_file(name, content):
    """A file whose name is kept verbatim (UploadedFile already drops directories)."""
    return ContentFile(content, name=name)


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def _rejection(name, content, *, allowed=ALL, max_bytes=1024 * 1024) -> UploadRejected:
    with pytest.raises(UploadRejected) as error:
        validate_upload(_raw_file(name, content), allowed_extensions=allowed, max_bytes=max_bytes)
    assert error.value.status_code == 400
    return error.value


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        pytest.param("essay.pdf", PDF, "application/pdf", id="_case pdf"),
        pytest.param("chart.PNG", PNG, "image/png", id="_case png upper-case extension"),
        pytest.param("notes.txt", "Grüße, 世界\n".encode(), "text/plain", id="_case utf-8 text"),
        pytest.param("data.csv", b"a,b\n1,2\n", "text/csv", id="_case csv"),
        pytest.param(
            "report.docx",
            _docx(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            id="_case docx",
        ),
    ],
)
def test_accepted_files_report_their_sniffed_type(name, content, content_type):
    upload = validate_upload(_file(name, content), allowed_extensions=ALL, max_bytes=10**6)

    assert (upload.display_name, upload.content_type, upload.size) == (
        name,
        content_type,
        len(content),
    )


def test_too_large_is_refused():
    error = _rejection("essay.pdf", PDF + b"x" * 100, max_bytes=len(PDF))

    assert error.code == "file_too_large"
    assert error.fields == {"file": [error.message]}


def test_exactly_the_limit_is_accepted():
    upload = validate_upload(_file("essay.pdf", PDF), allowed_extensions=ALL, max_bytes=len(PDF))

    assert upload.size == len(PDF)


def test_empty_file_is_refused():
    assert _rejection("essay.pdf", b"").code == "file_empty"


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("script.exe", id="_case unknown extension"),
        pytest.param("essay", id="_case no extension"),
        pytest.param("essay.pdf.exe", id="_case double extension"),
    ],
)
def test_extensions_outside_the_allow_list_are_refused(name):
    assert _rejection(name, PDF).code == "file_type_not_allowed"


def test_a_known_extension_the_assignment_does_not_allow_is_refused():
    assert _rejection("chart.png", PNG, allowed=["pdf"]).code == "file_type_not_allowed"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        pytest.param("essay.pdf", b"plain text pretending", id="_case text named pdf"),
        pytest.param("chart.png", PDF, id="_case pdf named png"),
        pytest.param("notes.txt", PNG, id="_case png named txt"),
        pytest.param("notes.txt", b"\xff\xfe\x00binary", id="_case binary named txt"),
        pytest.param("report.docx", PDF, id="_case pdf named docx"),
        pytest.param("essay.pdf", b"MZ\x90\x00\x03" + b"\x00" * 60, id="_case executable"),
    ],
)
def test_content_that_does_not_match_the_extension_is_refused(name, content):
    assert _rejection(name, content).code == "file_content_mismatch"


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("../../etc/passwd.txt", id="_case parent directories"),
        pytest.param("..\\..\\windows\\win.ini.txt", id="_case windows separators"),
        pytest.param("/etc/cron.d/job.txt", id="_case absolute path"),
        pytest.param("notes/../../x.txt", id="_case nested"),
        pytest.param("..", id="_case dot dot"),
        pytest.param("evil\u202etxt.exe.txt", id="_case right-to-left override"),
        pytest.param("nul\x00.txt", id="_case nul byte"),
        pytest.param("   ", id="_case blank"),
        pytest.param("a" * 300 + ".txt", id="_case too long"),
    ],
)
def test_path_like_or_unsafe_names_are_refused(name):
    assert _rejection(name, b"hello").code == "file_name_invalid"


def test_the_file_is_left_at_its_start():
    upload = _file("essay.pdf", PDF)

    validate_upload(upload, allowed_extensions=ALL, max_bytes=10**6)

    assert upload.read() == PDF


def test_generated_names_keep_only_a_known_extension():
    first = generated_name("submissions", "../../My Essay.PDF")
    second = generated_name("submissions", "../../My Essay.PDF")

    assert first.startswith("submissions/")
    assert first.endswith(".pdf")
    assert ".." not in first
    assert "Essay" not in first
    assert first != second
    assert generated_name("x", "run.sh").count(".") == 0


# --- Signed tokens ------------------------------------------------------------------------


def test_a_token_names_its_file():
    token = download_token(kind="submission_file", object_id="abc")

    assert read_download_token(token) == ("submission_file", "abc")


def test_a_token_expires(settings):
    settings.UPLOADS_SIGNED_URL_SECONDS = 300
    with freeze_time("2030-01-01 12:00:00"):
        token = download_token(kind="submission_file", object_id="abc")

    with freeze_time("2030-01-01 12:05:01"), pytest.raises(DownloadLinkExpired):
        read_download_token(token)


def test_a_token_is_valid_until_it_expires(settings):
    settings.UPLOADS_SIGNED_URL_SECONDS = 300
    with freeze_time("2030-01-01 12:00:00"):
        token = download_token(kind="submission_file", object_id="abc")

    with freeze_time("2030-01-01 12:04:59"):
        assert read_download_token(token) == ("submission_file", "abc")


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"), id="_case sig"),
        pytest.param(lambda token: "x" + token, id="_case payload"),
        pytest.param(lambda token: token.split(":")[0], id="_case no signature"),
        pytest.param(lambda token: "", id="_case empty"),
        pytest.param(
            lambda token: signing.TimestampSigner(salt="other").sign_object(
                {"k": "submission_file", "id": "abc"}
            ),
            id="_case other salt",
        ),
        pytest.param(
            lambda token: signing.TimestampSigner(key="not-our-secret" * 4).sign_object(
                {"k": "submission_file", "id": "abc"}
            ),
            id="_case other key",
        ),
    ],
)
def test_a_tampered_token_is_refused(tamper):
    token = download_token(kind="submission_file", object_id="abc")

    with pytest.raises(DownloadLinkInvalid):
        read_download_token(tamper(token))


def test_a_token_cannot_be_retargeted_to_another_file():
    token = download_token(kind="submission_file", object_id="abc")
    _, timestamp, signature = token.rsplit(":", 2)
    forged_payload = signing.b64_encode(b'{"k":"submission_file","id":"xyz"}').decode()

    with pytest.raises(DownloadLinkInvalid):
        read_download_token(f"{forged_payload}:{timestamp}:{signature}")
