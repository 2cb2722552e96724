"""The enrollments part of the benchmark data set (`manage.py seed_scale`): enrolments of the
scale students in published and archived scale courses, and their lesson completions.

Popular courses get more learners (a long-tail weighting); learners complete lessons in
reading order. Each enrolment's `completed_required_lessons` / `progress_percent` is written
as the services keep it (and checked against the rows with one aggregate query afterwards);
each course's `enrollment_count` (active and completed enrolments) is recounted from the rows
with one set-based UPDATE. An enrolment whose required lessons are all done is `completed`;
3 % are `cancelled`. Paid courses' enrolments have the source `purchase` (payments' scale
module adds a paid order for each of them).
"""

import itertools
import random
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import CommandError, CommandParser, OutputWrapper
from django.db import connection
from django.db.models import Count, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.models import User
from accounts.scale import EMAIL_DOMAIN, add_count_argument, bulk_insert, new_uuid, random_time
from courses.models import Course, Lesson
from courses.scale import SLUG_PREFIX
from enrollments.models import Enrollment, LessonProgress

CANCELLED_SHARE = 0.03
FULL_COMPLETION_SHARE = 0.12


def add_arguments(parser: CommandParser) -> None:
    add_count_argument(parser, "--enrollments", default=200_000, help="enrolments")
    add_count_argument(
        parser, "--completions", default=1_000_000, help="lesson completions (LessonProgress)"
    )


def seed(*, options: dict[str, Any], stdout: OutputWrapper, rng: random.Random) -> None:
    now: datetime = options["now"]
    students = list(
        User.objects.filter(role=User.Role.STUDENT, email__endswith=f"@{EMAIL_DOMAIN}")
        .order_by("email")
        .values_list("pk", flat=True)
    )
    courses = list(
        Course.objects.filter(
            slug__startswith=SLUG_PREFIX,
            status__in=[Course.Status.PUBLISHED, Course.Status.ARCHIVED],
        )
        .order_by("slug")
        .values_list("pk", "price_amount", "seat_capacity", "published_at")
    )
    lessons: dict[Any, list[tuple[Any, bool, Any, int]]] = {pk: [] for pk, *_ in courses}
    for course_id, *lesson in (
        Lesson.objects.filter(module__course__in=[pk for pk, *_ in courses])
        .order_by("module__course__slug", "module__position", "position")
        .values_list("module__course_id", "pk", "is_required", "kind", "duration_seconds")
    ):
        lessons[course_id].append(tuple(lesson))  # type: ignore[arg-type]
    pairs = _enrolment_pairs(options["enrollments"], students, courses, rng)
    completions = _completion_counts(
        options["completions"], [len(lessons[courses[course][0]]) for _, course in pairs], rng
    )

    enrollments: list[tuple[Any, ...]] = []
    progress: list[tuple[Any, Any, list[Any], list[datetime]]] = []
    for (student, course_index), done in zip(pairs, completions, strict=True):
        course_pk, price, _, published_at = courses[course_index]
        course_lessons = lessons[course_pk]
        year_ago = now - timedelta(days=365)
        enrolled_at = random_time(rng, max(published_at or year_ago, year_ago), now)
        gap = (now - enrolled_at).total_seconds() / (done + 1)
        times = [
            enrolled_at + timedelta(seconds=gap * (step + 1 - rng.random() / 2))
            for step in range(done)
        ]
        required_total = sum(1 for lesson in course_lessons if lesson[1])
        required_done = sum(1 for lesson in course_lessons[:done] if lesson[1])
        last_activity = times[-1] if times else None
        status = Enrollment.Status.ACTIVE
        completed_at = cancelled_at = None
        if rng.random() < CANCELLED_SHARE:
            status = Enrollment.Status.CANCELLED
            cancelled_at = random_time(rng, last_activity or enrolled_at, now)
        elif required_total and required_done == required_total:
            status, completed_at = Enrollment.Status.COMPLETED, last_activity
        pk = new_uuid(rng)
        enrollments.append(
            (
                pk, student, course_pk, status,
                Enrollment.Source.PURCHASE if price else Enrollment.Source.FREE,
                enrolled_at, completed_at, cancelled_at, last_activity,
                required_done, required_done * 100 // required_total if required_total else 0,
                enrolled_at, cancelled_at or last_activity or enrolled_at,
            )
        )  # fmt: skip
        progress.append((pk, course_pk, course_lessons[:done], times))

    bulk_insert(
        Enrollment,
        (
            "id",
            "user",
            "course",
            "status",
            "source",
            "enrolled_at",
            "completed_at",
            "cancelled_at",
            "last_accessed_at",
            "completed_required_lessons",
            "progress_percent",
            "created_at",
            "updated_at",
        ),
        enrollments,
        total=len(enrollments),
        stdout=stdout,
    )

    def progress_rows() -> Any:
        for enrollment_pk, _, done_lessons, times in progress:
            for (lesson_pk, _, kind, duration), completed_at in zip(
                done_lessons, times, strict=True
            ):
                yield (
                    new_uuid(rng), enrollment_pk, lesson_pk, completed_at,
                    duration if kind == Lesson.Kind.VIDEO else 0, rng.randint(60, 1800),
                    completed_at, completed_at,
                )  # fmt: skip

    bulk_insert(
        LessonProgress,
        (
            "id",
            "enrollment",
            "lesson",
            "completed_at",
            "position_seconds",
            "time_spent_seconds",
            "created_at",
            "updated_at",
        ),
        progress_rows(),
        total=sum(completions),
        stdout=stdout,
    )
    _recount(stdout)
    statuses = Counter(row[3] for row in enrollments)
    stdout.write(
        "  statuses: " + ", ".join(f"{name} {count:,}" for name, count in sorted(statuses.items()))
    )


def _enrolment_pairs(
    total: int, students: list[Any], courses: list[tuple[Any, ...]], rng: random.Random
) -> list[tuple[Any, int]]:
    """(student pk, course index) pairs, each pair once; popular courses weigh more."""
    if total and (not students or not courses):
        raise CommandError("Enrolments need scale students and published courses.")
    if total > len(students) * len(courses):
        raise CommandError(
            f"--enrollments {total:,} is more than students x enrollable courses "
            f"({len(students):,} x {len(courses):,})."
        )
    ranks = list(range(len(courses)))
    rng.shuffle(ranks)
    cumulative = list(itertools.accumulate(1 / (rank + 10) ** 0.9 for rank in ranks))
    capacity = {index: course[2] for index, course in enumerate(courses) if course[2]}
    taken: Counter[int] = Counter()
    per_student = Counter(rng.choices(range(len(students)), k=total))
    pairs: list[tuple[Any, int]] = []
    for student_index in sorted(per_student):
        chosen: set[int] = set()
        wanted = min(per_student[student_index], len(courses))
        attempts = 0
        while len(chosen) < wanted:
            attempts += 1
            if attempts < 20 * wanted:
                index = rng.choices(range(len(courses)), cum_weights=cumulative)[0]
            else:  # a very busy learner: any course left will do
                index = rng.choice([i for i in range(len(courses)) if i not in chosen])
            if index in chosen or taken[index] >= capacity.get(index, total + 1):
                continue
            chosen.add(index)
            taken[index] += 1
        pairs.extend((students[student_index], index) for index in sorted(chosen))
    # Busy learners capped by the number of courses leave a few pairs to place elsewhere.
    missing = total - len(pairs)
    existing = set(pairs)
    while missing > 0:
        pair = (rng.choice(students), rng.randrange(len(courses)))
        if pair not in existing and taken[pair[1]] < capacity.get(pair[1], total + 1):
            existing.add(pair)
            pairs.append(pair)
            taken[pair[1]] += 1
            missing -= 1
    return pairs


def _completion_counts(total: int, sizes: list[int], rng: random.Random) -> list[int]:
    """Lessons done per enrolment (in reading order), adding up to exactly `total`."""
    capacity = sum(sizes)
    if total > capacity:
        raise CommandError(
            f"--completions {total:,} is more than the enrolments' lessons ({capacity:,})."
        )
    if not sizes:
        return []
    mean = total / len(sizes)
    average_size = capacity / len(sizes)
    full_share = min(FULL_COMPLETION_SHARE, mean / average_size / 2)
    partial_mean = max((mean - full_share * average_size) / (1 - full_share), 0.01)
    counts = [
        size if rng.random() < full_share else min(size - 1, int(rng.expovariate(1 / partial_mean)))
        for size in sizes
    ]
    difference = total - sum(counts)
    step = 1 if difference > 0 else -1
    for _ in range(50 * abs(difference) + 1000):
        if not difference:
            break
        index = rng.randrange(len(counts))
        if 0 <= counts[index] + step <= sizes[index]:
            counts[index] += step
            difference -= step
    for index in range(len(counts)):  # what random probing left (only when nearly full/empty)
        while difference and 0 <= counts[index] + step <= sizes[index]:
            counts[index] += step
            difference -= step
    return counts


def _recount(stdout: OutputWrapper) -> None:
    """Set the courses' enrolment counters from the rows (one set-based UPDATE), then check
    that the stored progress written above is what the services' recount would give."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # fresh tables: give the planner statistics
            for model in (Enrollment, LessonProgress):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    seats = (
        Enrollment.objects.filter(course=OuterRef("pk"), status__in=Enrollment.HOLDS_SEAT)
        .order_by()
        .values("course")
        .annotate(count=Count("pk"))
        .values("count")
    )
    Course.objects.filter(slug__startswith=SLUG_PREFIX).update(
        enrollment_count=Coalesce(Subquery(seats), Value(0))
    )
    drifted = (
        Enrollment.objects.filter(course__slug__startswith=SLUG_PREFIX)
        .annotate(
            done=Count(
                "lesson_progress",
                filter=Q(
                    lesson_progress__completed_at__isnull=False,
                    lesson_progress__lesson__is_required=True,
                ),
            )
        )
        .exclude(completed_required_lessons=F("done"))
        .count()
    )
    if drifted:
        raise CommandError(f"seed_scale bug: {drifted} enrolments' stored progress drifted.")
    stdout.write("  course enrolment counts recounted; stored progress checked (no drift)")
