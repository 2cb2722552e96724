"""The benchmark's scenarios and their design targets (issue 11). Plain Python: the runner
imports it without Django.

A scenario's requests are prepared by `bench/prepare.py` (a function per scenario name). A
scenario whose app is not built yet is listed with `available=False`: the table prints it as
"not available yet" instead of a number. To plug one in, add its `prepare_<name>` function to
prepare.py and flip `available`.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    # Design targets (read from the table, never asserted): requests/s as a share of the
    # floor's, and the most SQL queries one request may make.
    min_floor_ratio: float | None = None
    max_queries: int | None = None
    # Read scenarios run again on the 10x smaller data set (the growth run).
    growth: bool = False
    # A unique query parameter on every request, so cached responses are never reused.
    nonce: bool = False
    # Every prepared request is sent once (writes that must not repeat, e.g. a new enrolment).
    once: bool = False
    available: bool = True


FLOOR = Scenario("floor", "floor: GET /bench/floor (middleware only)")

SCENARIOS = [
    FLOOR,
    Scenario("catalog", "catalog page, anonymous (cached)", 0.75, 3, growth=True),
    Scenario(
        "catalog_uncached", "catalog page, anonymous (uncached)", 0.40, 3, growth=True, nonce=True
    ),
    Scenario("search", "catalog search (uncached)", 0.40, 3, growth=True, nonce=True),
    Scenario("outline_anonymous", "course outline, anonymous (cached)", 0.75, 4, growth=True),
    Scenario("outline_enrolled", "course outline, enrolled", 0.40, 4, growth=True),
    Scenario("lesson", "lesson detail, enrolled", 0.40, None, growth=True),
    Scenario("my_enrollments", "my enrolments", 0.35, 4, growth=True),
    Scenario("lesson_complete", "lesson complete (POST)", 0.20, 8, once=True),
    Scenario("enroll", "enrol in a free course (POST, new user)", 0.20, None, once=True),
    Scenario("quiz_submit", "quiz submit (POST)", 0.20, None, once=True, available=False),
    Scenario("certificate_render", "certificate render rate (PDFs/s, one worker)", available=False),
]

# Reported on its own: bound by the Argon2 password hash by design.
LOGIN = Scenario("login", "token login (POST auth/token/)")

# The load soak mixes these (reads and writes).
SOAK_MIX = [
    "catalog",
    "catalog_uncached",
    "outline_enrolled",
    "lesson",
    "my_enrollments",
    "lesson_complete",
    "enroll",
]

BY_NAME = {scenario.name: scenario for scenario in [*SCENARIOS, LOGIN]}
