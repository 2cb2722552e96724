from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from accounts import services
from accounts.models import SecurityEvent, User


def _is_back_office(request: HttpRequest) -> bool:
    user = request.user
    return user.is_authenticated and user.is_active and user.is_staff and user.is_admin


def _is_instructor(request: HttpRequest) -> bool:
    user = request.user
    return user.is_authenticated and user.is_active and user.is_staff and user.is_instructor


def _is_autocomplete(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and match.url_name == "autocomplete"


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "role")


class UserChangeForm(DjangoUserChangeForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "role", "is_active", "is_staff", "email_verified_at")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    ordering = ["-created_at"]
    list_display = [
        "email",
        "full_name",
        "role",
        "is_active",
        "is_staff",
        "is_locked",
        "created_at",
    ]
    list_filter = ["role", "is_active", "is_staff", "is_superuser", "created_at"]
    search_fields = ["email", "full_name"]
    readonly_fields = [
        "created_at",
        "updated_at",
        "last_login",
        "failed_login_count",
        "locked_until",
    ]
    actions = ["deactivate_users", "reactivate_users", "unlock_users"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "role", "email_verified_at")}),
        (
            "Access",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Sign-in", {"fields": ("failed_login_count", "locked_until")}),
        ("Dates", {"fields": ("last_login", "created_at", "updated_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "full_name",
                    "role",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    # Back-office admins (the admin role) manage accounts without needing model permissions;
    # only superusers hand out superuser status and permissions, or erase an account.
    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_back_office(request)

    def has_view_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # Instructors pick co-instructors through the admin's user autocomplete, which asks
        # for view permission; the user directory itself stays closed to them.
        if _is_autocomplete(request) and _is_instructor(request):
            return True
        return _is_back_office(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_back_office(request)

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return _is_back_office(request)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # Accounts are deactivated, not deleted, so their records stay.
        return request.user.is_superuser

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[User], search_term: str
    ) -> tuple[QuerySet[User], bool]:
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # Course owners and co-instructors are picked among active teaching staff, and an
        # instructor's autocomplete never lists anyone else, whichever field it names.
        # ("courses" is a string: accounts must not import the apps above it.)
        if _is_autocomplete(request) and (
            request.GET.get("app_label") == "courses" or not _is_back_office(request)
        ):
            queryset = queryset.filter(is_active=True).filter(
                Q(role__in=[User.Role.INSTRUCTOR, User.Role.ADMIN]) | Q(is_superuser=True)
            )
        return queryset, may_have_duplicates

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> list[str]:
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += ["is_superuser", "groups", "user_permissions"]
        return readonly

    @admin.display(boolean=True, description="Locked")
    def is_locked(self, obj: User) -> bool:
        return obj.is_locked(timezone.now())

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        previous_role = form.initial.get("role")
        super().save_model(request, obj, form, change)
        if change and "role" in form.changed_data:
            services.user_role_changed(user=obj, previous_role=previous_role, request=request)

    @admin.action(description="Unlock selected users (clear a sign-in lockout)")
    def unlock_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset.filter(locked_until__isnull=False):
            services.user_unlock(user=user, request=request)
        self.message_user(request, "Selected users were unlocked.", messages.SUCCESS)

    @admin.action(description="Deactivate selected users (keeps their data)")
    def deactivate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset.filter(is_active=True):
            services.user_deactivate(user=user)
        self.message_user(request, "Selected users were deactivated.", messages.SUCCESS)

    @admin.action(description="Reactivate selected users")
    def reactivate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset.filter(is_active=False):
            services.user_reactivate(user=user)
        self.message_user(request, "Selected users were reactivated.", messages.SUCCESS)


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """The audit log: read-only, for back-office admins."""

    list_display = ["created_at", "kind", "user", "actor", "ip_address"]
    list_filter = ["kind", "created_at"]
    search_fields = ["user__email", "actor__email", "ip_address"]
    date_hierarchy = "created_at"
    list_select_related = ["user", "actor"]
    fields = ["created_at", "kind", "user", "actor", "ip_address", "user_agent", "metadata"]
    readonly_fields = fields

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_back_office(request)

    def has_view_permission(self, request: HttpRequest, obj: SecurityEvent | None = None) -> bool:
        return _is_back_office(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SecurityEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: SecurityEvent | None = None) -> bool:
        return False
