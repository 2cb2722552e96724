"""The benchmark data set (`manage.py seed_scale`): its accounts, and the bulk-loading tools
every app's `<app>/scale.py` uses.

An app's scale module has `seed(*, options, stdout, rng)` and may have
`add_arguments(parser)` for its own options (counts declared with `add_count_argument` are
multiplied by `--scale`). Modules run in INSTALLED_APPS order inside one transaction, each
reading what earlier apps wrote from the database; each gets its own random generator seeded
from `--seed` and its name, so adding an app never changes the data of the others.

Rows are written with PostgreSQL COPY (batched INSERTs on other databases), so the model
layer is bypassed: each module must leave exactly the rows the services would have written
(counters, statuses, derived fields), recounting them with set-based SQL where that is simpler.
"""

import random
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import CommandError, CommandParser, OutputWrapper
from django.db import connection, models

from accounts.models import User

SCALE_PASSWORD = "scale-pass-2026"  # noqa: S105  (benchmark accounts only, documented)
EMAIL_DOMAIN = "scale.example.com"
INSERT_BATCH = 2000

# Options (argparse dests) that --scale multiplies; filled by add_count_argument.
COUNT_OPTIONS: set[str] = set()


def add_count_argument(parser: CommandParser, flag: str, *, default: int, help: str) -> None:
    """An option counting rows of the data set: multiplied by --scale (and --small)."""
    action = parser.add_argument(
        flag, type=int, default=default, metavar="N", help=f"{help} (default {default:,})"
    )
    COUNT_OPTIONS.add(action.dest)


def new_uuid(rng: random.Random) -> uuid.UUID:
    """A version-4 UUID drawn from `rng`, so the same --seed gives the same ids."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def random_time(rng: random.Random, start: datetime, end: datetime) -> datetime:
    span = max((end - start).total_seconds(), 1.0)
    return start + timedelta(seconds=rng.uniform(0, span))


def student_email(number: int) -> str:
    return f"student{number:06d}@{EMAIL_DOMAIN}"


def instructor_email(number: int) -> str:
    return f"instructor{number:05d}@{EMAIL_DOMAIN}"


ADMIN_EMAIL = f"admin@{EMAIL_DOMAIN}"


class Progress:
    """Periodic counts with the elapsed time while rows are written."""

    def __init__(self, stdout: OutputWrapper, label: str, total: int) -> None:
        self.stdout, self.label, self.total = stdout, label, total
        self.started = time.monotonic()
        self.every = max(total // 10, 1000)
        self.next_report = self.every

    def update(self, done: int) -> None:
        if done >= self.next_report and done < self.total:
            self.next_report += self.every
            self._write(done)

    def finish(self, done: int) -> None:
        self._write(done)

    def _write(self, done: int) -> None:
        elapsed = time.monotonic() - self.started
        self.stdout.write(f"  {self.label}: {done:,} / {self.total:,} rows ({elapsed:.1f} s)")


def _columns(
    model: type[models.Model], fields: Sequence[str]
) -> tuple[list[models.Field], list[models.Field], list[Any]]:
    """The given fields, plus every other column filled with its (constant) default."""
    given = [model._meta.get_field(name) for name in fields]  # concrete fields only
    names = {field.name for field in given}
    others, defaults = [], []
    for field in model._meta.local_concrete_fields:
        if field.name in names or isinstance(field, models.AutoField):
            continue
        if field.has_default():
            value = field.get_default()
        elif field.null:
            value = None
        elif field.blank and field.empty_strings_allowed:
            value = ""  # e.g. an optional file field
        else:
            raise CommandError(
                f"seed_scale: {model._meta.label}.{field.name} has no default; the app's "
                "scale module must provide it."
            )
        others.append(field)
        defaults.append(value)
    return given, others, defaults  # type: ignore[return-value]


def bulk_insert(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[tuple[Any, ...]],
    *,
    total: int,
    stdout: OutputWrapper,
) -> int:
    """Write `rows` (tuples in the order of `fields`) into `model`'s table; return the count.

    COPY on PostgreSQL (row triggers still fire, e.g. the search vector), batched INSERTs
    elsewhere. Values must already be database-ready Python values (UUID, aware datetime,
    int, str, bool, None; dicts for JSON). Columns not named get their field default.
    """
    given, others, defaults = _columns(model, fields)
    columns = [field.column for field in (*given, *others)]
    progress = Progress(stdout, str(model._meta.verbose_name_plural).capitalize(), total)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    column_list = ", ".join(quote(column) for column in columns)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            json_positions = [
                index
                for index, field in enumerate((*given, *others))
                if isinstance(field, models.JSONField)
            ]
            from psycopg.types.json import Jsonb

            tail = tuple(defaults)
            with cursor.cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    values = row + tail
                    if json_positions:
                        values = tuple(
                            Jsonb(value) if index in json_positions else value
                            for index, value in enumerate(values)
                        )
                    copy.write_row(values)
                    count += 1
                    progress.update(count)
        else:
            all_fields = (*given, *others)
            placeholders = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})"  # noqa: S608
            batch: list[list[Any]] = []
            for row in rows:
                values = (*row, *defaults)
                batch.append(
                    [
                        field.get_db_prep_save(value, connection)
                        for field, value in zip(all_fields, values, strict=True)
                    ]
                )
                count += 1
                if len(batch) >= INSERT_BATCH:
                    cursor.executemany(sql, batch)
                    batch.clear()
                    progress.update(count)
            if batch:
                cursor.executemany(sql, batch)
    progress.finish(count)
    return count


# --- The accounts part of the data set ----------------------------------------------------


def add_arguments(parser: CommandParser) -> None:
    add_count_argument(parser, "--students", default=20_000, help="student accounts")
    add_count_argument(
        parser, "--instructors", default=200, help="instructor accounts (course owners)"
    )


def seed(*, options: dict[str, Any], stdout: OutputWrapper, rng: random.Random) -> None:
    """Students, instructors and one admin, all verified, sharing one password hash.

    Hashing once keeps seeding fast: every account signs in with SCALE_PASSWORD.
    """
    if User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").exists():
        raise CommandError(
            "The scale data set is already loaded here; seed a fresh database "
            "(the benchmark creates its own)."
        )
    now: datetime = options["now"]
    password = make_password(SCALE_PASSWORD)
    students, instructors = options["students"], max(options["instructors"], 1)
    fields = (
        "id", "password", "email", "full_name", "role", "is_staff", "is_superuser",
        "email_verified_at", "created_at", "updated_at",
    )  # fmt: skip

    def rows() -> Iterable[tuple[Any, ...]]:
        start = now - timedelta(days=730)
        yield (new_uuid(rng), password, ADMIN_EMAIL, "Scale Admin", User.Role.ADMIN,
               True, True, start, start, start)  # fmt: skip
        for number in range(instructors):
            joined = random_time(rng, start, now - timedelta(days=400))
            yield (new_uuid(rng), password, instructor_email(number),
                   f"Instructor {number:05d}", User.Role.INSTRUCTOR, True, False,
                   joined, joined, joined)  # fmt: skip
        for number in range(students):
            joined = random_time(rng, start, now - timedelta(days=1))
            yield (new_uuid(rng), password, student_email(number), f"Student {number:06d}",
                   User.Role.STUDENT, False, False, joined, joined, joined)  # fmt: skip

    bulk_insert(User, fields, rows(), total=1 + instructors + students, stdout=stdout)
