"""Hooks that later apps register in their AppConfig.ready(), so courses never imports them.

- A learner-state provider (enrollments): is this user enrolled, since when, and which lessons
  have they completed. The outline and lesson access ask it.
- Content-changed callbacks (enrollments): the set of lessons of a course changed, so stored
  progress must follow. They run inside the writing transaction.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from accounts.models import User


@dataclass(frozen=True)
class LearnerState:
    is_enrolled: bool = False
    enrolled_at: datetime | None = None
    completed_lesson_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)


NOT_ENROLLED = LearnerState()

LearnerStateProvider = Callable[[User, uuid.UUID], LearnerState]
ContentChangedCallback = Callable[[uuid.UUID], None]

_learner_state_provider: list[LearnerStateProvider] = []
_content_changed_callbacks: list[ContentChangedCallback] = []


def register_learner_state_provider(provider: LearnerStateProvider) -> None:
    """There is one provider; registering again (e.g. an app reloaded in tests) replaces it."""
    _learner_state_provider[:] = [provider]


def learner_state(*, user: User | None, course_id: uuid.UUID) -> LearnerState:
    if user is None or not user.is_authenticated or not _learner_state_provider:
        return NOT_ENROLLED
    return _learner_state_provider[0](user, course_id)


def register_content_changed(callback: ContentChangedCallback) -> None:
    if callback not in _content_changed_callbacks:
        _content_changed_callbacks.append(callback)


def content_changed(*, course_id: uuid.UUID) -> None:
    for callback in _content_changed_callbacks:
        callback(course_id)
