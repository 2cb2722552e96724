import django_filters

from payments.models import Coupon, Order


class MyOrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Order.Status.choices)

    class Meta:
        model = Order
        fields = ["status"]


class CouponFilter(django_filters.FilterSet):
    # Strictly true/false (a BooleanFilter would take "null" as "no filter").
    is_active = django_filters.TypedChoiceFilter(
        choices=[("true", "true"), ("false", "false")], coerce=lambda value: value == "true"
    )
    kind = django_filters.ChoiceFilter(choices=Coupon.Kind.choices)
    course = django_filters.UUIDFilter(field_name="course_id")
    code = django_filters.CharFilter(field_name="code", lookup_expr="icontains")

    class Meta:
        model = Coupon
        fields = ["is_active", "kind", "course", "code"]
