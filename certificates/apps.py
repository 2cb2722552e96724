import logging

from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    """Certificate templates, issuing, PDF rendering and verification; the weekly digest."""

    name = "certificates"
    verbose_name = "Certificates"

    def ready(self) -> None:
        from certificates import services
        from enrollments import hooks

        # A completed enrolment earns its certificate; a refunded one loses it.
        hooks.register_completion_callback(services.certificate_issue_on_completion)
        hooks.register_revocation_callback(services.certificate_revoke_on_refund)
        # WeasyPrint logs every rendering step at INFO; the workers' logs need only problems.
        logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
