from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from courses.api.serializers import MoneySerializer
from courses.currencies import ISO_4217_CODES
from courses.models import Course
from payments.models import Coupon, Order, WebhookEvent


def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


class OrderCourseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Course
        fields = ["id", "slug", "title"]
        read_only_fields = fields


class OrderOutputSerializer(serializers.ModelSerializer):
    course = OrderCourseSerializer()
    list_price = serializers.SerializerMethodField(help_text="The course price at checkout.")
    discount = serializers.SerializerMethodField()
    total = serializers.SerializerMethodField(help_text="What is (or was) charged.")
    refunded = serializers.SerializerMethodField(help_text="Refunded so far.")
    coupon = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    checkout_url = serializers.SerializerMethodField(
        help_text="The provider's payment page while the order is pending; null otherwise."
    )

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "course",
            "status",
            "list_price",
            "discount",
            "total",
            "refunded",
            "coupon",
            "provider",
            "checkout_url",
            "checkout_expires_at",
            "enrollment",
            "needs_review",
            "created_at",
            "paid_at",
            "refunded_at",
            "closed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(MoneySerializer)
    def get_list_price(self, order: Order) -> dict[str, Any]:
        return _money(order.list_amount, order.currency)

    @extend_schema_field(MoneySerializer)
    def get_discount(self, order: Order) -> dict[str, Any]:
        return _money(order.discount_amount, order.currency)

    @extend_schema_field(MoneySerializer)
    def get_total(self, order: Order) -> dict[str, Any]:
        return _money(order.amount, order.currency)

    @extend_schema_field(MoneySerializer)
    def get_refunded(self, order: Order) -> dict[str, Any]:
        return _money(order.amount_refunded, order.currency)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_checkout_url(self, order: Order) -> str | None:
        if order.status != Order.Status.PENDING or not order.checkout_url:
            return None
        return order.checkout_url


class CheckoutInputSerializer(serializers.Serializer):
    coupon = serializers.CharField(
        required=False, allow_blank=True, max_length=40, help_text="A coupon code (any case)."
    )


class CheckoutOutputSerializer(serializers.Serializer):
    order = OrderOutputSerializer()
    checkout_url = serializers.URLField(
        allow_null=True,
        help_text="Send the buyer here to pay; null when a coupon covered the whole price "
        "(the order is paid and the buyer enrolled already).",
    )


class RefundInputSerializer(serializers.Serializer):
    amount = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Minor units to refund; everything left when omitted. Less than the "
        "total is a partial refund, which keeps the buyer's access.",
    )


class RefundSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The provider's refund id.")
    status = serializers.CharField(help_text="The provider's refund status.")
    amount = MoneySerializer()


class RefundOutputSerializer(serializers.Serializer):
    order = OrderOutputSerializer()
    refund = RefundSerializer()


class WebhookOutputSerializer(serializers.Serializer):
    received = serializers.BooleanField()
    duplicate = serializers.BooleanField(help_text="This event id was received before.")
    result = serializers.ChoiceField(choices=WebhookEvent.Result.choices)


class CouponOutputSerializer(serializers.ModelSerializer):
    amount_off = serializers.SerializerMethodField()
    course = OrderCourseSerializer(allow_null=True)

    class Meta:
        model = Coupon
        fields = [
            "id",
            "code",
            "kind",
            "percent_off",
            "amount_off",
            "course",
            "valid_from",
            "valid_until",
            "max_redemptions",
            "redemption_count",
            "is_active",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(MoneySerializer(allow_null=True))
    def get_amount_off(self, coupon: Coupon) -> dict[str, Any] | None:
        if coupon.amount_off is None:
            return None
        return _money(coupon.amount_off, coupon.currency)


@extend_schema_field(MoneySerializer)
class MoneyInputField(serializers.Field):
    """`{"amount": <minor units>, "currency": "USD"}`, with flat error messages (the error
    shape has a list of strings per field)."""

    default_error_messages = {
        "invalid": "Expected an object with `amount` (minor units) and `currency` (ISO 4217).",
        "currency": "Unknown currency code.",
        "amount": "The amount must be a positive integer (minor units).",
    }

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict) or set(data) != {"amount", "currency"}:
            self.fail("invalid")
        amount, currency = data["amount"], data["currency"]
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 1:
            self.fail("amount")
        if currency not in ISO_4217_CODES:
            self.fail("currency")
        return {"amount": amount, "currency": currency}

    def to_representation(self, value: dict[str, Any]) -> dict[str, Any]:
        return value


class CouponCreateInputSerializer(serializers.Serializer):
    code = serializers.RegexField(
        r"^[A-Za-z0-9][A-Za-z0-9_-]{2,39}$",
        help_text="3 to 40 letters, digits, '-' or '_'; stored upper-case.",
    )
    kind = serializers.ChoiceField(choices=Coupon.Kind.choices)
    percent_off = serializers.IntegerField(
        required=False, min_value=1, max_value=100, help_text="For percent coupons."
    )
    amount_off = MoneyInputField(required=False, help_text="For amount coupons.")
    course = serializers.PrimaryKeyRelatedField(
        queryset=Course.objects.all(),
        required=False,
        allow_null=True,
        help_text="Restrict to one course; omit for every paid course.",
    )
    valid_from = serializers.DateTimeField(required=False, allow_null=True)
    valid_until = serializers.DateTimeField(required=False, allow_null=True)
    max_redemptions = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    is_active = serializers.BooleanField(default=True)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        money = data.pop("amount_off", None)
        if data["kind"] == Coupon.Kind.PERCENT and "percent_off" not in data:
            raise serializers.ValidationError({"percent_off": ["Required for percent coupons."]})
        if data["kind"] == Coupon.Kind.AMOUNT:
            data.pop("percent_off", None)
            if money is None:
                raise serializers.ValidationError({"amount_off": ["Required for amount coupons."]})
            data["amount_off"], data["currency"] = money["amount"], money["currency"]
        return data
