import contextlib
import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError, transaction

from accounts.models import User, normalize_email
from courses.models import Course
from enrollments.models import Enrollment
from enrollments.services import enrollment_create
from lms.exceptions import ApplicationError

REQUIRED_COLUMNS = ("email", "full_name")
OPTIONAL_COLUMNS = ("course", "role")
IMPORTABLE_ROLES = (User.Role.STUDENT, User.Role.INSTRUCTOR)
PROGRESS_EVERY = 500


@dataclass
class Summary:
    rows: int = 0
    users_created: int = 0
    enrolled: int = 0
    already_enrolled: int = 0
    failed: int = 0


def _error_text(error: ApplicationError | ValidationError | IntegrityError) -> str:
    if isinstance(error, ApplicationError):
        return f"{error.code}: {error.message}"
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            problems = [
                f"{field}: {message}"
                for field, messages in error.message_dict.items()
                for message in messages
            ]
            return f"invalid: {' '.join(problems)}"
        return f"invalid: {' '.join(error.messages)}"
    # Another process created the same account between the lookup and the insert.
    return "conflict: the account was created meanwhile; run the import again."


class Command(BaseCommand):
    help = (
        "Create learner accounts from a CSV file (columns email, full_name, and optionally "
        "course (a slug) and role (student or instructor)) and enrol them through the "
        "enrolment service. Existing accounts are matched by email, in any case; new ones get "
        "no password (they set one with a password reset). Each row is saved on its own: bad "
        "rows are reported on stderr with their line number and the others are imported. "
        "Exits with an error when any row failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The CSV file (UTF-8, with a header row).")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=(
                "Check every row as if importing, then roll everything back. Runs in one "
                "transaction, so the courses it enrols in stay locked until it ends."
            ),
        )

    def handle(self, *args: Any, file: str, dry_run: bool, **options: Any) -> None:
        summary = Summary()
        courses: dict[str, Course | None] = {}
        try:
            with Path(file).open(encoding="utf-8-sig", newline="") as handle:
                reader = csv.DictReader(handle)
                reader.fieldnames = self._columns(file, reader.fieldnames)
                # A dry run is one transaction rolled back at the end, so that its rows see
                # each other (seats taken, accounts created) as a real import would.
                with transaction.atomic() if dry_run else contextlib.nullcontext():
                    for row in reader:
                        self._import_row(
                            row, line=reader.line_num, summary=summary, courses=courses
                        )
                        if summary.rows % PROGRESS_EVERY == 0:
                            self.stdout.write(f"... {summary.rows} rows")
                    if dry_run:
                        transaction.set_rollback(True)
        except FileNotFoundError:
            raise CommandError(f"No such file: {file}") from None
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {file}: {error}") from error
        except csv.Error as error:
            raise CommandError(f"{file} is not valid CSV: {error}") from error

        self._report(summary, dry_run=dry_run)
        if summary.failed:
            raise CommandError(
                f"{summary.failed} row(s) failed"
                + ("." if dry_run else "; the other rows were imported.")
            )

    def _columns(self, file: str, header: Sequence[str] | None) -> list[str]:
        if not header:
            raise CommandError(f"{file} is empty: expected a header row.")
        columns = [name.strip().lower() for name in header]
        missing = [name for name in REQUIRED_COLUMNS if name not in columns]
        if missing:
            raise CommandError(f"{file} has no column(s): {', '.join(missing)}.")
        unknown = [name for name in columns if name not in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)]
        if unknown:
            # Most likely a typo ("coarse"), which would otherwise silently enrol nobody.
            raise CommandError(
                f"{file} has unknown column(s): {', '.join(unknown)}. Allowed: "
                f"{', '.join((*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS))}."
            )
        return columns

    def _import_row(
        self,
        row: dict[str | None, Any],
        *,
        line: int,
        summary: Summary,
        courses: dict[str, Course | None],
    ) -> None:
        summary.rows += 1
        email = (row.get("email") or "").strip()
        try:
            # One transaction per row: a row that fails leaves nothing behind, not even its
            # new account.
            with transaction.atomic():
                user_created, enrolled = self._import(row, email=email, courses=courses)
        except (ApplicationError, ValidationError, IntegrityError) as error:
            summary.failed += 1
            self.stderr.write(f"line {line}: {email or '(no email)'}: {_error_text(error)}")
            return
        summary.users_created += user_created
        if enrolled is not None:
            summary.enrolled += enrolled
            summary.already_enrolled += not enrolled

    def _import(
        self, row: dict[str | None, Any], *, email: str, courses: dict[str, Course | None]
    ) -> tuple[bool, bool | None]:
        """Find or create the account, then enrol it: (account created, new enrolment or None)."""
        if any(str(cell).strip() for cell in row.get(None) or []):
            raise ApplicationError("The row has more cells than the header.", code="invalid")
        if not email:
            raise ApplicationError("The email is empty.", code="invalid")
        role = (row.get("role") or "").strip().lower() or User.Role.STUDENT
        if role not in IMPORTABLE_ROLES:
            raise ApplicationError(
                f"The role must be student or instructor, not {role!r}.", code="invalid_role"
            )
        slug = (row.get("course") or "").strip().lower()
        course = self._course(slug, courses) if slug else None

        user = User.objects.filter(email=normalize_email(email)).first()
        user_created = user is None
        if user is None:
            full_name = (row.get("full_name") or "").strip()
            # No accounts service creates an account without a password (user_register needs
            # one); the manager validates the email and name and stores an unusable password.
            user = User.objects.create_user(email, None, full_name=full_name, role=role)
        if course is None:
            return user_created, None
        if not user.is_active:
            raise ApplicationError("The account is deactivated.", code="user_inactive")
        _, created = enrollment_create(user=user, course=course, source=Enrollment.Source.IMPORT)
        return user_created, created

    def _course(self, slug: str, courses: dict[str, Course | None]) -> Course:
        if slug not in courses:
            courses[slug] = Course.objects.filter(slug=slug).first()
        course = courses[slug]
        if course is None:
            raise ApplicationError(f"No course with the slug {slug!r}.", code="course_not_found")
        return course

    def _report(self, summary: Summary, *, dry_run: bool) -> None:
        text = (
            f"{summary.rows} row(s): {summary.users_created} account(s) created, "
            f"{summary.enrolled} enrolled, {summary.already_enrolled} already enrolled, "
            f"{summary.failed} failed."
        )
        if dry_run:
            text = f"Dry run, nothing saved. {text}"
        style = self.style.WARNING if summary.failed else self.style.SUCCESS
        self.stdout.write(style(text))
