"""Uploaded files for every app: one validator, generated names, the private storage, and
short-lived signed download links. This module imports no app.

- `validate_upload(file, allowed_extensions=..., max_bytes=...)` is the one check every upload
  passes: a safe client name, not empty, not too large, an allowed extension, and a sniffed
  content type that agrees with that extension. Each refusal is a 400 with its own code.
- `generated_name(folder, filename)` is the stored name: a random one; only the (validated)
  extension of the client's name survives. The client's name is kept as display metadata.
- `private_storage()` is the storage of files that must never be public (the STORAGES alias
  "private"): a directory outside MEDIA_ROOT locally, a private S3 prefix on S3.
- `download_url(...)` gives a short-lived link: S3 presigned on S3, otherwise
  `/api/v1/files/<token>/`, whose view (in the app that owns the file kinds) checks the
  `TimestampSigner` token with `read_download_token` *and* the caller's right to the file.
"""

import codecs
import html
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

import filetype
from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.core.signals import setting_changed
from django.db.models.fields.files import FieldFile
from django.dispatch import receiver
from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.utils.functional import LazyObject, empty
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles, MultiPartParser
from rest_framework.request import Request
from rest_framework.throttling import UserRateThrottle

from lms.exceptions import ApplicationError

# The kinds of file a download token can name; the files view resolves each one.
KIND_LESSON_ATTACHMENT = "lesson_attachment"
KIND_SUBMISSION_FILE = "submission_file"

MAX_NAME_LENGTH = 200
SNIFF_BYTES = 8192
TEXT = "text/plain"

# What each known extension's content must sniff as. TEXT means: no binary signature, valid
# UTF-8 and no NUL byte. OOXML documents are zip containers, which a sniffer may report as such.
_ZIP = "application/zip"
CONTENT_TYPES: dict[str, frozenset[str]] = {
    "pdf": frozenset({"application/pdf"}),
    "png": frozenset({"image/png"}),
    "jpg": frozenset({"image/jpeg"}),
    "jpeg": frozenset({"image/jpeg"}),
    "gif": frozenset({"image/gif"}),
    "webp": frozenset({"image/webp"}),
    "zip": frozenset({_ZIP}),
    "docx": frozenset(
        {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", _ZIP}
    ),
    "xlsx": frozenset({"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP}),
    "pptx": frozenset(
        {"application/vnd.openxmlformats-officedocument.presentationml.presentation", _ZIP}
    ),
    "odt": frozenset({"application/vnd.oasis.opendocument.text", _ZIP}),
    "txt": frozenset({TEXT}),
    "md": frozenset({TEXT}),
    "csv": frozenset({TEXT}),
    "py": frozenset({TEXT}),
}
# The content type stored and served for text files, per extension.
_TEXT_CONTENT_TYPES = {"csv": "text/csv", "md": "text/markdown", "py": "text/x-python"}


# --- Validation ---------------------------------------------------------------------------


class UploadRejected(ApplicationError):
    """A refused upload: 400 with one of the codes below and the problem under `fields`."""

    default_code = "upload_rejected"
    default_message = "The file was refused."

    def __init__(self, message: str, *, code: str, field: str = "file") -> None:
        super().__init__(message, code=code, fields={field: [message]})


@dataclass(frozen=True)
class ValidatedUpload:
    """What the validator learnt about an accepted file."""

    display_name: str
    extension: str
    content_type: str
    size: int


def validate_upload(
    file: File,
    *,
    allowed_extensions: Iterable[str],
    max_bytes: int,
    field: str = "file",
) -> ValidatedUpload:
    """Accept `file` or raise UploadRejected, checking in this order:

    `file_name_invalid` (a path, `..`, control characters, no name, too long),
    `file_empty`, `file_too_large`, `file_type_not_allowed` (extension not in the allow-list,
    or unknown to CONTENT_TYPES), `file_content_mismatch` (the sniffed content is not what the
    extension claims). The file is left at position 0.
    """
    display_name = _checked_name(file.name or "", field=field)
    size = file.size or 0
    if size == 0:
        raise UploadRejected("The file is empty.", code="file_empty", field=field)
    if size > max_bytes:
        raise UploadRejected(
            f"The file is larger than {_megabytes(max_bytes)}.", code="file_too_large", field=field
        )
    extension = PurePosixPath(display_name).suffix.lower().lstrip(".")
    allowed = {item.lower().lstrip(".") for item in allowed_extensions}
    if not extension or extension not in allowed or extension not in CONTENT_TYPES:
        listed = ", ".join(sorted(allowed & CONTENT_TYPES.keys())) or "none"
        raise UploadRejected(
            f"Files of this type are not accepted (allowed: {listed}).",
            code="file_type_not_allowed",
            field=field,
        )
    content_type = _sniffed_type(file)
    if content_type not in CONTENT_TYPES[extension]:
        raise UploadRejected(
            f"The file's content does not match its .{extension} extension.",
            code="file_content_mismatch",
            field=field,
        )
    if content_type == TEXT:
        content_type = _TEXT_CONTENT_TYPES.get(extension, TEXT)
    elif content_type == _ZIP and extension != "zip":
        content_type = next(iter(CONTENT_TYPES[extension] - {_ZIP}))
    return ValidatedUpload(
        display_name=display_name, extension=extension, content_type=content_type, size=size
    )


def _checked_name(name: str, *, field: str) -> str:
    """The client's file name as display text, refusing anything path-like."""
    normalized = unicodedata.normalize("NFC", name)
    has_control = any(unicodedata.category(char).startswith("C") for char in normalized)
    parts = normalized.replace("\\", "/").split("/")
    if (
        not normalized.strip(" .")
        or has_control
        or len(parts) > 1
        or normalized in (".", "..")
        or len(normalized) > MAX_NAME_LENGTH
    ):
        raise UploadRejected(
            "The file name is not acceptable: send a plain name without a path.",
            code="file_name_invalid",
            field=field,
        )
    return normalized


def _sniffed_type(file: File) -> str:
    file.seek(0)
    head = file.read(SNIFF_BYTES)
    file.seek(0)
    if isinstance(head, str):
        head = head.encode()
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    if b"\x00" in head:
        return "application/octet-stream"
    try:
        # final=False: a multi-byte character cut by the end of the sample is not an error.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "application/octet-stream"
    return TEXT


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def generated_name(folder: str, filename: str) -> str:
    """A server-generated storage name in `folder`: nothing of the client's name but its
    extension (lower-cased, only if it is a known one)."""
    extension = PurePosixPath(filename).suffix.lower().lstrip(".")
    suffix = f".{extension}" if extension in CONTENT_TYPES else ""
    return f"{folder}/{uuid.uuid4().hex}{suffix}"


class _NameCheckingMultiPartParser(DjangoMultiPartParser):
    """Django's parser quietly strips directories from a client's file name (or drops the file);
    refuse such names instead, so the client learns its name was not acceptable."""

    def sanitize_file_name(self, file_name: str) -> str | None:
        sanitized = super().sanitize_file_name(file_name)
        if sanitized is None or sanitized != html.unescape(file_name):
            raise UploadRejected(
                "The file name is not acceptable: send a plain name without a path.",
                code="file_name_invalid",
            )
        return str(sanitized)


class UploadMultiPartParser(MultiPartParser):
    """DRF's multipart parser, refusing path-like file names (400 `file_name_invalid`)."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> DataAndFiles:
        parser_context = parser_context or {}
        request = parser_context["request"]
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        try:
            parser = _NameCheckingMultiPartParser(
                meta,
                stream,
                request.upload_handlers,
                parser_context.get("encoding", settings.DEFAULT_CHARSET),
            )
            data, files = parser.parse()
        except MultiPartParserError as error:
            raise ParseError(f"Multipart form parse error - {error}") from error
        return DataAndFiles(data, files)


class UploadRateThrottle(UserRateThrottle):
    """Per user, on every endpoint that takes files (rate: the `uploads` scope)."""

    scope = "uploads"


# --- Private storage ----------------------------------------------------------------------


class _PrivateStorage(LazyObject):
    """STORAGES["private"], resolved on first use (and again after a settings change)."""

    def _setup(self) -> None:
        self._wrapped = storages["private"]


_private_storage = _PrivateStorage()


def private_storage() -> Storage:
    """The storage for private files; FileField(storage=private_storage) keeps it lazy."""
    return _private_storage  # type: ignore[return-value]


@receiver(setting_changed)
def _reset_private_storage(*, setting: str, **kwargs: Any) -> None:
    # Tests switch STORAGES (to S3 under moto, to a temporary directory); follow them.
    if setting == "STORAGES":
        _private_storage._wrapped = empty  # type: ignore[assignment]


# --- Signed downloads ---------------------------------------------------------------------

_SALT = "lms.uploads.download"


class DownloadLinkInvalid(ApplicationError):
    status_code = 403
    default_code = "download_link_invalid"
    default_message = "This download link is not valid."


class DownloadLinkExpired(ApplicationError):
    status_code = 403
    default_code = "download_link_expired"
    default_message = "This download link has expired; ask for a new one."


def download_token(*, kind: str, object_id: uuid.UUID | str) -> str:
    """A tamper-proof, timestamped token naming one file (valid UPLOADS_SIGNED_URL_SECONDS)."""
    return signing.TimestampSigner(salt=_SALT).sign_object({"k": kind, "id": str(object_id)})


def read_download_token(token: str) -> tuple[str, str]:
    """(kind, object id) of a token, or DownloadLinkInvalid / DownloadLinkExpired.

    The caller must still check that the requesting user may read that file.
    """
    signer = signing.TimestampSigner(salt=_SALT)
    try:
        data = signer.unsign_object(token, max_age=settings.UPLOADS_SIGNED_URL_SECONDS)
    except signing.SignatureExpired:
        raise DownloadLinkExpired() from None
    except (signing.BadSignature, ValueError, UnicodeDecodeError):
        raise DownloadLinkInvalid() from None
    if not isinstance(data, dict) or not {"k", "id"} <= data.keys():
        raise DownloadLinkInvalid()
    return str(data["k"]), str(data["id"])


def _is_s3(storage: Storage) -> bool:
    from storages.backends.s3 import S3Storage  # boto3 loads only where S3 is in use

    # isinstance() sees through the lazy storage proxies (default_storage, private_storage).
    return isinstance(storage, S3Storage)


def download_url(
    *,
    file: FieldFile,
    kind: str,
    object_id: uuid.UUID | str,
    filename: str,
    request: Request | None = None,
) -> str:
    """A short-lived link to `file`: presigned on S3, a signed local path otherwise.

    Only hand it to someone who may read the file; the local view checks that again.
    """
    if _is_s3(file.storage):
        disposition = f"attachment; filename*=UTF-8''{quote(filename, safe='')}"
        return str(
            file.storage.url(  # type: ignore[call-arg]
                file.name,
                parameters={"ResponseContentDisposition": disposition},
                expire=settings.UPLOADS_SIGNED_URL_SECONDS,
            )
        )
    token = download_token(kind=kind, object_id=object_id)
    path = reverse("assessments_api:file-download", kwargs={"token": token})
    return request.build_absolute_uri(path) if request is not None else path
