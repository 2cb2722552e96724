import django_filters
from django.db.models import Q, QuerySet

from enrollments.models import Enrollment


class LearnerEnrollmentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Enrollment.Status.choices)

    class Meta:
        model = Enrollment
        fields = ["status"]


class RosterFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Enrollment.Status.choices)
    source = django_filters.ChoiceFilter(choices=Enrollment.Source.choices)
    search = django_filters.CharFilter(method="filter_search", label="Learner email or name")
    ordering = django_filters.OrderingFilter(
        fields=(
            ("user__full_name", "name"),
            ("user__email", "email"),
            ("progress_percent", "progress"),
            ("enrolled_at", "enrolled_at"),
            ("last_accessed_at", "last_accessed_at"),
        )
    )

    class Meta:
        model = Enrollment
        fields = ["status", "source"]

    def filter_search(
        self, queryset: QuerySet[Enrollment], name: str, value: str
    ) -> QuerySet[Enrollment]:
        return queryset.filter(
            Q(user__email__icontains=value) | Q(user__full_name__icontains=value)
        )
