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


class NotEnrolled(ApplicationError):
    status_code = 403
    default_code = "not_enrolled"
    default_message = "Enrol in the course to open this lesson."
