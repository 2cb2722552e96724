"""Write the requests of every scenario, from the data in the benchmark database.

    python -m bench.prepare --out DIR [--reads N] [--writes N] [--seed N]

Runs with the server's environment (DATABASE_URL etc.). For each scenario it writes
`DIR/<name>.lua` (for wrk) and `DIR/<name>.json` (for the query pass): requests as
[method, path, access token or null, JSON body or null]. The JSON file also has `probes`,
requests kept apart from wrk's for the query pass, so a write probe is never sent twice.
Access tokens are minted directly (no login), valid for JWT_ACCESS_TOKEN_MINUTES.
"""

import argparse
import json
import os
import random
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

Request = list[Any]  # [method, path, token or None, body or None]
PROBES = 6


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()


class Context:
    """What the scenarios draw from: a sample of learners, courses and lessons."""

    def __init__(self, rng: random.Random, reads: int, writes: int) -> None:
        from rest_framework_simplejwt.tokens import AccessToken

        from accounts.models import User
        from courses.models import Course, Lesson
        from enrollments.models import Enrollment

        self.rng, self.reads, self.writes = rng, reads, writes
        self._token_cache: dict[Any, str] = {}
        self._access_token = AccessToken
        self._users = User.objects.in_bulk
        self.published = list(
            Course.objects.filter(status=Course.Status.PUBLISHED)
            .order_by("slug")
            .values_list("pk", "price_amount", "seat_capacity", "enrollment_count")
        )
        self.lessons: dict[Any, list[Any]] = defaultdict(list)
        # Lessons a learner marks done by hand (quizzes and assignments complete by passing).
        self.completable: dict[Any, list[Any]] = defaultdict(list)
        for course_id, lesson_id, kind in Lesson.objects.order_by(
            "module__course_id", "module__position", "position"
        ).values_list("module__course_id", "pk", "kind"):
            self.lessons[course_id].append(lesson_id)
            if kind not in (Lesson.Kind.QUIZ, Lesson.Kind.ASSIGNMENT):
                self.completable[course_id].append(lesson_id)
        self.enrolled = list(
            Enrollment.objects.filter(status__in=Enrollment.HOLDS_SEAT)
            .order_by("pk")
            .values_list("pk", "user_id", "course_id")
        )
        self.students = list(
            User.objects.filter(role=User.Role.STUDENT, is_active=True)
            .order_by("email")
            .values_list("pk", "email")
        )
        self.courses_of: dict[Any, set[Any]] = defaultdict(set)
        for user_id, course_id in Enrollment.objects.values_list("user_id", "course_id"):
            self.courses_of[user_id].add(course_id)

    def token(self, user_id: Any) -> str:
        if user_id not in self._token_cache:
            user = self._users([user_id])[user_id]
            self._token_cache[user_id] = str(self._access_token.for_user(user))
        return self._token_cache[user_id]

    def tokens(self, user_ids: list[Any]) -> None:
        """Mint many tokens with one query."""
        missing = [pk for pk in user_ids if pk not in self._token_cache]
        for pk, user in self._users(missing).items():
            self._token_cache[pk] = str(self._access_token.for_user(user))

    def sample(self, items: list[Any], count: int) -> list[Any]:
        return self.rng.sample(items, min(count, len(items))) if items else []


def prepare_floor(ctx: Context) -> list[Request]:
    return [["GET", "/bench/floor", None, None]]


def prepare_catalog(ctx: Context) -> list[Request]:
    return [["GET", "/api/v1/courses/", None, None]]


def prepare_catalog_uncached(ctx: Context) -> list[Request]:
    pages = max(1, min(len(ctx.published) // 20, 50))
    return [
        ["GET", f"/api/v1/courses/?page={ctx.rng.randint(1, pages)}", None, None]
        for _ in range(ctx.reads)
    ]


# Topics of the scale courses (each in about 1 course of 30), as learners would search.
# Not the filler words of the generated descriptions, which nearly every course contains.
SEARCHES = [
    "python", "machine learning", "kubernetes", "guitar", '"public speaking"', "rust",
    "sql -django", "photography", "accounting", "cloud", "spanish", "statistics",
]  # fmt: skip


def prepare_search(ctx: Context) -> list[Request]:
    from urllib.parse import quote

    return [
        ["GET", f"/api/v1/courses/?search={quote(ctx.rng.choice(SEARCHES))}", None, None]
        for _ in range(ctx.reads)
    ]


def prepare_outline_anonymous(ctx: Context) -> list[Request]:
    courses = ctx.sample(ctx.published, 300)
    return [["GET", f"/api/v1/courses/{pk}/outline/", None, None] for pk, *_ in courses]


def _enrolled_sample(ctx: Context) -> list[Any]:
    sample = ctx.sample(ctx.enrolled, ctx.reads)
    ctx.tokens([user_id for _, user_id, _ in sample])
    return sample


def prepare_outline_enrolled(ctx: Context) -> list[Request]:
    return [
        ["GET", f"/api/v1/courses/{course_id}/outline/", ctx.token(user_id), None]
        for _, user_id, course_id in _enrolled_sample(ctx)
    ]


def prepare_lesson(ctx: Context) -> list[Request]:
    return [
        [
            "GET",
            f"/api/v1/lessons/{ctx.rng.choice(ctx.lessons[course_id])}/",
            ctx.token(user_id),
            None,
        ]
        for _, user_id, course_id in _enrolled_sample(ctx)
        if ctx.lessons[course_id]
    ]


def prepare_my_enrollments(ctx: Context) -> list[Request]:
    users = ctx.sample(sorted({user_id for _, user_id, _ in ctx.enrolled}), ctx.reads)
    ctx.tokens(users)
    return [["GET", "/api/v1/me/enrollments/", ctx.token(user_id), None] for user_id in users]


def prepare_lesson_complete(ctx: Context) -> list[Request]:
    """Lessons not completed yet by enrolled learners (not quizzes or assignments, which
    complete by passing), one learner after another."""
    from enrollments.models import LessonProgress

    sample = ctx.sample(ctx.enrolled, max(ctx.writes // 4, 50))
    done = set(
        LessonProgress.objects.filter(
            enrollment__in=[pk for pk, _, _ in sample], completed_at__isnull=False
        ).values_list("enrollment_id", "lesson_id")
    )
    ctx.tokens([user_id for _, user_id, _ in sample])
    queues = [
        [
            ["POST", f"/api/v1/lessons/{lesson}/complete/", ctx.token(user_id), None]
            for lesson in ctx.completable[course_id]
            if (pk, lesson) not in done
        ]
        for pk, user_id, course_id in sample
    ]
    return _interleave(queues)[: ctx.writes]


def prepare_enroll(ctx: Context) -> list[Request]:
    """Free published courses the learner is not enrolled in: a new user on each request
    while there are users left, then the same users in further courses."""
    free = [pk for pk, price, capacity, count in ctx.published if price == 0 and capacity is None]
    if not free:
        return []
    students = [pk for pk, _ in ctx.students]
    ctx.rng.shuffle(students)
    students = students[: ctx.writes]
    ctx.tokens(students)
    rounds = max(1, -(-ctx.writes // max(len(students), 1)))
    queues = []
    for user_id in students:
        enrolled = ctx.courses_of[user_id]
        candidates = [pk for pk in ctx.sample(free, rounds * 3) if pk not in enrolled]
        queues.append(
            [
                ["POST", f"/api/v1/courses/{course_id}/enroll/", ctx.token(user_id), None]
                for course_id in candidates[:rounds]
            ]
        )
    return _interleave(queues)[: ctx.writes]


def prepare_login(ctx: Context) -> list[Request]:
    from accounts.scale import SCALE_PASSWORD

    return [
        [
            "POST",
            "/api/v1/auth/token/",
            None,
            json.dumps({"email": email, "password": SCALE_PASSWORD}),
        ]
        for _, email in ctx.sample(ctx.students, ctx.reads)
    ]


def _interleave(queues: list[list[Request]]) -> list[Request]:
    """First item of every queue, then the second of every queue, ..."""
    result = []
    for depth in range(max((len(queue) for queue in queues), default=0)):
        result.extend(queue[depth] for queue in queues if depth < len(queue))
    return result


PREPARERS: dict[str, Callable[[Context], list[Request]]] = {
    name.removeprefix("prepare_"): function
    for name, function in globals().items()
    if name.startswith("prepare_") and callable(function)
}


def lua_string(value: str | None) -> str:
    if value is None:
        return "false"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def write(out: Path, name: str, requests: list[Request], *, nonce: bool, once: bool) -> None:
    """wrk gets all but the probes when every request may be sent only once."""
    probes = requests[-PROBES:] if once else requests[:PROBES]
    load = requests[:-PROBES] if once and len(requests) > PROBES else requests
    entries = ",\n".join(
        "{" + ", ".join(lua_string(part) for part in request) + "}" for request in load
    )
    nonce_flag = "true" if nonce else "false"
    (out / f"{name}.lua").write_text(
        f"return {{nonce = {nonce_flag}, requests = {{\n{entries}\n}}}}\n"
    )
    (out / f"{name}.json").write_text(
        json.dumps({"nonce": nonce, "requests": len(load), "probes": probes})
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--reads", type=int, default=2000, help="requests per read scenario")
    parser.add_argument("--writes", type=int, default=20000, help="requests per write scenario")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--only", nargs="*", help="scenario names (default: all available)")
    args = parser.parse_args()
    _setup_django()
    from bench.scenarios import BY_NAME

    args.out.mkdir(parents=True, exist_ok=True)
    ctx = Context(random.Random(args.seed), args.reads, args.writes)  # noqa: S311
    summary = {}
    for name, function in PREPARERS.items():
        if args.only and name not in args.only:
            continue
        scenario = BY_NAME[name]
        requests = function(ctx)
        write(args.out, name, requests, nonce=scenario.nonce, once=scenario.once)
        summary[name] = len(requests)
    print(json.dumps(summary))  # noqa: T201


if __name__ == "__main__":
    main()
