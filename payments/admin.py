"""The back office for orders, coupons and provider events: admins only.

Instructors are staff too, but money is back-office business: they see revenue in their
course analytics, not here. Money fields are never edited; status moves through the
services (refunds through the provider's refund event).
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse

from accounts.models import User
from lms.exceptions import ApplicationError
from payments import selectors, services
from payments.models import Coupon, Order, WebhookEvent
from payments.money import format_money


def _is_back_office(request: HttpRequest) -> bool:
    user = request.user
    return bool(isinstance(user, User) and user.is_active and user.is_staff and user.is_admin)


def _error_text(error: ApplicationError | ValidationError) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return f"{error.message} (code: {error.code})"


class BackOfficeAdmin(admin.ModelAdmin):
    """Visible to admins only; nothing is deleted."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_back_office(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_back_office(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


ORDER_FIELDS = [
    "number",
    "user",
    "course",
    "status",
    "list_price",
    "discount",
    "total",
    "refunded",
    "coupon",
    "enrollment",
    "needs_review",
    "review_reason",
    "provider",
    "provider_session_id",
    "provider_payment_intent_id",
    "provider_charge_id",
    "checkout_url",
    "checkout_expires_at",
    "created_at",
    "paid_at",
    "refunded_at",
    "closed_at",
    "updated_at",
]


@admin.register(Order)
class OrderAdmin(BackOfficeAdmin):
    list_display = [
        "number",
        "buyer",
        "course",
        "total",
        "refunded",
        "status",
        "needs_review",
        "provider",
        "created_at",
        "paid_at",
    ]
    list_filter = [
        "status",
        "needs_review",
        "provider",
        "currency",
        ("course", admin.RelatedOnlyFieldListFilter),
        ("coupon", admin.RelatedOnlyFieldListFilter),
        "created_at",
    ]
    list_select_related = ["user", "course"]
    search_fields = [
        "number",
        "user__email",
        "user__full_name",
        "course__title",
        "coupon__code",
        "provider_session_id",
        "provider_payment_intent_id",
        "provider_charge_id",
    ]
    date_hierarchy = "created_at"
    fields = ORDER_FIELDS
    readonly_fields = ORDER_FIELDS
    actions = ["refund_orders", "resolve_review"]

    @admin.display(description="Buyer", ordering="user__email")
    def buyer(self, order: Order) -> str:
        return order.user.email

    @admin.display(description="List price")
    def list_price(self, order: Order) -> str:
        return format_money(order.list_amount, order.currency)

    @admin.display(description="Discount")
    def discount(self, order: Order) -> str:
        return format_money(order.discount_amount, order.currency)

    @admin.display(description="Total", ordering="amount")
    def total(self, order: Order) -> str:
        return format_money(order.amount, order.currency)

    @admin.display(description="Refunded", ordering="amount_refunded")
    def refunded(self, order: Order) -> str:
        return format_money(order.amount_refunded, order.currency)

    def has_refund_permission(self, request: HttpRequest) -> bool:
        return _is_back_office(request)

    def has_review_permission(self, request: HttpRequest) -> bool:
        return _is_back_office(request)

    @admin.action(
        description="Refund selected orders in full (through the provider)", permissions=["refund"]
    )
    def refund_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        assert isinstance(request.user, User)  # noqa: S101  (has_refund_permission)
        for order in queryset:
            try:
                refund = services.order_refund(
                    order=order, requested_by=request.user, request=request
                )
            except ApplicationError as error:
                self.message_user(
                    request,
                    f"Order {order.number} not refunded: {_error_text(error)}",
                    messages.ERROR,
                )
                continue
            self.message_user(
                request,
                f"Order {order.number}: refund {refund.id} of "
                f"{format_money(refund.amount, refund.currency)} {refund.status}. The order "
                "turns refunded when the provider confirms it.",
                messages.SUCCESS,
            )

    @admin.action(description="Mark selected orders as reviewed", permissions=["review"])
    def resolve_review(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        resolved = 0
        for order in queryset.filter(needs_review=True):
            services.order_review_resolve(order=order)
            resolved += 1
        self.message_user(request, f"{resolved} order(s) marked as reviewed.", messages.SUCCESS)

    def get_urls(self) -> list:
        revenue = path(
            "revenue/",
            self.admin_site.admin_view(self.revenue_view),
            name="payments_order_revenue",
        )
        return [revenue, *super().get_urls()]

    def revenue_view(self, request: HttpRequest) -> HttpResponse:
        """Revenue per course and currency: paid orders, gross, refunds, net."""
        if not _is_back_office(request):
            raise PermissionDenied
        rows = [
            {
                **row,
                "gross_text": format_money(row["gross"], row["currency"]),
                "refunded_text": format_money(row["refunded"], row["currency"]),
                "net_text": format_money(row["net"], row["currency"]),
                "orders_url": reverse("admin:payments_order_changelist")
                + f"?course__id__exact={row['course_id']}",
            }
            for row in selectors.revenue_by_course()
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Revenue per course",
            "opts": self.model._meta,
            "rows": rows,
        }
        return TemplateResponse(request, "admin/payments/order/revenue.html", context)


class CouponForm(forms.ModelForm):
    class Meta:
        model = Coupon
        fields = [
            "code",
            "kind",
            "percent_off",
            "amount_off",
            "currency",
            "course",
            "valid_from",
            "valid_until",
            "max_redemptions",
            "is_active",
        ]

    def clean_code(self) -> str:
        return services.coupon_normalize_code(self.cleaned_data["code"])


@admin.register(Coupon)
class CouponAdmin(BackOfficeAdmin):
    form = CouponForm
    list_display = [
        "code",
        "kind",
        "discount",
        "course",
        "valid_from",
        "valid_until",
        "redemptions",
        "is_active",
    ]
    list_filter = ["kind", "is_active", ("course", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["course"]
    search_fields = ["code", "course__title"]
    autocomplete_fields = ["course"]

    @admin.display(description="Discount")
    def discount(self, coupon: Coupon) -> str:
        if coupon.kind == Coupon.Kind.PERCENT:
            return f"{coupon.percent_off} %"
        return format_money(coupon.amount_off or 0, coupon.currency)

    @admin.display(description="Redemptions", ordering="redemption_count")
    def redemptions(self, coupon: Coupon) -> str:
        limit = "∞" if coupon.max_redemptions is None else str(coupon.max_redemptions)
        return f"{coupon.redemption_count} / {limit}"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_back_office(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_back_office(request)

    def get_readonly_fields(self, request: HttpRequest, obj: Coupon | None = None) -> list[str]:
        if obj is None:
            return ["redemption_count"]
        fixed = [
            name for name in CouponForm.Meta.fields if name not in services.COUPON_EDITABLE_FIELDS
        ]
        return [*fixed, "redemption_count"]

    def get_fields(self, request: HttpRequest, obj: Coupon | None = None) -> list[str]:
        return [*CouponForm.Meta.fields, "redemption_count"]

    def save_model(
        self, request: HttpRequest, obj: Coupon, form: forms.ModelForm, change: bool
    ) -> None:
        data = form.cleaned_data
        if change:
            fields = {name: data[name] for name in form.changed_data if name in data}
            saved = services.coupon_update(coupon=obj, fields=fields)
        else:
            saved = services.coupon_create(
                **{name: data[name] for name in CouponForm.Meta.fields if name in data},
                created_by=request.user if isinstance(request.user, User) else None,
            )
        obj.pk = saved.pk
        obj.refresh_from_db()
        obj._state.adding = False


EVENT_FIELDS = [
    "provider",
    "event_id",
    "type",
    "result",
    "detail",
    "order",
    "payment_intent_id",
    "provider_created_at",
    "created_at",
    "updated_at",
    "payload",
]


@admin.register(WebhookEvent)
class WebhookEventAdmin(BackOfficeAdmin):
    list_display = ["event_id", "type", "result", "order", "provider_created_at", "created_at"]
    list_filter = ["provider", "type", "result", "created_at"]
    list_select_related = ["order"]
    search_fields = ["event_id", "order__number", "payment_intent_id"]
    date_hierarchy = "created_at"
    fields = EVENT_FIELDS
    readonly_fields = EVENT_FIELDS
