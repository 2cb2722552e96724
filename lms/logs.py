"""Log records that say which request or task they belong to, as JSON lines or plain text.

The request id middleware (lms/observability.py) and the Celery task signals (lms/celery.py)
put the current request, its id and the running task into context variables; ContextFilter
copies them onto every record (request_id, user_id, path, task_id, task_name). Both
formatters redact secrets (lms/redaction.py) from the message, the extra fields and the
traceback, so a password or token logged by mistake still never reaches the output.
"""

import json
import logging
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from django.utils.functional import empty
from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

from lms.redaction import redact_text, redact_value

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
request_var: ContextVar[Any] = ContextVar("request", default=None)
task_var: ContextVar[tuple[str, str] | None] = ContextVar("task", default=None)

CONTEXT_FIELDS = ("request_id", "user_id", "path", "task_id", "task_name")


def _user_id(request: Any) -> str | None:
    """The signed-in user's id, if authentication already ran (never triggers a query)."""
    user = request.__dict__.get("user")
    wrapped = getattr(user, "_wrapped", user)  # a SimpleLazyObject only if already loaded
    if wrapped is None or wrapped is empty:
        return None
    if getattr(wrapped, "is_authenticated", False):
        return str(wrapped.pk)
    return None


class ContextFilter(logging.Filter):
    """Adds the request and task context to every record passing through a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = request_var.get()
        task = task_var.get()
        context: dict[str, Any] = {
            "request_id": request_id_var.get(),
            "user_id": _user_id(request) if request is not None else None,
            "path": request.path if request is not None else None,
            "task_id": task[0] if task else None,
            "task_name": task[1] if task else None,
        }
        for name, value in context.items():
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        return True


class JsonFormatter(BaseJsonFormatter):
    """One JSON object per line: timestamp, level, logger, message, context and extra fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "{levelname}{name}{message}")
        kwargs.setdefault("style", "{")
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", True)
        kwargs.setdefault("json_default", str)
        kwargs.setdefault("json_ensure_ascii", False)
        # Django's request logger attaches the request object; its repr adds nothing useful.
        kwargs.setdefault(
            "reserved_attrs",
            [*logging.LogRecord("", 0, "", 0, "", None, None).__dict__, "message", "request"],
        )
        super().__init__(*args, **kwargs)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        for name in CONTEXT_FIELDS:
            if log_data.get(name) is None:
                log_data.pop(name, None)
        if isinstance(log_data.get("timestamp"), datetime):
            log_data["timestamp"] = log_data["timestamp"].isoformat(timespec="milliseconds")
        # Whatever an extra field holds, it goes through the same redaction as the message.
        return redact_value(json.loads(json.dumps(log_data, default=str)))


class PlainFormatter(logging.Formatter):
    """Development logs: `time level logger [request id] message`, secrets redacted."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        super().__init__(*args, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        record = logging.makeLogRecord(record.__dict__)  # other handlers see the original
        record.request_id = getattr(record, "request_id", None) or "-"
        return redact_text(super().format(record))
