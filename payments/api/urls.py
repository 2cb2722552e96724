from django.urls import path
from rest_framework.routers import SimpleRouter

from payments.api import views

app_name = "payments_api"

router = SimpleRouter()
router.register("coupons", views.CouponViewSet, basename="coupon")

urlpatterns = [
    path("courses/<str:pk>/checkout/", views.CourseCheckoutView.as_view(), name="course-checkout"),
    path("payments/webhooks/stripe/", views.StripeWebhookView.as_view(), name="stripe-webhook"),
    path("orders/<str:pk>/", views.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<str:pk>/refund/", views.OrderRefundView.as_view(), name="order-refund"),
    path("me/orders/", views.MyOrdersView.as_view(), name="my-orders"),
    *router.urls,
]
