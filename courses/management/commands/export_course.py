from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from courses.models import Course
from courses.packages import course_export_package, package_dumps


class Command(BaseCommand):
    help = (
        "Write a course's content as a JSON package (see courses/packages.py) to stdout or a "
        "file. Files (cover image, attachments) are not included."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The course's slug, in any status.")
        parser.add_argument(
            "--output", "-o", metavar="FILE", help="Write to FILE instead of standard output."
        )

    def handle(self, *args: Any, slug: str, output: str | None, **options: Any) -> None:
        course = Course.objects.select_related("category").filter(slug=slug.lower()).first()
        if course is None:
            raise CommandError(f"No course with the slug {slug!r}.")
        text = package_dumps(course_export_package(course=course))
        if output is None:
            self.stdout.write(text, ending="")
            return
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror}.") from error
        self.stdout.write(self.style.SUCCESS(f"Exported {course.slug} to {output}."))
