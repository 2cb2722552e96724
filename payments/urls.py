"""Buying pages: checkout from the course page, the order (return) page and my orders."""

from django.urls import path

from payments import views

app_name = "payments"

urlpatterns = [
    path("courses/<slug:slug>/buy/", views.checkout, name="checkout"),
    path("orders/", views.order_list, name="orders"),
    path("orders/<uuid:pk>/", views.order_detail, name="order"),
    path("orders/<uuid:pk>/pay/", views.pay, name="pay"),
]
