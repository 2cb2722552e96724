from lms.exceptions import ApplicationError


class WebhookUrlRefused(ApplicationError):
    status_code = 400
    default_code = "webhook_url_refused"
    default_message = "This URL cannot receive webhooks."

    def __init__(self, message: str) -> None:
        super().__init__(message, fields={"url": [message]})
