"""Liveness and readiness probes for load balancers and orchestrators (plain Django views:
no authentication, no throttling, no session)."""

import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_redis.exceptions import ConnectionInterrupted
from kombu import Connection
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

OK, UNAVAILABLE, SKIPPED = "ok", "unavailable", "skipped"


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    """The process answers: nothing else is checked."""
    return JsonResponse({"status": OK})


@require_GET
def floor(request: HttpRequest) -> JsonResponse:
    """The benchmark's floor (BENCH_FLOOR_VIEW): a small fixed JSON answer that passes
    through every middleware, like an API request, but does no work of its own."""
    return JsonResponse({"status": OK})


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    """503 unless the database, the cache and the broker all answer."""
    checks = {"database": _database(), "cache": _cache(), "broker": _broker()}
    is_ready = UNAVAILABLE not in checks.values()
    return JsonResponse(
        {"status": OK if is_ready else UNAVAILABLE, "checks": checks},
        status=200 if is_ready else 503,
    )


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        logger.warning("Readiness: database unavailable", exc_info=True)
        return UNAVAILABLE
    return OK


def _cache() -> str:
    probe = uuid.uuid4().hex
    try:
        cache.set("health:probe", probe, timeout=5)
        answered = cache.get("health:probe") == probe
    except (ConnectionInterrupted, RedisError, OSError):
        logger.warning("Readiness: cache unavailable", exc_info=True)
        return UNAVAILABLE
    return OK if answered else UNAVAILABLE


def _broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return SKIPPED  # tasks run in-process: there is no broker to reach
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as broker:
            broker.ensure_connection(max_retries=1, timeout=2)
    except (BrokerError, OSError):
        logger.warning("Readiness: broker unavailable", exc_info=True)
        return UNAVAILABLE
    return OK
