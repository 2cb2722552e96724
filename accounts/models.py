from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

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
    # Sign-in attempts since the last successful sign-in; changed only by the lockout services,
    # under a row lock, so concurrent attempts cannot slip past the limit.
    failed_login_count = models.PositiveSmallIntegerField(
        default=0, help_text="Sign-in attempts since the last successful sign-in."
    )
    locked_until = models.DateTimeField(
        null=True, blank=True, help_text="Sign-in is refused until this time (lockout)."
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

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


class AccountToken(BaseModel):
    """A single-use secret mailed or handed to a user: email verification, password reset, or
    the MFA challenge between the password and the code. Only its SHA-256 is stored."""

    class Purpose(models.TextChoices):
        EMAIL_VERIFICATION = "email_verification", "Email verification"
        PASSWORD_RESET = "password_reset", "Password reset"
        MFA_CHALLENGE = "mfa_challenge", "MFA challenge"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="account_tokens")
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "purpose"]), models.Index(fields=["expires_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    purpose__in=["email_verification", "password_reset", "mfa_challenge"]
                ),
                name="accounts_accounttoken_purpose_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} for {self.user_id}"

    def is_usable(self, now: datetime) -> bool:
        return self.used_at is None and self.expires_at > now


class SecurityEvent(BaseModel):
    """One line of the security audit log. Never holds a password, token or code."""

    class Kind(models.TextChoices):
        LOGIN_SUCCEEDED = "login_succeeded", "Login succeeded"
        LOGIN_FAILED = "login_failed", "Login failed"
        ACCOUNT_LOCKED = "account_locked", "Account locked"
        ACCOUNT_UNLOCKED = "account_unlocked", "Account unlocked"
        MFA_FAILED = "mfa_failed", "MFA code refused"
        MFA_ENABLED = "mfa_enabled", "MFA turned on"
        MFA_DISABLED = "mfa_disabled", "MFA turned off"
        MFA_BACKUP_CODES_REGENERATED = "mfa_backup_codes_regenerated", "Backup codes replaced"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        PASSWORD_RESET_REQUESTED = "password_reset_requested", "Password reset requested"
        PASSWORD_RESET = "password_reset", "Password reset"
        EMAIL_VERIFIED = "email_verified", "Email verified"
        ROLE_CHANGED = "role_changed", "Role changed"
        REFUND = "refund", "Refund"

    # Other apps may record kinds of their own: the field is not limited to the choices.
    kind = models.CharField(max_length=50, choices=Kind.choices, db_index=True)
    user = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="security_events",
        help_text="The account the event is about.",
    )
    actor = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who did it, when signed in as someone else (staff acting on an account).",
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} at {timezone.localtime(self.created_at):%Y-%m-%d %H:%M:%S}"
