from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    """Orders, coupons, Stripe checkout, webhooks, refunds, reconciliation."""

    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from enrollments import hooks
        from payments.selectors import course_revenue

        # The course analytics gain a `revenue` section (one aggregate query).
        hooks.register_analytics_section("revenue", course_revenue, owner_only=True)
