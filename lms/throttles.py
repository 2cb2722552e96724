"""Throttles beyond DRF's anon/user pair. Rates live in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]."""

import ipaddress

from django.http import HttpRequest
from rest_framework import throttling
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle


class AuthRateThrottle(SimpleRateThrottle):
    """Per client IP on the authentication endpoints, whoever the caller claims to be."""

    scope = "auth"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserRateThrottle(throttling.UserRateThrottle):
    """DRF's per-user throttle for signed-in users only. DRF's own also counts anonymous
    requests, by IP against the looser user rate, which the anon throttle already limits:
    two more cache round trips on every anonymous request, for no stricter limit."""

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None  # the anon throttle's business
        return super().get_cache_key(request, view)


def client_ip(request: HttpRequest) -> str | None:
    """The client's IP address by the throttles' rule (NUM_PROXIES), or None if it is not one.

    Audit records use this, so they name the same address the throttles count against.
    """
    ident = BaseThrottle().get_ident(request)
    try:
        return str(ipaddress.ip_address(ident))
    except ValueError:
        return None
