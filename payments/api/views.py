import logging
import uuid

from django.db.models import QuerySet
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import IsAdmin
from courses.selectors import course_get_visible
from lms.exceptions import error_responses
from payments import selectors, services
from payments.api.serializers import (
    CheckoutInputSerializer,
    CheckoutOutputSerializer,
    CouponCreateInputSerializer,
    CouponOutputSerializer,
    OrderOutputSerializer,
    RefundInputSerializer,
    RefundOutputSerializer,
    WebhookOutputSerializer,
)
from payments.errors import InvalidWebhookSignature
from payments.filters import CouponFilter, MyOrderFilter
from payments.models import Coupon, Order
from payments.providers import get_provider

logger = logging.getLogger(__name__)

COURSE_ID = OpenApiParameter(
    "id", str, OpenApiParameter.PATH, description="The course's UUID or its slug."
)


def _uuid_or_404(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Http404 from None


class CourseCheckoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[COURSE_ID],
        request=CheckoutInputSerializer,
        responses={
            200: CheckoutOutputSerializer,
            201: CheckoutOutputSerializer,
            **error_responses(400, 401, 403, 404, 409, 502, 503),
        },
    )
    def post(self, request: Request, pk: str) -> Response:
        """Buy a paid course: 201 with a new order and its checkout URL, 200 for your open one."""
        serializer = CheckoutInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        course = course_get_visible(user=request.user, id_or_slug=pk)
        result = services.order_checkout(
            user=request.user,
            course=course,
            coupon_code=serializer.validated_data.get("coupon", ""),
        )
        body = {"order": result.order, "checkout_url": result.checkout_url or None}
        return Response(
            CheckoutOutputSerializer(body).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class StripeWebhookView(APIView):
    """Stripe calls this; the signature over the raw body is the authentication."""

    provider_name = "stripe"
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT},
        parameters=[
            OpenApiParameter(
                "Stripe-Signature",
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="Stripe's timestamped HMAC-SHA256 signature of the raw body.",
            )
        ],
        responses={200: WebhookOutputSerializer, **error_responses(400)},
    )
    def post(self, request: Request) -> Response:
        """Receive a Stripe event: verified, stored once by its id, applied to its order."""
        provider = get_provider(self.provider_name)
        if not provider.accepts_webhooks():
            # Nothing can be verified, so nothing is accepted; Stripe keeps retrying.
            logger.error("Stripe webhook refused: STRIPE_WEBHOOK_SECRET is not set.")
            raise InvalidWebhookSignature("Webhooks are not configured on this server.")
        event = provider.parse_webhook(payload=request.body, headers=request.headers)
        stored, created = services.webhook_event_receive(event=event)
        body = {"received": True, "duplicate": not created, "result": stored.result}
        return Response(WebhookOutputSerializer(body).data)


class OrderDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: OrderOutputSerializer, **error_responses(401, 404)})
    def get(self, request: Request, pk: str) -> Response:
        """One order: your own, or any for admins."""
        order = selectors.order_get_visible(user=request.user, pk=_uuid_or_404(pk))
        return Response(OrderOutputSerializer(order).data)


class OrderRefundView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        request=RefundInputSerializer,
        responses={
            202: RefundOutputSerializer,
            **error_responses(400, 401, 403, 404, 409, 502, 503),
        },
    )
    def post(self, request: Request, pk: str) -> Response:
        """Refund a paid order (admins): the provider's refund event then updates the order."""
        serializer = RefundInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = selectors.order_get_visible(user=request.user, pk=_uuid_or_404(pk))
        refund = services.order_refund(
            order=order, requested_by=request.user, request=request, **serializer.validated_data
        )
        order = selectors.order_get_visible(user=request.user, pk=order.pk)
        body = {
            "order": order,
            "refund": {
                "id": refund.id,
                "status": refund.status,
                "amount": {"amount": refund.amount, "currency": refund.currency},
            },
        }
        return Response(RefundOutputSerializer(body).data, status=status.HTTP_202_ACCEPTED)


class MyOrdersView(generics.ListAPIView):
    """My orders, newest first; filter `status`."""

    permission_classes = [IsAuthenticated]
    serializer_class = OrderOutputSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = MyOrderFilter

    def get_queryset(self) -> QuerySet[Order]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Order.objects.none()
        return selectors.order_list_for_user(user=self.request.user)


class CouponViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Coupons (admins): list with filters, and create."""

    permission_classes = [IsAdmin]
    serializer_class = CouponOutputSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = CouponFilter

    def get_queryset(self) -> QuerySet[Coupon]:
        return selectors.coupon_list()

    @extend_schema(
        request=CouponCreateInputSerializer,
        responses={201: CouponOutputSerializer, **error_responses(400, 401, 403, 409)},
    )
    def create(self, request: Request) -> Response:
        """Create a coupon: percent or amount off, window, limit, optional course."""
        serializer = CouponCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        coupon = services.coupon_create(**serializer.validated_data, created_by=request.user)
        return Response(CouponOutputSerializer(coupon).data, status=status.HTTP_201_CREATED)
