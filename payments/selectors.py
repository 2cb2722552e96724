"""Reads of orders, coupons and revenue."""

import uuid
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404

from accounts.models import User
from courses.models import Course
from courses.selectors import AnyUser
from payments.models import Coupon, Order

# Orders that brought money in (refunded ones too: their refunds are subtracted).
REVENUE_STATUSES = (Order.Status.PAID, Order.Status.REFUNDED)


def order_list_for_user(*, user: User) -> QuerySet[Order]:
    """My orders, newest first, with what their rows show."""
    return (
        Order.objects.filter(user=user)
        .select_related("course", "coupon")
        .order_by("-created_at", "-pk")
    )


def order_get_visible(*, user: AnyUser, pk: uuid.UUID) -> Order:
    """The buyer's own order; admins see any. 404 for everyone else."""
    order = get_object_or_404(Order.objects.select_related("course", "coupon", "user"), pk=pk)
    if order.user_id == user.pk or (user.is_authenticated and user.is_admin):
        return order
    raise Order.DoesNotExist


def coupon_list() -> QuerySet[Coupon]:
    return Coupon.objects.select_related("course").order_by("-created_at", "-pk")


def _money_rows(orders: QuerySet[Order], *group: str) -> QuerySet[Order, dict[str, Any]]:
    return (
        orders.filter(status__in=REVENUE_STATUSES)
        .values(*group, "currency")
        .annotate(
            orders=Count("pk"),
            refunded_orders=Count("pk", filter=Q(status=Order.Status.REFUNDED)),
            gross=Sum("amount"),
            refunded=Sum("amount_refunded"),
        )
        .annotate(net=F("gross") - F("refunded"))
        .order_by(*group, "currency")
    )


def course_revenue(course: Course) -> dict[str, Any]:
    """The course analytics' `revenue` section: paid orders and money per currency.

    One aggregate query. Amounts are minor units; `net` is gross minus refunds.
    """
    rows = _money_rows(Order.objects.filter(course=course))
    return {
        "by_currency": [
            {
                "currency": row["currency"],
                "orders": row["orders"],
                "refunded_orders": row["refunded_orders"],
                "gross": row["gross"],
                "refunded": row["refunded"],
                "net": row["net"],
            }
            for row in rows
        ]
    }


def revenue_by_course() -> list[dict[str, Any]]:
    """Every course that sold something, with its money per currency (one query)."""
    rows = _money_rows(Order.objects.all(), "course_id", "course__title", "course__slug")
    return sorted(rows, key=lambda row: (-row["net"], row["course__title"]))
