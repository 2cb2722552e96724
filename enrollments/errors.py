from lms.exceptions import ApplicationError


class PaymentRequired(ApplicationError):
    status_code = 402
    default_code = "payment_required"
    default_message = "This course is paid: buy it through checkout."


class CourseArchived(ApplicationError):
    status_code = 409
    default_code = "course_archived"
    default_message = "This course is archived and no longer takes enrolments."


class CourseNotPublished(ApplicationError):
    status_code = 404
    default_code = "course_not_found"
    default_message = "Not found."


class EnrollmentClosed(ApplicationError):
    status_code = 409
    default_code = "enrollment_closed"
    default_message = "Enrolment for this course is closed."


class CourseFull(ApplicationError):
    status_code = 409
    default_code = "course_full"
    default_message = "Every seat in this course is taken."


class EnrollmentNotActive(ApplicationError):
    status_code = 409
    default_code = "enrollment_not_active"
    default_message = "This enrolment was refunded and cannot change."


class CompletedByAssessment(ApplicationError):
    status_code = 409
    default_code = "completed_by_assessment"
    default_message = "This lesson completes when its quiz is passed or its work is graded."
