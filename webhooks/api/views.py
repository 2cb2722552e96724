import uuid

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import IsAdmin
from lms.exceptions import error_responses
from webhooks import selectors, services
from webhooks.api.serializers import (
    WebhookDeliveryOutputSerializer,
    WebhookEndpointCreatedOutputSerializer,
    WebhookEndpointCreateInputSerializer,
    WebhookEndpointOutputSerializer,
    WebhookEndpointUpdateInputSerializer,
)
from webhooks.filters import WebhookDeliveryFilter
from webhooks.models import WebhookDelivery, WebhookEndpoint


@extend_schema_view(
    list=extend_schema(
        summary="List webhook endpoints", responses={200: WebhookEndpointOutputSerializer}
    ),
    retrieve=extend_schema(
        summary="One webhook endpoint",
        responses={200: WebhookEndpointOutputSerializer, **error_responses(401, 403, 404)},
    ),
)
class WebhookEndpointViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Outgoing webhook endpoints (admins only)."""

    permission_classes = [IsAdmin]
    serializer_class = WebhookEndpointOutputSerializer
    lookup_value_converter = "uuid"

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        return selectors.webhook_endpoint_list()

    @extend_schema(
        request=WebhookEndpointCreateInputSerializer,
        responses={201: WebhookEndpointCreatedOutputSerializer, **error_responses(400, 401, 403)},
    )
    def create(self, request: Request) -> Response:
        """Register an endpoint; the response shows its signing secret, once."""
        serializer = WebhookEndpointCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_create(**serializer.validated_data)
        return Response(
            WebhookEndpointCreatedOutputSerializer(endpoint).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        request=WebhookEndpointUpdateInputSerializer,
        responses={200: WebhookEndpointOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def partial_update(self, request: Request, pk: uuid.UUID) -> Response:
        """Change an endpoint: URL, events, secret (rotation), description, active flag."""
        serializer = WebhookEndpointUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_update(
            endpoint=self.get_object(), **serializer.validated_data
        )
        return Response(WebhookEndpointOutputSerializer(endpoint).data)

    @extend_schema(responses={204: None, **error_responses(401, 403, 404)})
    def destroy(self, request: Request, pk: uuid.UUID) -> Response:
        """Remove an endpoint with its delivery history."""
        services.webhook_endpoint_delete(endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryListView(generics.ListAPIView):
    """An endpoint's deliveries, newest first, each with its event and every attempt."""

    permission_classes = [IsAdmin]
    serializer_class = WebhookDeliveryOutputSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = WebhookDeliveryFilter

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return WebhookDelivery.objects.none()
        endpoint = selectors.webhook_endpoint_get(pk=self.kwargs["pk"])
        return selectors.webhook_delivery_list(endpoint=endpoint)

    @extend_schema(
        responses={
            200: WebhookDeliveryOutputSerializer(many=True),
            **error_responses(401, 403, 404),
        }
    )
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        """An endpoint's deliveries, newest first, each with its event and every attempt."""
        return super().get(request, *args, **kwargs)


class WebhookDeliveryRedeliverView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        request=None,
        responses={202: WebhookDeliveryOutputSerializer, **error_responses(401, 403, 404)},
    )
    def post(self, request: Request, pk: uuid.UUID, delivery_id: uuid.UUID) -> Response:
        """Send a delivery again (whatever its status); it joins the end of the queue."""
        endpoint = selectors.webhook_endpoint_get(pk=pk)
        delivery = selectors.webhook_delivery_get(endpoint=endpoint, pk=delivery_id)
        services.webhook_delivery_redeliver(delivery=delivery)
        delivery = selectors.webhook_delivery_get(endpoint=endpoint, pk=delivery_id)
        return Response(
            WebhookDeliveryOutputSerializer(delivery).data, status=status.HTTP_202_ACCEPTED
        )
