"""A URLconf for the 500 tests: the project's URLs plus views that fail."""

from django.http import HttpRequest
from django.urls import include, path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request

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


urlpatterns = [
    path("api/v1/boom/", failing_api_view),
    path("boom/", failing_page),
    path("", include("lms.urls")),
]
