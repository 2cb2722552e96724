"""Request ids, the access log line, orchestrator probes and the /metrics endpoint."""

import hmac
import ipaddress
import logging
import re
import time
import uuid
from collections.abc import Callable

import sentry_sdk
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from lms import health, metrics
from lms.exceptions import error_body
from lms.logs import request_id_var, request_var

REQUEST_ID_HEADER = "X-Request-ID"
# What a client- or proxy-supplied id may look like: anything else is replaced, so the logs
# cannot be fed line breaks, markup or huge values.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

access_logger = logging.getLogger("lms.request")

Middleware = Callable[[HttpRequest], HttpResponse]


def request_id_for(supplied: str | None) -> str:
    """The client's X-Request-ID if it is well-formed, else a new one."""
    if supplied and VALID_REQUEST_ID.fullmatch(supplied):
        return supplied
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Gives every request an id (X-Request-ID in and out) and logs one line when it ends.

    The id and the request are kept in context variables for the log records written while
    the request runs, and for the Celery tasks it sends (lms/celery.py). The line names the
    method, path (never the query string, which may hold tokens), status and duration.
    """

    def __init__(self, get_response: Middleware) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_for(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        id_token = request_id_var.set(request_id)
        request_token = request_var.set(request)
        sentry_sdk.set_tag("request_id", request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            duration_ms = round((time.monotonic() - started) * 1000, 1)
            access_logger.info(
                "%s %s %s %sms",
                request.method,
                request.path,
                response.status_code,
                duration_ms,
                extra={
                    "method": request.method,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                },
            )
            return response
        finally:
            request_var.reset(request_token)
            request_id_var.reset(id_token)


def _client_address(request: HttpRequest) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return None


def metrics_access_allowed(request: HttpRequest) -> bool:
    """A bearer token or an allowed address opens /metrics; with neither configured it is
    open in development and closed in production."""
    token = settings.METRICS_TOKEN
    networks = settings.METRICS_ALLOWED_IPS
    if not token and not networks:
        return not settings.IS_PRODUCTION
    if token:
        scheme, _, supplied = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(supplied.encode(), token.encode()):
            return True
    address = _client_address(request)
    return address is not None and any(
        address in ipaddress.ip_network(network, strict=False) for network in networks
    )


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics of this server (all its worker processes) and the business gauges."""
    if not metrics_access_allowed(request):
        return JsonResponse(
            error_body("permission_denied", "Metrics need the scrape token or an allowed address."),
            status=403,
        )
    return HttpResponse(metrics.metrics_page(), content_type=CONTENT_TYPE_LATEST)


class ProbeMiddleware:
    """Answers health probes and metrics scrapes first, before the Host header is validated.

    Orchestrators probe and Prometheus scrapes a container by its IP address, which is not
    (and should not be) in ALLOWED_HOSTS, so Django would answer 400. This is safe because
    these views never use the Host header (no absolute URLs, redirects, cookies or
    sessions) and /metrics checks its own token or address allow-list. Being first, probes
    are also kept out of the access log and the request metrics. Every other path goes
    through the full middleware stack.
    """

    views: dict[str, Middleware] = {
        "/health/live": health.live,
        "/health/ready": health.ready,
        "/metrics": metrics_view,
    }

    def __init__(self, get_response: Middleware) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = self.views.get(request.path_info)
        if view is None:
            return self.get_response(request)
        response = view(request)
        response[REQUEST_ID_HEADER] = request_id_for(request.headers.get(REQUEST_ID_HEADER))
        return response
