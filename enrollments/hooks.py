"""Extension points later apps register in their AppConfig.ready().

- Completion requirements (assessments): besides every required lesson, a course is complete
  only when each registered requirement holds (e.g. required quizzes passed).
- Completion callbacks (certificates, mail, webhooks): run once, after the commit that marks
  an enrolment completed, with the enrolment id.
- Enrolment callbacks (webhooks): run after the commit that creates or reactivates one.
- Analytics sections (assessments: quiz averages; payments: revenue): each adds a named
  section to the course analytics, computed with aggregate queries.
- Revocation callbacks (certificates, webhooks): run after the commit that cancels or refunds
  one, with the enrolment id and the new status.
"""

import uuid
from collections.abc import Callable
from typing import Any

from courses.models import Course
from enrollments.models import Enrollment

CompletionRequirement = Callable[[Enrollment], bool]
EnrollmentCallback = Callable[[uuid.UUID], None]

_completion_requirements: list[CompletionRequirement] = []
_completion_callbacks: list[EnrollmentCallback] = []
_enrollment_callbacks: list[EnrollmentCallback] = []
RevocationCallback = Callable[[uuid.UUID, str], None]
_revocation_callbacks: list[RevocationCallback] = []


def _register(registry: list, item: Callable) -> None:
    if item not in registry:
        registry.append(item)


def register_completion_requirement(requirement: CompletionRequirement) -> None:
    _register(_completion_requirements, requirement)


def register_completion_callback(callback: EnrollmentCallback) -> None:
    _register(_completion_callbacks, callback)


def register_enrollment_callback(callback: EnrollmentCallback) -> None:
    _register(_enrollment_callbacks, callback)


def register_revocation_callback(callback: RevocationCallback) -> None:
    _register(_revocation_callbacks, callback)


def revocation_callbacks() -> list[RevocationCallback]:
    return list(_revocation_callbacks)


AnalyticsSection = Callable[[Course], dict[str, Any]]
_analytics_sections: dict[str, AnalyticsSection] = {}
_owner_only_sections: set[str] = set()


def register_analytics_section(
    name: str, section: AnalyticsSection, *, owner_only: bool = False
) -> None:
    """owner_only: shown to the course's owner and admins, not to co-instructors (revenue)."""
    _analytics_sections[name] = section
    if owner_only:
        _owner_only_sections.add(name)


def analytics_sections(*, include_owner_only: bool = True) -> dict[str, AnalyticsSection]:
    return {
        name: section
        for name, section in _analytics_sections.items()
        if include_owner_only or name not in _owner_only_sections
    }


def extra_requirements_met(enrollment: Enrollment) -> bool:
    return all(requirement(enrollment) for requirement in _completion_requirements)


def completion_callbacks() -> list[EnrollmentCallback]:
    return list(_completion_callbacks)


def enrollment_callbacks() -> list[EnrollmentCallback]:
    return list(_enrollment_callbacks)
