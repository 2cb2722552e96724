from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    """Orders, coupons, Stripe checkout, webhooks, refunds, reconciliation."""

    name = "payments"
    verbose_name = "Payments"
