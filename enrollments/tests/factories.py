import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import UserFactory
from courses.tests.factories import CourseFactory
from enrollments.models import Enrollment, LessonProgress


class EnrollmentFactory(DjangoModelFactory):
    """An active free enrolment. Prefer services.enrollment_create where seats matter."""

    class Meta:
        model = Enrollment

    user = factory.SubFactory(UserFactory)
    course = factory.SubFactory(CourseFactory, published=True)
    source = Enrollment.Source.FREE

    class Params:
        cancelled = factory.Trait(
            status=Enrollment.Status.CANCELLED, cancelled_at=factory.LazyFunction(timezone.now)
        )
        completed = factory.Trait(
            status=Enrollment.Status.COMPLETED, completed_at=factory.LazyFunction(timezone.now)
        )


class LessonProgressFactory(DjangoModelFactory):
    class Meta:
        model = LessonProgress

    enrollment = factory.SubFactory(EnrollmentFactory)
    completed_at = factory.LazyFunction(timezone.now)
