"""Enrolments of learners in courses, and their progress through the lessons."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from courses.models import Course, Lesson
from lms.models import BaseModel


class Enrollment(BaseModel):
    """One row per learner and course: re-enrolling reactivates it, so progress is kept."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"

    class Source(models.TextChoices):
        FREE = "free", "Free enrolment"
        PURCHASE = "purchase", "Purchase"
        ADMIN = "admin", "Granted by staff"
        IMPORT = "import", "Imported"

    # Statuses that hold a seat and open the lessons.
    HOLDS_SEAT = (Status.ACTIVE, Status.COMPLETED)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="enrollments"
    )
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="enrollments")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    source = models.CharField(max_length=20, choices=Source.choices)
    enrolled_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    last_accessed_at = models.DateTimeField(null=True, blank=True)
    # Completed required lessons, and that count as a percentage of the course's required
    # lessons. Both are kept by the services; recompute_progress repairs them.
    completed_required_lessons = models.PositiveIntegerField(default=0)
    progress_percent = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-enrolled_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "course"], name="enrollments_one_per_course"),
            models.CheckConstraint(
                condition=Q(progress_percent__lte=100), name="enrollments_progress_at_most_100"
            ),
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(completed_at__isnull=False),
                name="enrollments_completed_has_time",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "completed", "cancelled", "refunded"]),
                name="enrollments_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["course", "status"], name="enrollments_course_status"),
            models.Index(fields=["user", "-last_accessed_at"], name="enrollments_user_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.course}"

    @property
    def is_active(self) -> bool:
        """Holds a seat and opens the lessons (active or completed)."""
        return self.status in self.HOLDS_SEAT


class LessonProgress(BaseModel):
    """A learner's state in one lesson: completion, video position, time spent."""

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="lesson_progress"
    )
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="progress_records")
    completed_at = models.DateTimeField(null=True, blank=True)
    position_seconds = models.PositiveIntegerField(default=0)
    time_spent_seconds = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "lesson progress"
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "lesson"], name="enrollments_progress_one_per_lesson"
            ),
        ]
        indexes = [
            models.Index(
                fields=["lesson"],
                condition=Q(completed_at__isnull=False),
                name="enrollments_lesson_completed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrollment} / {self.lesson}"
