import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User, normalize_email
from courses.packages import course_import_package
from lms.exceptions import ApplicationError


class Command(BaseCommand):
    help = (
        "Create a draft course from a JSON package made by export_course. The owner must be an "
        "active instructor or admin. Nothing is created when the package has a problem."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The package file (JSON, UTF-8).")
        parser.add_argument(
            "--owner", required=True, metavar="EMAIL", help="Email of the new course's owner."
        )

    def handle(self, *args: Any, file: str, owner: str, **options: Any) -> None:
        user = self._owner(owner)
        package = self._read(file)
        try:
            course = course_import_package(package=package, owner=user)
        except ApplicationError as error:
            problems = [
                f"  {path}: {message}"
                for path, messages in error.fields.items()
                for message in messages
            ]
            raise CommandError("\n".join([f"{file}: {error.message}", *problems])) from error

        requested = package["course"]
        if requested.get("slug") and requested["slug"].lower() != course.slug:
            self.stderr.write(
                self.style.WARNING(
                    f"The slug {requested['slug']!r} is taken; imported as {course.slug!r}."
                )
            )
        if requested.get("category") and course.category_id is None:
            self.stderr.write(
                self.style.WARNING(
                    f"No category with the slug {requested['category']!r}; "
                    "the course has no category."
                )
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {course.slug} (id {course.pk}) as a draft owned by {user.email}."
            )
        )

    def _owner(self, email: str) -> User:
        user = User.objects.filter(email=normalize_email(email)).first()
        if user is None:
            raise CommandError(f"No user with the email {email!r}.")
        if not user.is_active or not (user.is_instructor or user.is_admin):
            raise CommandError(f"{user.email} is not an active instructor or admin.")
        return user

    def _read(self, file: str) -> Any:
        try:
            text = Path(file).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CommandError(f"No such file: {file}") from None
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {file}: {error}") from error
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise CommandError(
                f"{file} is not valid JSON: {error.msg} "
                f"(line {error.lineno}, column {error.colno})."
            ) from error
