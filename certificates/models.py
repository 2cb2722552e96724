"""Certificate templates, per-course settings, certificates and weekly-digest deliveries.

Writes go through certificates.services; the PDF is rendered by certificates.tasks.
"""

import base64
import secrets
import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q

from courses.models import Course, validate_upload_size
from enrollments.models import Enrollment
from lms.models import BaseModel

# 10 random bytes: 80 bits, well past guessing. Base32 lower-case is URL-safe, has no
# look-alike punctuation and reads aloud; 16 characters without padding.
VERIFICATION_CODE_BYTES = 10
VERIFICATION_CODE_LENGTH = 16


def verification_code() -> str:
    return base64.b32encode(secrets.token_bytes(VERIFICATION_CODE_BYTES)).decode().lower()


def signature_image_path(instance: "CertificateTemplate", filename: str) -> str:
    extension = PurePath(filename).suffix.lower()[:10]
    return f"certificates/signatures/{uuid.uuid4().hex}{extension}"


class CertificateTemplate(BaseModel):
    """The HTML and CSS a certificate is rendered from, with the organisation's details.

    `html` is a Django template; see templates/certificates/default.html for the variables.
    Page size and orientation become the CSS `@page` rule, so the CSS need not set them.
    """

    class PageSize(models.TextChoices):
        A4 = "A4", "A4"
        LETTER = "letter", "US Letter"
        A5 = "A5", "A5"

    class Orientation(models.TextChoices):
        LANDSCAPE = "landscape", "Landscape"
        PORTRAIT = "portrait", "Portrait"

    name = models.CharField(max_length=100, unique=True)
    html = models.TextField(help_text="A Django template: {{ learner_name }}, {{ qr_code }}, …")
    css = models.TextField(blank=True)
    organization_name = models.CharField(max_length=200)
    signatory_name = models.CharField(max_length=150, blank=True)
    signatory_title = models.CharField(max_length=150, blank=True)
    signature_image = models.ImageField(
        upload_to=signature_image_path, blank=True, validators=[validate_upload_size]
    )
    page_size = models.CharField(max_length=10, choices=PageSize.choices, default=PageSize.A4)
    orientation = models.CharField(
        max_length=10, choices=Orientation.choices, default=Orientation.LANDSCAPE
    )
    is_default = models.BooleanField(
        default=False, help_text="Used by every course that has not chosen a template."
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="certificates_one_default_template",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CourseCertificateSettings(BaseModel):
    """A course's certificate choices, kept here so that courses need not know certificates."""

    course = models.OneToOneField(
        Course, on_delete=models.CASCADE, related_name="certificate_settings"
    )
    template = models.ForeignKey(
        CertificateTemplate,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="course_settings",
        help_text="Empty: the default template.",
    )

    class Meta:
        verbose_name = "certificate settings"
        verbose_name_plural = "certificate settings"

    def __str__(self) -> str:
        return f"Certificate settings of {self.course}"


class Certificate(BaseModel):
    """A learner's certificate for one enrolment, with snapshots of what it certifies.

    `issued_at` is when it was awarded (printed on the PDF); the PDF follows from the render
    task, which moves it from pending to issued. At most one certificate per enrolment is not
    revoked; a revoked one is kept as a record.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending (PDF being rendered)"
        ISSUED = "issued", "Issued"
        REVOKED = "revoked", "Revoked"

    class Source(models.TextChoices):
        COMPLETION = "completion", "Course completed"
        STAFF = "staff", "Issued by staff"
        BULK = "bulk", "Bulk issue (command)"

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, related_name="certificates"
    )
    # The enrolment's learner and course, which never change: kept for listing and filters.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="certificates"
    )
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="certificates")
    template = models.ForeignKey(
        CertificateTemplate,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="certificates",
        help_text="Empty: the template shipped with the server.",
    )
    verification_code = models.CharField(
        max_length=VERIFICATION_CODE_LENGTH, unique=True, default=verification_code, editable=False
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    source = models.CharField(max_length=12, choices=Source.choices)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Snapshots: what the certificate says stays as it was when it was awarded.
    learner_name = models.CharField(max_length=150)
    course_title = models.CharField(max_length=200)
    instructor_names = models.CharField(max_length=500, blank=True)
    grade = models.CharField(max_length=50, blank=True)
    issued_at = models.DateTimeField()
    pdf = models.FileField(blank=True, editable=False)
    rendered_at = models.DateTimeField(null=True, blank=True)
    render_failures = models.PositiveIntegerField(default=0)
    last_render_error = models.TextField(blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.TextField(blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment"],
                condition=~Q(status="revoked"),
                name="certificates_one_live_per_enrollment",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "issued", "revoked"]),
                name="certificates_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="issued") | (Q(rendered_at__isnull=False) & ~Q(pdf="")),
                name="certificates_issued_has_pdf",
            ),
            models.CheckConstraint(
                condition=~Q(status="revoked") | Q(revoked_at__isnull=False),
                name="certificates_revoked_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-issued_at"], name="certificates_user_recent"),
            models.Index(
                fields=["created_at"],
                condition=Q(status="pending"),
                name="certificates_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner_name}, {self.course_title} ({self.verification_code})"


class WeeklyDigestDelivery(BaseModel):
    """One weekly progress email per learner and week, so a re-run never sends a second."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="weekly_digests"
    )
    week_start = models.DateField(help_text="The Monday of the week the digest was sent for.")

    class Meta:
        verbose_name_plural = "weekly digest deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "week_start"], name="certificates_one_digest_per_week"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}, week of {self.week_start}"
