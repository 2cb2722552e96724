"""A URLconf for the error tests: the project's URLs plus views that raise what services raise."""

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import HttpRequest
from django.urls import include, path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request

from lms.exceptions import ApplicationError

handler404 = "lms.exceptions.page_not_found"
handler500 = "lms.exceptions.server_error"


class BoomError(Exception):
    pass


@api_view(["GET"])
@permission_classes([AllowAny])
def failing_api_view(request: Request):
    raise BoomError("unexpected failure")


def failing_page(request: HttpRequest):
    raise BoomError("unexpected failure")


class SeatsTaken(ApplicationError):
    status_code = 409
    default_code = "seats_taken"
    default_message = "No seat is left."


SERVICE_ERRORS = {
    "django-validation": ValidationError({"starts_at": ["Must be in the future."]}),
    "django-validation-plain": ValidationError("The course is not ready."),
    "does-not-exist": ObjectDoesNotExist(),
    "permission": PermissionDenied(),
    "conflict": SeatsTaken(),
}


@api_view(["POST"])
@permission_classes([AllowAny])
def raising_api_view(request: Request, kind: str):
    raise SERVICE_ERRORS[kind]


urlpatterns = [
    path("api/v1/boom/", failing_api_view),
    path("api/v1/raise/<str:kind>/", raising_api_view),
    path("boom/", failing_page),
    path("", include("lms.urls")),
]
