from django.apps import AppConfig


class EnrollmentsConfig(AppConfig):
    """Enrollments, lesson progress, completion, analytics and roster."""

    name = "enrollments"
    verbose_name = "Enrollments"
