"""Blanking out passwords, tokens, secrets and card numbers before anything is logged or
reported (logs, Sentry events). Imports nothing from Django, so it is safe everywhere."""

import re
from typing import Any

REDACTED = "[REDACTED]"

_KEYWORDS = (
    r"passw|pwd|secret|token|api[-_]?key|authorization|cookie|sessionid|csrf|card|cvc|cvv"
    r"|signature|otp|backup[-_]?code|private[-_]?key|dsn|credential"
)
# A mapping key (a form field, a header, a JSON property) whose value is never shown.
SENSITIVE_KEY = re.compile(rf"(?i)({_KEYWORDS})")

_TEXT_PATTERNS = [
    # An Authorization header's whole value ("Basic ...", "Bearer ...").
    (
        re.compile(r"""(?i)((?:proxy-)?authorization["']?\s*[:=]\s*["']?)[^"'\n,;}]+"""),
        lambda match: match.group(1) + REDACTED,
    ),
    # key=value, key: value, "key": "value", 'key': 'value' (query strings, JSON, reprs).
    (
        re.compile(
            rf"""(?ix)
            (["']?[\w.-]*(?:{_KEYWORDS})[\w.-]*["']?\s*[:=]\s*)
            (?!\[REDACTED\])
            ("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,&;}}\]]+)
            """
        ),
        lambda match: match.group(1) + _quoted_like(match.group(2)),
    ),
    # Authorization header values.
    (
        re.compile(r"(?i)\b(bearer|basic|token|jwt)\s+[A-Za-z0-9\-._~+/]{6,}=*"),
        lambda match: f"{match.group(1)} {REDACTED}",
    ),
    # JSON Web Tokens anywhere.
    (
        re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
        lambda match: REDACTED,
    ),
    # Provider and webhook secrets (sk_live_..., whsec_...).
    (
        re.compile(r"\b(?:sk|rk|whsec)_[A-Za-z0-9_-]{8,}"),
        lambda match: REDACTED,
    ),
]
_CARD_NUMBER = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")


def _quoted_like(value: str) -> str:
    if value[:1] in ("'", '"'):
        return f"{value[0]}{REDACTED}{value[0]}"
    return REDACTED


def _luhn_valid(digits: str) -> bool:
    total = 0
    for index, character in enumerate(reversed(digits)):
        digit = int(character)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _card_number(match: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", match.group(0))
    return REDACTED if _luhn_valid(digits) else match.group(0)


def redact_text(text: str) -> str:
    """The text with secret values replaced by [REDACTED]."""
    for pattern, replacement in _TEXT_PATTERNS:
        text = pattern.sub(replacement, text)
    return _CARD_NUMBER.sub(_card_number, text)


def redact_value(value: Any) -> Any:
    """A copy of a JSON-like value with sensitive keys blanked and strings redacted."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            key: REDACTED
            if isinstance(key, str) and SENSITIVE_KEY.search(key) and value_is_set(item)
            else redact_value(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(redact_value(item) for item in value)
    return value


def value_is_set(value: Any) -> bool:
    """Empty values stay as they are: they show a field was present but blank, nothing more."""
    return value not in (None, "", [], {})
