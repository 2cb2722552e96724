from datetime import datetime

from lms.exceptions import ApplicationError


class WrongLessonKind(ApplicationError):
    default_code = "wrong_lesson_kind"
    default_message = "This lesson is not of the right kind."

    def __init__(self, *, expected: str) -> None:
        super().__init__(f"Only a lesson of kind '{expected}' can have this.")


class QuizExists(ApplicationError):
    status_code = 409
    default_code = "quiz_exists"
    default_message = "This lesson already has a quiz."


class AssignmentExists(ApplicationError):
    status_code = 409
    default_code = "assignment_exists"
    default_message = "This lesson already has an assignment."


class QuizNotAvailable(ApplicationError):
    status_code = 409
    default_code = "quiz_not_available"
    default_message = "This quiz is not open now."


class QuizHasNoQuestions(ApplicationError):
    status_code = 409
    default_code = "quiz_has_no_questions"
    default_message = "This quiz has no questions yet."


class MaxAttemptsReached(ApplicationError):
    status_code = 409
    default_code = "max_attempts_reached"
    default_message = "You have used every attempt of this quiz."


class AttemptInProgress(ApplicationError):
    status_code = 409
    default_code = "attempt_in_progress"
    default_message = "Finish the attempt you started first."

    def __init__(self, *, attempt_id: object) -> None:
        super().__init__(fields={"attempt": [str(attempt_id)]})


class AttemptExpired(ApplicationError):
    status_code = 409
    default_code = "attempt_expired"

    def __init__(self, *, deadline: datetime) -> None:
        super().__init__(
            f"The time for this attempt ran out at {deadline.isoformat()}; submit it to see "
            "the score of what was saved.",
            fields={"deadline": [deadline.isoformat()]},
        )


class AttemptClosed(ApplicationError):
    status_code = 409
    default_code = "attempt_closed"
    default_message = "This attempt is already submitted."


class NotYourAttempt(ApplicationError):
    status_code = 403
    default_code = "permission_denied"
    default_message = "Only the learner who started this attempt can change it."


class AssignmentPastDue(ApplicationError):
    status_code = 409
    default_code = "assignment_past_due"
    default_message = "The due date has passed and this assignment refuses late work."


class SubmissionGraded(ApplicationError):
    status_code = 409
    default_code = "submission_graded"
    default_message = "Your submission is graded and can no longer be changed."


class SubmissionEmpty(ApplicationError):
    default_code = "submission_empty"
    default_message = "Send a text, files, or both."

    def __init__(self) -> None:
        super().__init__(fields={"text": [self.default_message]})


class TooManyFiles(ApplicationError):
    default_code = "too_many_files"

    def __init__(self, *, limit: int) -> None:
        message = f"At most {limit} file(s) per submission." if limit else "Files are not accepted."
        super().__init__(message, fields={"files": [message]})


class PointsOutOfRange(ApplicationError):
    default_code = "points_out_of_range"

    def __init__(self, *, max_points: int) -> None:
        message = f"Points must be between 0 and {max_points}."
        super().__init__(message, fields={"points": [message]})
