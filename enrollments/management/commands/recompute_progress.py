from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Exists, OuterRef, QuerySet

from courses.models import Course
from enrollments.models import Enrollment
from enrollments.services import enrollment_progress_recount


class Command(BaseCommand):
    help = (
        "Recount the stored progress of every enrolment from its lesson records, complete the "
        "enrolments that are now done, and report how many rows had drifted. One course, or "
        "every course with enrolments; each course is recounted in its own transaction."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--course", metavar="SLUG", help="Only this course (any status).")

    def handle(self, *args: Any, course: str | None, **options: Any) -> None:
        courses = self._courses(course)
        checked = drifted = 0
        # A list, not an iterator: each recount commits while the loop runs.
        for pk, slug in list(courses.values_list("pk", "slug")):
            count = enrollment_progress_recount(course_id=pk)
            checked += 1
            drifted += count
            self.stdout.write(f"{slug}: {count} enrolment(s) repaired")
        style = self.style.WARNING if drifted else self.style.SUCCESS
        self.stdout.write(
            style(f"{checked} course(s) recounted; {drifted} enrolment(s) had drifted.")
        )

    def _courses(self, slug: str | None) -> QuerySet[Course]:
        if slug is None:
            return Course.objects.filter(
                Exists(Enrollment.objects.filter(course=OuterRef("pk")))
            ).order_by("slug")
        courses = Course.objects.filter(slug=slug.lower())
        if not courses.exists():
            raise CommandError(f"No course with the slug {slug!r}.")
        return courses
