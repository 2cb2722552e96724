import pytest

from accounts.tests.factories import UserFactory
from courses.tests.factories import course_with_content


@pytest.fixture
def co_instructor(db):
    return UserFactory(instructor=True)


@pytest.fixture
def course(instructor, co_instructor):
    """Published, owned by `instructor`, co-taught by `co_instructor`: 2 modules of 2 lessons."""
    return course_with_content(
        modules=2,
        lessons_per_module=2,
        owner=instructor,
        co_instructors=[co_instructor],
        published=True,
    )


@pytest.fixture
def draft(instructor, co_instructor):
    return course_with_content(owner=instructor, co_instructors=[co_instructor])
