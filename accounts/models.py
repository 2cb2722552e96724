from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower

from lms.models import BaseModel


def normalize_email(email: str) -> str:
    """Emails are stored lower-cased, so lookups and uniqueness ignore case."""
    return email.strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        user = self.model(email=normalize_email(email), **fields)
        user.set_password(password)
        # Uniqueness is left to the database: a concurrent sign-up then fails as an
        # IntegrityError, which the registration service turns into `email_taken`.
        user.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.update(role=User.Role.ADMIN, is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(email=normalize_email(username or ""))


class User(BaseModel, AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an email address. Deactivation (is_active=False) keeps data."""

    class Role(models.TextChoices):
        STUDENT = "student", "Student"
        INSTRUCTOR = "instructor", "Instructor"
        ADMIN = "admin", "Admin"

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.STUDENT)
    is_active = models.BooleanField(
        default=True, help_text="Clear this instead of deleting the account: data is kept."
    )
    is_staff = models.BooleanField(
        default=False,
        help_text="Can log into the admin site. Always on for admins and instructors.",
    )
    email_verified_at = models.DateTimeField(null=True, blank=True)
    receives_weekly_digest = models.BooleanField(
        default=True, help_text="Gets the weekly progress email."
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Belt and braces: emails are stored lower-cased, and the database refuses a
            # second spelling of the same address even if a write bypasses normalize_email.
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=["student", "instructor", "admin"]),
                name="accounts_user_role_valid",
            ),
        ]
        indexes = [models.Index(fields=["role", "is_active"])]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs) -> None:
        self.email = normalize_email(self.email)
        # Instructors author their courses in the admin, scoped to what they teach.
        if self.role in (self.Role.ADMIN, self.Role.INSTRUCTOR) and not self.is_staff:
            self.is_staff = True
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "is_staff"}
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def is_admin(self) -> bool:
        return self.is_superuser or self.role == self.Role.ADMIN

    @property
    def is_instructor(self) -> bool:
        return self.role == self.Role.INSTRUCTOR
