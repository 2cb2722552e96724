import importlib
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User

DEMO_PASSWORD = "demo-pass-2026"  # documented in README.md; demo data only
DEMO_USERS = [
    ("admin@example.com", "Ada Admin", User.Role.ADMIN),
    ("instructor@example.com", "Ian Instructor", User.Role.INSTRUCTOR),
    ("student@example.com", "Sam Student", User.Role.STUDENT),
    ("student2@example.com", "Sara Student", User.Role.STUDENT),
]


def app_demo_modules() -> Iterator[ModuleType]:
    """Each installed app's optional `demo` module, in INSTALLED_APPS order.

    Apps are listed lower layers first, so an app's demo data can use the data of the apps it
    depends on. Discovering the modules at run time keeps accounts from importing later apps.
    """
    for app_config in apps.get_app_configs():
        name = f"{app_config.name}.demo"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise  # The demo module exists but imports something missing: show it.
            continue
        yield module


class Command(BaseCommand):
    help = (
        "Load a small demo data set with known logins, then each app's demo data "
        "(`<app>/demo.py`, a `seed(*, stdout)` function). Safe to run again."
    )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        for email, full_name, role in DEMO_USERS:
            user = User.objects.filter(email=email).first() or User(email=email)
            user.full_name = full_name
            user.role = role
            user.is_superuser = role == User.Role.ADMIN
            user.is_active = True
            # Verified, so the demo works with ACCOUNTS_REQUIRE_VERIFIED_EMAIL on.
            user.email_verified_at = user.email_verified_at or timezone.now()
            user.set_password(DEMO_PASSWORD)
            user.save()
            self.stdout.write(f"{role:<10} {email}")
        self.stdout.write(self.style.SUCCESS(f"Demo users ready; password: {DEMO_PASSWORD}"))
        for module in app_demo_modules():
            # Each seed() is idempotent itself: it skips what an earlier run created.
            module.seed(stdout=self.stdout)
