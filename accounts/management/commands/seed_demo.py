from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User

DEMO_PASSWORD = "demo-pass-2026"  # documented in README.md; demo data only
DEMO_USERS = [
    ("admin@example.com", "Ada Admin", User.Role.ADMIN),
    ("instructor@example.com", "Ian Instructor", User.Role.INSTRUCTOR),
    ("student@example.com", "Sam Student", User.Role.STUDENT),
    ("student2@example.com", "Sara Student", User.Role.STUDENT),
]


class Command(BaseCommand):
    help = "Load a small demo data set with known logins (safe to run again)."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        for email, full_name, role in DEMO_USERS:
            user = User.objects.filter(email=email).first() or User(email=email)
            user.full_name = full_name
            user.role = role
            user.is_superuser = role == User.Role.ADMIN
            user.is_active = True
            user.set_password(DEMO_PASSWORD)
            user.save()
            self.stdout.write(f"{role:<10} {email}")
        self.stdout.write(self.style.SUCCESS(f"Demo users ready; password: {DEMO_PASSWORD}"))
