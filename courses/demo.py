"""Demo categories and courses for `manage.py seed_demo`, owned by the demo instructor.

The courses are written as course packages (courses/packages.py) and created through the
import, then published through courses.services. A course whose slug already exists is left
as it is, so running seed_demo again creates nothing twice.
"""

from typing import Any

from django.core.management.base import OutputWrapper
from django.db import transaction

from accounts.models import User
from courses.models import Category, Course
from courses.packages import PACKAGE_FORMAT, PACKAGE_VERSION, course_import_package
from courses.services import category_create, course_publish

DEMO_INSTRUCTOR_EMAIL = "instructor@example.com"
DEMO_CATEGORIES = [("programming", "Programming"), ("data-analytics", "Data & Analytics")]
VIDEO_HOST = "https://videos.example.com"


def _text(title: str, body: str, *, minutes: int, **options: Any) -> dict[str, Any]:
    return {
        "title": title,
        "kind": "text",
        "body": body,
        "duration_seconds": minutes * 60,
        **options,
    }


def _video(title: str, path: str, body: str, *, minutes: int, **options: Any) -> dict[str, Any]:
    return {
        "title": title,
        "kind": "video",
        "video_url": f"{VIDEO_HOST}/{path}.mp4",
        "body": body,
        "duration_seconds": minutes * 60,
        **options,
    }


def _module(title: str, description: str, lessons: list[dict[str, Any]]) -> dict[str, Any]:
    return {"title": title, "description": description, "lessons": lessons}


def _package(modules: list[dict[str, Any]], **course: Any) -> dict[str, Any]:
    return {
        "format": PACKAGE_FORMAT,
        "version": PACKAGE_VERSION,
        "course": course,
        "modules": modules,
    }


PYTHON_FOR_BEGINNERS = _package(
    slug="python-for-beginners",
    title="Python for Beginners",
    subtitle="Write your first real programs in Python 3",
    description=(
        "A gentle, hands-on introduction to programming with Python. You install Python, "
        "learn how values, variables and collections work, and finish by writing small "
        "programs with conditions, loops and functions. No experience needed."
    ),
    level="beginner",
    category="programming",
    metadata={"outcomes": ["Run Python scripts", "Use lists and dictionaries", "Write functions"]},
    modules=[
        _module(
            "Getting started",
            "Install Python and run your first program.",
            [
                _text(
                    "Why Python?",
                    "Python reads almost like English, runs everywhere and is used for web "
                    "sites, data analysis, automation and teaching alike.\n\n"
                    "In this course you write small programs from the first lesson on. "
                    "Type the examples yourself rather than copying them: your fingers "
                    "learn as much as your eyes.",
                    minutes=4,
                ),
                _video(
                    "Installing Python and an editor",
                    "python-for-beginners/installing-python",
                    "Download Python 3 from python.org, tick *Add Python to PATH* on Windows, "
                    "then install a code editor such as VS Code.\n\n"
                    "Check the installation in a terminal:\n\n```sh\npython3 --version\n```",
                    minutes=9,
                ),
                _text(
                    "Your first program",
                    "Create a file `hello.py` containing:\n\n"
                    '```python\nname = input("What is your name? ")\n'
                    'print(f"Hello, {name}!")\n```\n\n'
                    "Run it with `python3 hello.py`. Change the greeting and run it again.",
                    minutes=6,
                ),
            ],
        ),
        _module(
            "Working with data",
            "Numbers, text and the collections that hold them.",
            [
                _video(
                    "Numbers, strings and variables",
                    "python-for-beginners/numbers-strings-variables",
                    "A variable is a name for a value. `price = 4.5` binds the name `price`; "
                    "`price * 2` computes `9.0`. Strings join with `+` and repeat with `*`.",
                    minutes=12,
                ),
                _text(
                    "Lists and dictionaries",
                    "A list keeps values in order, a dictionary maps keys to values:\n\n"
                    '```python\nfruit = ["apple", "pear"]\nfruit.append("plum")\n\n'
                    'stock = {"apple": 3, "pear": 0}\nstock["plum"] = 12\n```\n\n'
                    "Use a list when order matters, a dictionary when you look things up.",
                    minutes=10,
                ),
                _text(
                    "Exercise: a shopping list",
                    "Write a program that asks for items until the user types an empty line, "
                    "then prints the list sorted alphabetically with a count of each item.\n\n"
                    "Hint: `collections.Counter` does the counting for you.",
                    minutes=20,
                ),
            ],
        ),
        _module(
            "Control flow and functions",
            "Make decisions, repeat work and name it.",
            [
                _video(
                    "if, for and while",
                    "python-for-beginners/control-flow",
                    "`if` chooses, `for` walks through a collection, `while` repeats until a "
                    "condition turns false. Mind the indentation: it is the syntax.",
                    minutes=14,
                ),
                _text(
                    "Writing functions",
                    "A function packages steps under a name:\n\n"
                    "```python\ndef average(numbers):\n"
                    "    return sum(numbers) / len(numbers)\n```\n\n"
                    "Good functions do one thing, have a clear name and return their result "
                    "instead of printing it.",
                    minutes=11,
                ),
            ],
        ),
    ],
)

DJANGO_REST_APIS = _package(
    slug="django-rest-apis",
    title="Building REST APIs with Django",
    subtitle="Design, build and test a production-ready JSON API",
    description=(
        "Build a complete REST API with Django and Django REST Framework: resource design, "
        "serializers, authentication, permissions, pagination and tests. You should be "
        "comfortable with Python and have seen a Django project before."
    ),
    level="intermediate",
    category="programming",
    price_amount=4900,
    currency="USD",
    seat_capacity=200,
    metadata={"prerequisites": ["Python basics", "HTTP basics"]},
    modules=[
        _module(
            "Designing the API",
            "Resources, URLs, status codes and a consistent error format.",
            [
                _video(
                    "Resources and URLs",
                    "django-rest-apis/resources-and-urls",
                    "Name resources with plural nouns (`/courses/`, `/courses/{id}/`), keep "
                    "verbs in the HTTP method, and version the API in the URL (`/api/v1/`).",
                    minutes=15,
                ),
                _text(
                    "Status codes and errors",
                    "Answer `201` with the created resource, `204` for a delete, `400` for "
                    "invalid input and `409` for a conflict. Give every error the same shape:"
                    '\n\n```json\n{"code": "slug_taken", "message": "...", "fields": {}}\n```',
                    minutes=8,
                ),
            ],
        ),
        _module(
            "Building it",
            "Views, serializers and permissions on Django REST Framework.",
            [
                _video(
                    "Input and output serializers",
                    "django-rest-apis/serializers",
                    "One plain input serializer per write action validates the request; an "
                    "output serializer with explicit fields renders the response.",
                    minutes=18,
                ),
                _text(
                    "Permissions that read like rules",
                    "Small permission classes such as `IsCourseInstructor` compose with `&` "
                    "and `|`. Test every endpoint as anonymous, learner, instructor and admin.",
                    minutes=10,
                ),
                _video(
                    "Testing the API with pytest",
                    "django-rest-apis/testing",
                    "Use pytest-django, factory-boy factories and `APIClient`. Assert exact "
                    "status codes and bodies, and keep list endpoints at a constant number "
                    "of queries.",
                    minutes=21,
                    available_after_days=7,
                ),
            ],
        ),
    ],
)

SQL_FUNDAMENTALS = _package(
    slug="sql-fundamentals",
    title="SQL Fundamentals for Analysts",
    subtitle="Answer business questions straight from the database",
    description=(
        "Learn to query relational databases with SQL: filtering, sorting, joining and "
        "aggregating. The first module is open to everyone as a preview."
    ),
    level="beginner",
    category="data-analytics",
    price_amount=2900,
    currency="EUR",
    modules=[
        _module(
            "Your first queries",
            "SELECT, WHERE and ORDER BY (free preview).",
            [
                _video(
                    "What a relational database is",
                    "sql-fundamentals/relational-databases",
                    "Tables hold rows of the same shape; keys connect rows across tables.",
                    minutes=7,
                    is_preview=True,
                ),
                _text(
                    "SELECT and WHERE",
                    "```sql\nSELECT title, price\nFROM products\nWHERE price < 20\n"
                    "ORDER BY price DESC;\n```\n\n"
                    "`SELECT` picks the columns, `WHERE` the rows, `ORDER BY` the order.",
                    minutes=9,
                    is_preview=True,
                ),
            ],
        ),
        _module(
            "Combining and summarising",
            "Joins and aggregates.",
            [
                _video(
                    "Joining tables",
                    "sql-fundamentals/joins",
                    "`JOIN ... ON` combines matching rows; `LEFT JOIN` keeps the rows of the "
                    "left table that have no match.",
                    minutes=16,
                ),
                _text(
                    "GROUP BY and aggregates",
                    "```sql\nSELECT country, COUNT(*) AS customers\nFROM customers\n"
                    "GROUP BY country\nHAVING COUNT(*) > 10;\n```",
                    minutes=12,
                ),
            ],
        ),
    ],
)

MACHINE_LEARNING_FOUNDATIONS = _package(
    slug="machine-learning-foundations",
    title="Machine Learning Foundations",
    subtitle="From linear regression to model evaluation",
    description="Work in progress: the course outline is being written.",
    level="intermediate",
    category="data-analytics",
    modules=[
        _module(
            "What learning from data means",
            "Supervised learning, features and labels.",
            [
                _text(
                    "Course outline (draft)",
                    "1. Regression\n2. Classification\n3. Evaluating models\n4. Overfitting",
                    minutes=3,
                ),
            ],
        ),
    ],
)

# (package, publish?) in the order they are created.
DEMO_COURSES: list[tuple[dict[str, Any], bool]] = [
    (PYTHON_FOR_BEGINNERS, True),
    (DJANGO_REST_APIS, True),
    (SQL_FUNDAMENTALS, True),
    (MACHINE_LEARNING_FOUNDATIONS, False),
]


def seed(*, stdout: OutputWrapper) -> None:
    """Create the demo categories and courses that do not exist yet (matched by slug).

    Precondition: the demo instructor exists (seed_demo creates the accounts first).
    """
    owner = User.objects.get(email=DEMO_INSTRUCTOR_EMAIL)
    for slug, name in DEMO_CATEGORIES:
        if not Category.objects.filter(slug=slug).exists():
            category_create(name=name, slug=slug)
    for package, publish in DEMO_COURSES:
        slug = package["course"]["slug"]
        if Course.objects.filter(slug=slug).exists():
            stdout.write(f"course     {slug} (exists, left unchanged)")
            continue
        with transaction.atomic():
            course = course_import_package(package=package, owner=owner)
            if publish:
                course = course_publish(course=course)
        stdout.write(f"course     {course.slug} ({course.status})")
