from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    """Certificate templates, issuing, PDF rendering and verification."""

    name = "certificates"
    verbose_name = "Certificates"
