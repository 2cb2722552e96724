from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    """Quizzes, attempts, assignments, submissions and the gradebook."""

    name = "assessments"
    verbose_name = "Assessments"

    def ready(self) -> None:
        from assessments import packages
        from assessments import views as pages
        from assessments.selectors import course_quiz_averages, enrollment_assessments_passed
        from courses.models import Lesson
        from courses.views import register_lesson_kind_context
        from enrollments import hooks

        # A course completes only when its required quizzes are passed and its required
        # assignments graded passing; the analytics show quiz averages; course packages
        # carry quizzes and assignments.
        hooks.register_completion_requirement(enrollment_assessments_passed)
        hooks.register_analytics_section("quizzes", course_quiz_averages)
        packages.register()
        # The lesson player shows a quiz lesson's quiz and an assignment lesson's assignment.
        register_lesson_kind_context(Lesson.Kind.QUIZ, pages.quiz_lesson_context)
        register_lesson_kind_context(Lesson.Kind.ASSIGNMENT, pages.assignment_lesson_context)
