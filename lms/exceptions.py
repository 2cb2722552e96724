"""One error shape for every API error: {"code": ..., "message": ..., "fields": {...}}."""

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings


class ApplicationError(Exception):
    """A failure the client can act on. Apps subclass it in errors.py with a stable code."""

    status_code = 400
    default_code = "error"
    default_message = "The request could not be completed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        fields: dict[str, list[str]] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.code = code or self.default_code
        self.status_code = status or self.status_code
        self.fields = fields or {}
        super().__init__(self.message)


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "fields": fields or {}}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER. Unknown exceptions are left alone: they become reported 500s."""
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404 | ObjectDoesNotExist):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    # Imported here: rest_framework.views loads the authentication classes from settings,
    # which import app modules that raise these errors (a cycle at import time).
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    response.data = _error_body_for(exc)
    return response


def _error_body_for(exc: exceptions.APIException) -> dict[str, Any]:
    detail = exc.detail
    if isinstance(exc, exceptions.ValidationError):
        fields = detail if isinstance(detail, dict) else {api_settings.NON_FIELD_ERRORS_KEY: detail}
        return error_body("invalid", "Invalid input.", fields)
    if isinstance(detail, dict):
        # simplejwt's token errors: {"detail": ..., "code": ..., "messages": [...]}
        message = str(detail.get("detail", exc.default_detail))
        code = str(detail.get("code", exc.default_code))
    elif isinstance(detail, list):
        message = " ".join(str(item) for item in detail)
        code = str(exc.default_code)
    else:
        message = str(detail)
        code = str(getattr(detail, "code", None) or exc.default_code)
    return error_body(code, message)


def _is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: the error shape under /api/, the site's 404 page elsewhere."""
    if _is_api_request(request):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return defaults.page_not_found(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler403: the error shape under /api/, the site's 403 page (with the reason) elsewhere."""
    if _is_api_request(request):
        message = str(exception) or "You do not have permission to perform this action."
        return JsonResponse(error_body("permission_denied", message), status=403)
    return defaults.permission_denied(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the error shape under /api/, the site's 500 page elsewhere."""
    if _is_api_request(request):
        return JsonResponse(error_body("server_error", "Internal server error."), status=500)
    return defaults.server_error(request)


class ErrorSerializer(serializers.Serializer):
    """The body of every error response (for the OpenAPI schema)."""

    code = serializers.CharField(help_text="Stable machine-readable error code.")
    message = serializers.CharField(help_text="Human-readable explanation.")
    fields = serializers.DictField(
        child=serializers.JSONField(),
        help_text=(
            "Per-field messages for validation errors: a list of strings per field, or for a "
            "nested object (e.g. `price`) an object of the same shape; empty otherwise."
        ),
    )


def error_responses(*statuses: int) -> dict[int, type[ErrorSerializer]]:
    """`responses=` entries documenting error statuses with the common shape."""
    return dict.fromkeys(statuses, ErrorSerializer)


def document_common_errors(result: dict, generator: object, request: object, public: bool) -> dict:
    """drf-spectacular postprocessing hook: add the error answers an operation can give by its
    kind alone, so the schema names every status the API sends (the API fuzzer checks it):
    401 wherever a token is read (a bad or revoked one) and 403 where a signed-in user is
    required (role, verified email, staff MFA); 400 where query parameters are validated;
    404 on paginated lists (a page past the end).
    """
    error = {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        "description": "",
    }
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            security = operation.get("security") or []
            query = {
                parameter["name"]
                for parameter in operation.get("parameters", [])
                if parameter.get("in") == "query"
            }
            statuses = []
            if any("jwtAuth" in scheme for scheme in security):
                statuses.append("401")
            if security and {} not in security:
                statuses += ["401", "403"]
            if query - {"format"}:
                statuses.append("400")
            if "page" in query:
                statuses.append("404")
            for status in statuses:
                operation["responses"].setdefault(status, dict(error))
            for parameter in operation.get("parameters", []):
                _allow_empty_filter(parameter)
    return result


def _allow_empty_filter(parameter: dict) -> None:
    """An empty query value means "no filter" (django-filter): say so in the choices."""
    if parameter.get("in") != "query":
        return
    schema = parameter.get("schema", {})
    choices = schema.get("enum") or schema.get("items", {}).get("enum")
    if choices is not None and "" not in choices:
        choices.append("")
