import django_filters
from django.db.models import Q, QuerySet

from accounts.models import User


class UserFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", label="Email or name contains")
    role = django_filters.ChoiceFilter(choices=User.Role.choices)
    is_active = django_filters.BooleanFilter()
    ordering = django_filters.OrderingFilter(
        fields=(("created_at", "created_at"), ("email", "email"), ("full_name", "full_name"))
    )

    class Meta:
        model = User
        fields = ["role", "is_active"]

    def filter_search(self, queryset: QuerySet[User], name: str, value: str) -> QuerySet[User]:
        return queryset.filter(Q(email__icontains=value) | Q(full_name__icontains=value))
