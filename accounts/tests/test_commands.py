import io

import pytest
from django.core.management import call_command

from accounts.management.commands.seed_demo import DEMO_PASSWORD
from accounts.models import User

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_the_documented_logins():
    call_command("seed_demo", stdout=io.StringIO())

    admin = User.objects.get(email="admin@example.com")
    assert admin.is_superuser
    assert admin.is_staff
    assert admin.check_password(DEMO_PASSWORD)
    assert User.objects.get(email="instructor@example.com").role == User.Role.INSTRUCTOR
    assert User.objects.filter(role=User.Role.STUDENT).count() == 2


def test_seed_demo_can_run_again():
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())

    assert User.objects.count() == 4
