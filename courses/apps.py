from django.apps import AppConfig


class CoursesConfig(AppConfig):
    """Categories, courses, modules, lessons, catalog search and caching."""

    name = "courses"
    verbose_name = "Courses"
