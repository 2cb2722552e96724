from django.urls import path
from rest_framework.routers import SimpleRouter

from webhooks.api import views

app_name = "webhooks_api"

router = SimpleRouter()
router.register("webhook-endpoints", views.WebhookEndpointViewSet, basename="webhook-endpoint")

urlpatterns = [
    path(
        "webhook-endpoints/<uuid:pk>/deliveries/",
        views.WebhookDeliveryListView.as_view(),
        name="webhook-endpoint-deliveries",
    ),
    path(
        "webhook-endpoints/<uuid:pk>/deliveries/<uuid:delivery_id>/redeliver/",
        views.WebhookDeliveryRedeliverView.as_view(),
        name="webhook-delivery-redeliver",
    ),
    *router.urls,
]
