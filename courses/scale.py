"""The courses part of the benchmark data set (`manage.py seed_scale`): categories, courses
(published, draft, archived; free and paid), co-instructors, modules and lessons.

Course slugs start with `scale-`; search vectors are filled by the database trigger, which
COPY fires like any insert. Enrolment counters start at 0 (the enrollments part sets them).
"""

import random
from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import CommandError, CommandParser, OutputWrapper
from django.utils.text import slugify

from accounts.models import User
from accounts.scale import (
    EMAIL_DOMAIN,
    add_count_argument,
    bulk_insert,
    new_uuid,
    random_time,
)
from courses.models import Category, Course, Lesson, Module

SLUG_PREFIX = "scale-"
TOPICS = [
    "Python", "Django", "SQL", "Statistics", "Machine Learning", "Web Design", "JavaScript",
    "Photography", "Marketing", "Accounting", "Spanish", "Guitar", "Drawing", "Leadership",
    "Cloud Computing", "Cybersecurity", "Data Visualisation", "Excel", "Project Management",
    "Public Speaking", "Nutrition", "Physics", "Chemistry", "Economics", "Creative Writing",
    "Linux", "Networking", "Rust", "Kubernetes", "User Research",
]  # fmt: skip
PREFIXES = ["Introduction to", "Practical", "Advanced", "Mastering", "Foundations of",
            "Applied", "Modern", "Essential"]  # fmt: skip
SUFFIXES = ["for Beginners", "in Practice", "from Scratch", "for Professionals", "Bootcamp",
            "Masterclass", "Step by Step", "for Analysts"]  # fmt: skip
WORDS = [
    "learn",
    "build",
    "project",
    "practice",
    "exercise",
    "example",
    "concept",
    "skill",
    "tool",
    "workflow",
    "theory",
    "case",
    "study",
    "team",
    "data",
    "model",
    "design",
    "test",
    "review",
    "deploy",
    "measure",
    "improve",
    "analyse",
    "write",
    "present",
    "plan",
    "solve",
    "debug",
    "automate",
    "visualise",
    "explain",
    "compare",
    "understand",
    "apply",
    "create",
]
PRICES = [1900, 2900, 4900, 9900, 14900]
VIDEO_URL = "https://videos.example.com/scale/{}.mp4"


def add_arguments(parser: CommandParser) -> None:
    add_count_argument(parser, "--courses", default=2000, help="courses in every status")
    add_count_argument(parser, "--published", default=1500, help="of which published")
    parser.add_argument("--modules", type=int, default=4, help="modules per course (default 4)")
    parser.add_argument("--lessons", type=int, default=5, help="lessons per module (default 5)")


def _sentence(rng: random.Random, topic: str) -> str:
    words = rng.sample(WORDS, 8)
    return f"You will {words[0]} and {words[1]} {topic.lower()} {' '.join(words[2:])}."


def _paragraphs(rng: random.Random, topic: str, count: int) -> str:
    return "\n\n".join(" ".join(_sentence(rng, topic) for _ in range(4)) for _ in range(count))


def seed(*, options: dict[str, Any], stdout: OutputWrapper, rng: random.Random) -> None:
    """Courses owned by the scale instructors, each with --modules x --lessons lessons.

    Of the non-published courses, two thirds are drafts and one third archived. 30 % are paid.
    In every course the first lesson is a preview, the last one a quiz lesson, and the one
    before it (in the last module) optional; the rest are required text and video lessons.
    """
    now: datetime = options["now"]
    total, published = options["courses"], options["published"]
    modules_per_course, lessons_per_module = options["modules"], options["lessons"]
    if published > total:
        raise CommandError("--published cannot exceed --courses.")
    if modules_per_course < 1 or lessons_per_module < 1:
        raise CommandError("--modules and --lessons must be at least 1.")
    instructors = list(
        User.objects.filter(role=User.Role.INSTRUCTOR, email__endswith=f"@{EMAIL_DOMAIN}")
        .order_by("email")
        .values_list("pk", flat=True)
    )
    if not instructors:
        raise CommandError("No scale instructors: the accounts part must run first.")

    categories = [(new_uuid(rng), topic) for topic in TOPICS[:12]]
    created = now - timedelta(days=800)
    bulk_insert(
        Category,
        ("id", "name", "slug", "created_at", "updated_at"),
        ((pk, name, f"{SLUG_PREFIX}{slugify(name)}", created, created) for pk, name in categories),
        total=len(categories),
        stdout=stdout,
    )

    statuses = [Course.Status.PUBLISHED] * published
    others = total - published
    statuses += [Course.Status.DRAFT] * (others - others // 3) + [Course.Status.ARCHIVED] * (
        others // 3
    )
    rng.shuffle(statuses)
    courses: list[tuple[Any, ...]] = []
    co_instructors: list[tuple[Any, Any]] = []
    for number, status in enumerate(statuses):
        topic = rng.choice(TOPICS)
        title = f"{rng.choice(PREFIXES)} {topic} {rng.choice(SUFFIXES)}"
        created_at = random_time(rng, now - timedelta(days=760), now - timedelta(days=30))
        published_at = (
            random_time(rng, created_at, now - timedelta(days=7))
            if status != Course.Status.DRAFT
            else None
        )
        paid = rng.random() < 0.3
        owner = rng.choice(instructors)
        pk = new_uuid(rng)
        courses.append(
            (
                pk,
                f"{SLUG_PREFIX}{number:05d}-{slugify(title)}"[:120],
                title,
                f"Learn {topic.lower()} with {rng.randint(3, 12)} hands-on projects",
                _paragraphs(rng, topic, 2),
                rng.choice(["en"] * 8 + ["es", "de"]),
                rng.choice(Course.Level.values),
                rng.choice(categories)[0] if rng.random() < 0.9 else None,
                rng.choice(PRICES) if paid else 0,
                rng.choice(["USD", "USD", "EUR"]),
                status,
                published_at,
                owner,
                10_000 if rng.random() < 0.02 else None,
                {"scale": True, "topic": topic},
                rng.random() < 0.9,
                created_at,
                published_at or created_at,
            )
        )
        if rng.random() < 0.1:
            co_instructor = rng.choice(instructors)
            if co_instructor != owner:
                co_instructors.append((pk, co_instructor))
    bulk_insert(
        Course,
        (
            "id",
            "slug",
            "title",
            "subtitle",
            "description",
            "language",
            "level",
            "category",
            "price_amount",
            "currency",
            "status",
            "published_at",
            "owner",
            "seat_capacity",
            "metadata",
            "certificate_enabled",
            "created_at",
            "updated_at",
        ),
        courses,
        total=len(courses),
        stdout=stdout,
    )
    bulk_insert(
        Course.co_instructors.through,
        ("course", "user"),
        co_instructors,
        total=len(co_instructors),
        stdout=stdout,
    )

    modules: list[tuple[Any, ...]] = []
    lessons: list[tuple[Any, ...]] = []
    bodies = [_paragraphs(rng, topic, 3) for topic in TOPICS]
    for course in courses:
        course_pk, created_at = course[0], course[16]
        for module_position in range(1, modules_per_course + 1):
            module_pk = new_uuid(rng)
            modules.append(
                (
                    module_pk,
                    course_pk,
                    f"Part {module_position}",
                    "",
                    module_position,
                    created_at,
                    created_at,
                )
            )
            last_module = module_position == modules_per_course
            for position in range(1, lessons_per_module + 1):
                first = module_position == 1 and position == 1
                quiz = last_module and position == lessons_per_module and not first
                optional = last_module and position == lessons_per_module - 1 and not first
                video = not quiz and rng.random() < 0.4
                lesson_pk = new_uuid(rng)
                kind = (
                    Lesson.Kind.QUIZ if quiz else Lesson.Kind.VIDEO if video else Lesson.Kind.TEXT
                )
                lessons.append(
                    (
                        lesson_pk,
                        module_pk,
                        "Check your understanding" if quiz
                        else "Further reading" if optional
                        else f"Lesson {module_position}.{position}",
                        kind,
                        rng.choice(bodies),
                        VIDEO_URL.format(lesson_pk.hex) if video else "",
                        rng.randint(120, 1800) if video else 0,
                        first,
                        not optional,
                        position,
                        created_at,
                        created_at,
                    )
                )  # fmt: skip
    bulk_insert(
        Module,
        ("id", "course", "title", "description", "position", "created_at", "updated_at"),
        modules,
        total=len(modules),
        stdout=stdout,
    )
    bulk_insert(
        Lesson,
        (
            "id",
            "module",
            "title",
            "kind",
            "body",
            "video_url",
            "duration_seconds",
            "is_preview",
            "is_required",
            "position",
            "created_at",
            "updated_at",
        ),
        lessons,
        total=len(lessons),
        stdout=stdout,
    )
