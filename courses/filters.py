import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from rest_framework.exceptions import NotAuthenticated

from courses.models import Course
from courses.selectors import course_list_taught, course_search

CATALOG_ORDERINGS = {
    "newest": ("-published_at", "-created_at", "pk"),
    "oldest": ("published_at", "created_at", "pk"),
    "popular": ("-enrollment_count", "-published_at", "pk"),
    "title": ("title", "pk"),
    "-title": ("-title", "pk"),
    "price": ("price_amount", "title", "pk"),
    "-price": ("-price_amount", "title", "pk"),
}


class CourseFilter(django_filters.FilterSet):
    """Catalog filters. Without `mine` or `status` only published courses are listed."""

    search = django_filters.CharFilter(
        method="filter_noop", label="Full-text search in title, subtitle and description"
    )
    category = django_filters.CharFilter(field_name="category__slug", label="Category slug")
    level = django_filters.ChoiceFilter(choices=Course.Level.choices)
    language = django_filters.CharFilter(field_name="language")
    price = django_filters.ChoiceFilter(
        choices=[("free", "Free"), ("paid", "Paid")], method="filter_price"
    )
    instructor = django_filters.UUIDFilter(
        method="filter_instructor", label="Owner or co-instructor id"
    )
    mine = django_filters.BooleanFilter(
        method="filter_noop", label="Only courses I teach, in any status"
    )
    status = django_filters.ChoiceFilter(
        choices=Course.Status.choices,
        method="filter_noop",
        label="Status (drafts only among courses you manage)",
    )
    ordering = django_filters.ChoiceFilter(
        choices=[(name, name) for name in CATALOG_ORDERINGS],
        method="filter_noop",
        label="newest (default; relevance when searching), oldest, popular, title, price",
    )

    class Meta:
        model = Course
        fields = ["category", "level", "language"]

    def filter_noop(self, queryset: QuerySet[Course], name: str, value: object) -> QuerySet:
        return queryset  # applied in filter_queryset, where the order of steps matters

    def filter_price(self, queryset: QuerySet[Course], name: str, value: str) -> QuerySet:
        return (
            queryset.filter(price_amount=0)
            if value == "free"
            else queryset.filter(price_amount__gt=0)
        )

    def filter_instructor(self, queryset: QuerySet[Course], name: str, value: object) -> QuerySet:
        co_teaches = Course.co_instructors.through.objects.filter(
            course_id=OuterRef("pk"), user_id=value
        )
        return queryset.filter(Q(owner_id=value) | Q(Exists(co_teaches)))

    def filter_queryset(self, queryset: QuerySet[Course]) -> QuerySet[Course]:
        data = self.form.cleaned_data
        user = self.request.user if self.request else None
        if data.get("mine"):
            if user is None or not user.is_authenticated:
                raise NotAuthenticated("Log in to list the courses you teach.")
            queryset = queryset.filter(pk__in=course_list_taught(user=user).values("pk"))
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        elif not data.get("mine"):
            queryset = queryset.filter(status=Course.Status.PUBLISHED)
        queryset = super().filter_queryset(queryset)
        ordering = data.get("ordering")
        if data.get("search"):
            queryset = course_search(queryset, data["search"])
            if not ordering:
                return queryset  # by relevance
        return queryset.order_by(*CATALOG_ORDERINGS[ordering or "newest"])

    @property
    def is_public_listing(self) -> bool:
        """The same answer for every caller, so it can be cached."""
        data = self.form.cleaned_data if self.is_bound and self.form.is_valid() else {}
        return not data.get("mine") and data.get("status") in (None, "", "published")
