import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import UserFactory
from courses.models import Category, Course, Lesson, Module


class CategoryFactory(DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class CourseFactory(DjangoModelFactory):
    """A draft course; `published=True` / `archived=True` for the other states."""

    class Meta:
        model = Course
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"course-{n}")
    title = factory.Sequence(lambda n: f"Course {n}")
    subtitle = "A subtitle"
    description = "What the course teaches."
    owner = factory.SubFactory(UserFactory, instructor=True)
    price_amount = 0
    currency = "USD"

    class Params:
        published = factory.Trait(
            status=Course.Status.PUBLISHED, published_at=factory.LazyFunction(timezone.now)
        )
        archived = factory.Trait(
            status=Course.Status.ARCHIVED, published_at=factory.LazyFunction(timezone.now)
        )
        paid = factory.Trait(price_amount=4900)

    @factory.post_generation
    def co_instructors(self, create, extracted, **kwargs):
        if create and extracted:
            self.co_instructors.set(extracted)


class ModuleFactory(DjangoModelFactory):
    class Meta:
        model = Module

    course = factory.SubFactory(CourseFactory)
    title = factory.Sequence(lambda n: f"Module {n}")
    position = factory.Sequence(lambda n: n + 1)


class LessonFactory(DjangoModelFactory):
    class Meta:
        model = Lesson

    module = factory.SubFactory(ModuleFactory)
    title = factory.Sequence(lambda n: f"Lesson {n}")
    kind = Lesson.Kind.TEXT
    body = "The lesson text."
    duration_seconds = 300
    position = factory.Sequence(lambda n: n + 1)

    class Params:
        video = factory.Trait(kind=Lesson.Kind.VIDEO, video_url="https://video.example.com/1")
        preview = factory.Trait(is_preview=True)


def course_with_content(*, modules: int = 1, lessons_per_module: int = 1, **course_fields):
    """A course with numbered modules and lessons (positions 1..n within each parent)."""
    course = CourseFactory(**course_fields)
    for module_position in range(1, modules + 1):
        module = ModuleFactory(course=course, position=module_position)
        for lesson_position in range(1, lessons_per_module + 1):
            LessonFactory(module=module, position=lesson_position)
    return course
