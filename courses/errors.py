from datetime import datetime

from lms.exceptions import ApplicationError


class CourseNotPublishable(ApplicationError):
    default_code = "course_not_publishable"
    default_message = "The course is not ready to publish."


class CourseHasEnrollments(ApplicationError):
    status_code = 409
    default_code = "course_has_enrollments"
    default_message = "The course has enrolments and cannot be deleted; archive it instead."


class SlugTaken(ApplicationError):
    status_code = 409
    default_code = "slug_taken"
    default_message = "Another course already uses this slug."

    def __init__(self) -> None:
        super().__init__(fields={"slug": [self.default_message]})


class InvalidOrder(ApplicationError):
    default_code = "invalid_order"
    default_message = "The order must list every item of the parent exactly once."


class InvalidInstructor(ApplicationError):
    default_code = "invalid_instructor"
    default_message = "Co-instructors must be active instructors or admins."

    def __init__(self) -> None:
        super().__init__(fields={"co_instructors": [self.default_message]})


class LessonLocked(ApplicationError):
    status_code = 403
    default_code = "lesson_locked"

    def __init__(self, *, unlocks_at: datetime) -> None:
        super().__init__(
            f"This lesson opens at {unlocks_at.isoformat()}.",
            fields={"available_at": [unlocks_at.isoformat()]},
        )
        self.unlocks_at = unlocks_at


class NotEnrolled(ApplicationError):
    status_code = 403
    default_code = "not_enrolled"
    default_message = "Enrol in the course to open this lesson."


class PackageInvalid(ApplicationError):
    default_code = "package_invalid"
    default_message = "The course package is not valid."

    def __init__(self, fields: dict[str, list[str]]) -> None:
        """`fields` maps a JSON path such as `modules[0].lessons[2].kind` to its messages."""
        super().__init__(fields=fields)
