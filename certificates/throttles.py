"""The public verification endpoints' rate limit, per client IP."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class CertificateVerifyThrottle(SimpleRateThrottle):
    """Per client IP, for the verification API and page (codes are public, guessing is not)."""

    scope = "certificate_verify"

    def get_rate(self) -> str:
        return settings.CERTIFICATES_VERIFY_THROTTLE_RATE

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
