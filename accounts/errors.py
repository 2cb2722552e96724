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

    def __init__(self) -> None:
        super().__init__(fields={"current_password": [self.default_message]})


class InvalidRefreshToken(ApplicationError):
    default_code = "token_not_valid"
    default_message = "The refresh token is invalid, expired or not yours."

    def __init__(self) -> None:
        super().__init__(fields={"refresh": [self.default_message]})


class EmailNotVerified(ApplicationError):
    status_code = 403
    default_code = "email_not_verified"
    default_message = "Verify your email address first."
