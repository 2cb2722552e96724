from datetime import datetime

from lms.exceptions import ApplicationError


class EmailAlreadyRegistered(ApplicationError):
    default_code = "email_taken"
    default_message = "An account with this email already exists."

    def __init__(self) -> None:
        super().__init__(fields={"email": [self.default_message]})


class InvalidCredentials(ApplicationError):
    status_code = 401
    default_code = "invalid_credentials"
    default_message = "No active account found with the given email and password."


class WrongPassword(ApplicationError):
    default_code = "wrong_password"
    default_message = "The current password is not correct."

    def __init__(self, field: str = "current_password") -> None:
        super().__init__(fields={field: [self.default_message]})


class InvalidRefreshToken(ApplicationError):
    default_code = "token_not_valid"
    default_message = "The refresh token is invalid, expired or not yours."

    def __init__(self) -> None:
        super().__init__(fields={"refresh": [self.default_message]})


class EmailNotVerified(ApplicationError):
    status_code = 403
    default_code = "email_not_verified"
    default_message = "Verify your email address first."


class AccountLocked(ApplicationError):
    status_code = 403
    default_code = "account_locked"

    def __init__(self, *, locked_until: datetime) -> None:
        self.locked_until = locked_until
        super().__init__(
            "Too many failed sign-in attempts. Try again after "
            f"{locked_until.strftime('%Y-%m-%d %H:%M UTC')}.",
            fields={"locked_until": [locked_until.isoformat().replace("+00:00", "Z")]},
        )


class InvalidAccountToken(ApplicationError):
    default_code = "invalid_token"
    default_message = "This link or code is invalid, used or expired."

    def __init__(self, field: str = "token") -> None:
        super().__init__(fields={field: [self.default_message]})


class InvalidMfaCode(ApplicationError):
    default_code = "invalid_mfa_code"
    default_message = "The authentication code is not correct."

    def __init__(self) -> None:
        super().__init__(fields={"code": [self.default_message]})


class MfaThrottled(ApplicationError):
    status_code = 429
    default_code = "mfa_throttled"
    default_message = "Too many wrong codes in a row: wait a moment before the next one."


class MfaAlreadyEnabled(ApplicationError):
    status_code = 409
    default_code = "mfa_already_enabled"
    default_message = "Two-factor authentication is already on. Turn it off first."


class MfaNotEnabled(ApplicationError):
    status_code = 409
    default_code = "mfa_not_enabled"
    default_message = "Two-factor authentication is not on for this account."


class MfaEnrollmentNotStarted(ApplicationError):
    status_code = 409
    default_code = "mfa_enrollment_not_started"
    default_message = "Start the set-up first: POST /api/v1/me/mfa/totp/."
