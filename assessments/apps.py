from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    """Quizzes, attempts, assignments, submissions and the gradebook."""

    name = "assessments"
    verbose_name = "Assessments"
