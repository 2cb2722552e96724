import pytest
from django.db import IntegrityError

from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_emails_are_stored_lower_cased():
    user = User.objects.create_user(email="  Mixed.Case@Example.COM ", password="x", full_name="M")

    assert user.email == "mixed.case@example.com"


def test_database_refuses_a_second_spelling_of_the_same_email():
    UserFactory(email="one@example.com")

    # An update that bypasses the model's normalisation still hits the constraint.
    other = UserFactory(email="two@example.com")
    with pytest.raises(IntegrityError):
        User.objects.filter(pk=other.pk).update(email="ONE@example.com")


def test_database_refuses_an_unknown_role():
    user = UserFactory()

    with pytest.raises(IntegrityError):
        User.objects.filter(pk=user.pk).update(role="wizard")


def test_admins_are_always_staff():
    user = UserFactory(role=User.Role.ADMIN, is_staff=False)

    assert user.is_staff is True


def test_instructors_are_staff_so_they_can_author_in_the_admin():
    user = UserFactory(role=User.Role.INSTRUCTOR, is_staff=False)

    assert user.is_staff is True


def test_promotion_to_admin_saves_staff_status_with_update_fields():
    user = UserFactory()

    user.role = User.Role.ADMIN
    user.save(update_fields=["role"])

    user.refresh_from_db()
    assert user.is_staff is True


def test_superuser_is_an_admin():
    user = User.objects.create_superuser(email="root@example.com", password="x", full_name="R")

    assert user.role == User.Role.ADMIN
    assert user.is_staff
    assert user.is_superuser


def test_primary_key_is_a_uuid():
    user = UserFactory()

    assert len(str(user.pk)) == 36
