"""Categories, courses, modules and lessons. Writes go through courses.services."""

import uuid
from datetime import datetime, timedelta
from pathlib import PurePath

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import FileExtensionValidator, RegexValidator
from django.db import models
from django.db.models import Q

from courses.currencies import CURRENCY_CHOICES, ISO_4217_CODES
from lms.models import BaseModel

language_code_validator = RegexValidator(
    r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", "Enter a language code such as 'en' or 'pt-BR'."
)

ATTACHMENT_EXTENSIONS = ["pdf", "zip", "txt", "md", "csv", "pptx", "docx", "xlsx", "png", "jpg"]


def _generated_name(folder: str, filename: str) -> str:
    """A server-generated file name: nothing of the client's path survives but the extension."""
    extension = PurePath(filename).suffix.lower()[:10]
    return f"{folder}/{uuid.uuid4().hex}{extension}"


def validate_upload_size(file: File) -> None:
    limit = settings.COURSES_MAX_UPLOAD_BYTES
    if file.size is not None and file.size > limit:
        raise ValidationError(
            "The file is larger than %(limit)s MB.",
            code="file_too_large",
            params={"limit": limit // (1024 * 1024)},
        )
    if file.size == 0:
        raise ValidationError("The file is empty.", code="file_empty")


def cover_image_path(instance: "Course", filename: str) -> str:
    return _generated_name("courses/covers", filename)


def lesson_attachment_path(instance: "Lesson", filename: str) -> str:
    return _generated_name("courses/attachments", filename)


class Category(BaseModel):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Course(BaseModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    class Level(models.TextChoices):
        BEGINNER = "beginner", "Beginner"
        INTERMEDIATE = "intermediate", "Intermediate"
        ADVANCED = "advanced", "Advanced"
        ALL_LEVELS = "all_levels", "All levels"

    slug = models.SlugField(max_length=120, unique=True)
    title = models.CharField(max_length=200)
    subtitle = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    language = models.CharField(max_length=12, default="en", validators=[language_code_validator])
    level = models.CharField(max_length=20, choices=Level.choices, default=Level.ALL_LEVELS)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="courses"
    )
    cover_image = models.ImageField(
        upload_to=cover_image_path, blank=True, validators=[validate_upload_size]
    )
    price_amount = models.PositiveBigIntegerField(
        default=0, help_text="In minor units (cents); 0 is free."
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="USD")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_courses"
    )
    co_instructors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="co_taught_courses"
    )
    seat_capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Leave empty for unlimited seats."
    )
    enrollment_opens_at = models.DateTimeField(null=True, blank=True)
    enrollment_closes_at = models.DateTimeField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    certificate_enabled = models.BooleanField(default=True)
    # Active and completed enrolments; kept by the enrollments services under the course lock.
    enrollment_count = models.PositiveIntegerField(default=0, editable=False)
    # Kept current by a database trigger on PostgreSQL (migration 0002); unused on SQLite.
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["-published_at", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(currency__in=ISO_4217_CODES), name="courses_course_currency_iso4217"
            ),
            models.CheckConstraint(
                condition=Q(price_amount__gte=0), name="courses_course_price_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(seat_capacity__isnull=True) | Q(seat_capacity__gte=1),
                name="courses_course_seat_capacity_positive",
            ),
            models.CheckConstraint(
                condition=Q(enrollment_opens_at__isnull=True)
                | Q(enrollment_closes_at__isnull=True)
                | Q(enrollment_opens_at__lt=models.F("enrollment_closes_at")),
                name="courses_course_enrollment_window_ordered",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "published", "archived"]),
                name="courses_course_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-published_at"], name="courses_status_published"),
            models.Index(fields=["status", "-enrollment_count"], name="courses_status_popular"),
            models.Index(fields=["status", "price_amount"], name="courses_status_price"),
            GinIndex(fields=["search_vector"], name="courses_search_vector_gin"),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if (
            self.enrollment_opens_at
            and self.enrollment_closes_at
            and self.enrollment_opens_at >= self.enrollment_closes_at
        ):
            raise ValidationError(
                {"enrollment_closes_at": "Enrolment must close after it opens."},
                code="invalid_window",
            )

    @property
    def is_free(self) -> bool:
        return self.price_amount == 0

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def is_open_for_enrollment(self, now: datetime) -> bool:
        """Within the enrolment window (seats are checked by the enrolment service)."""
        if self.enrollment_opens_at and now < self.enrollment_opens_at:
            return False
        return not (self.enrollment_closes_at and now >= self.enrollment_closes_at)


class Module(BaseModel):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="modules")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["course", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "position"], name="courses_module_unique_position"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Lesson(BaseModel):
    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        VIDEO = "video", "Video"
        FILE = "file", "File"
        QUIZ = "quiz", "Quiz"
        ASSIGNMENT = "assignment", "Assignment"

    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="lessons")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.TEXT)
    body = models.TextField(blank=True, help_text="Markdown.")
    video_url = models.URLField(max_length=500, blank=True)
    duration_seconds = models.PositiveIntegerField(default=0)
    attachment = models.FileField(
        upload_to=lesson_attachment_path,
        blank=True,
        validators=[FileExtensionValidator(ATTACHMENT_EXTENSIONS), validate_upload_size],
    )
    is_preview = models.BooleanField(default=False, help_text="Open without enrolment.")
    is_required = models.BooleanField(default=True, help_text="Counts toward completion.")
    available_from = models.DateTimeField(
        null=True, blank=True, help_text="Locked for everyone before this time."
    )
    available_after_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Drip: unlocked this many days after enrolment."
    )
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["module", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["module", "position"], name="courses_lesson_unique_position"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["text", "video", "file", "quiz", "assignment"]),
                name="courses_lesson_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def unlocks_at(self, enrolled_at: datetime | None) -> datetime | None:
        """When the lesson opens for a learner enrolled at `enrolled_at` (None: no lock)."""
        times = [self.available_from] if self.available_from else []
        if self.available_after_days and enrolled_at:
            times.append(enrolled_at + timedelta(days=self.available_after_days))
        return max(times, default=None)

    def clean(self) -> None:
        if self.kind == self.Kind.VIDEO and not self.video_url:
            raise ValidationError(
                {"video_url": "A video lesson needs a video URL."}, code="required"
            )
