import uuid

from django.apps import AppConfig


def _recount_course_progress(course_id: uuid.UUID) -> None:
    from enrollments.services import enrollment_progress_recount

    enrollment_progress_recount(course_id=course_id)


class EnrollmentsConfig(AppConfig):
    """Enrollments, lesson progress, completion, analytics and roster."""

    name = "enrollments"
    verbose_name = "Enrollments"

    def ready(self) -> None:
        from courses import hooks
        from enrollments.selectors import learner_state

        # The outline and lesson access ask who is enrolled; lesson changes move progress.
        hooks.register_learner_state_provider(learner_state)
        hooks.register_content_changed(_recount_course_progress)
