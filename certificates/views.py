"""The public certificate verification page (server-rendered, no sign-in needed)."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from rest_framework.request import Request

from certificates import selectors, services
from certificates.models import Certificate
from certificates.throttles import CertificateVerifyThrottle
from lms.exceptions import ApplicationError

TEMPLATE = "certificates/verify.html"


@require_GET
def certificate_verify_page(request: HttpRequest, code: str) -> HttpResponse:
    """Name, course, date and valid/revoked for a code; its learner also gets the PDF."""
    throttle = CertificateVerifyThrottle()
    if not throttle.allow_request(Request(request), None):
        response = render(request, TEMPLATE, {"throttled": True}, status=429)
        wait = throttle.wait()
        if wait is not None:
            response["Retry-After"] = str(max(1, round(wait)))
        return response
    try:
        certificate = selectors.certificate_get_verifiable(code=code)
    except Http404:
        return render(request, TEMPLATE, {"code": code}, status=404)
    download_path = None
    if request.user.is_authenticated and request.user.pk == certificate.user_id:
        try:
            download_path, _ = services.certificate_download_link(certificate=certificate)
        except ApplicationError:  # revoked, or the file is being rendered again
            download_path = None
    return render(
        request,
        TEMPLATE,
        {
            "certificate": certificate,
            "is_valid": certificate.status == Certificate.Status.ISSUED,
            "download_path": download_path,
        },
    )
