import csv
from pathlib import Path
from typing import Any, Protocol

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import QuerySet

from courses.models import Course
from enrollments.models import Enrollment
from lms.renderers import safe_csv_cell

COLUMNS = [
    "enrollment_id",
    "course_slug",
    "course_title",
    "email",
    "full_name",
    "status",
    "source",
    "progress_percent",
    "completed_required_lessons",
    "enrolled_at",
    "completed_at",
    "cancelled_at",
    "last_accessed_at",
]
PROGRESS_EVERY = 5000
CHUNK_SIZE = 2000


class Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return safe_csv_cell(value)


class Command(BaseCommand):
    help = (
        "Write enrolments as CSV for back-office use: one row per enrolment with the course, "
        "the learner's email and name, status, source, progress and times (ISO 8601, UTC). "
        "Every course, or one with --course; any status unless --status narrows it. Cells "
        "that a spreadsheet would run as formulas are prefixed with a quote. Progress goes "
        "to stderr, so the CSV can be piped from stdout."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--course", metavar="SLUG", help="Only this course's enrolments (any status)."
        )
        parser.add_argument(
            "--status",
            choices=Enrollment.Status.values,
            action="append",
            help="Only enrolments with this status (repeat for several).",
        )
        parser.add_argument(
            "--output",
            metavar="FILE",
            help="Write the CSV to FILE (created or replaced) instead of standard output.",
        )

    def handle(
        self,
        *args: Any,
        course: str | None,
        status: list[str] | None,
        output: str | None,
        **options: Any,
    ) -> None:
        enrollments = self._enrollments(course, status)
        total = enrollments.count()
        if output:
            try:
                with Path(output).open("w", encoding="utf-8", newline="") as handle:
                    written = self._write(enrollments, handle, total=total)
            except OSError as error:
                raise CommandError(f"Cannot write {output}: {error}") from error
            destination = output
        else:
            self.stdout.ending = ""  # the csv module ends its own lines
            written = self._write(enrollments, self.stdout, total=total)
            destination = "standard output"
        self.stderr.write(self.style.SUCCESS(f"{written} enrolment(s) exported to {destination}."))

    def _enrollments(self, slug: str | None, statuses: list[str] | None) -> QuerySet[Enrollment]:
        enrollments = Enrollment.objects.select_related("user", "course").order_by(
            "course__slug", "enrolled_at", "pk"
        )
        if slug is not None:
            course = Course.objects.filter(slug=slug.lower()).first()
            if course is None:
                raise CommandError(f"No course with the slug {slug!r}.")
            enrollments = enrollments.filter(course=course)
        if statuses:
            enrollments = enrollments.filter(status__in=statuses)
        return enrollments

    def _write(self, enrollments: QuerySet[Enrollment], handle: Writable, *, total: int) -> int:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        written = 0
        for enrollment in enrollments.iterator(chunk_size=CHUNK_SIZE):
            writer.writerow(
                _cell(value)
                for value in (
                    enrollment.pk,
                    enrollment.course.slug,
                    enrollment.course.title,
                    enrollment.user.email,
                    enrollment.user.full_name,
                    enrollment.status,
                    enrollment.source,
                    enrollment.progress_percent,
                    enrollment.completed_required_lessons,
                    enrollment.enrolled_at,
                    enrollment.completed_at,
                    enrollment.cancelled_at,
                    enrollment.last_accessed_at,
                )
            )
            written += 1
            if written % PROGRESS_EVERY == 0:
                self.stderr.write(f"... {written} of {total}")
        return written
