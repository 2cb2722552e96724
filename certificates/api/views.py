import uuid

from django.db.models import QuerySet
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import IsAdmin
from certificates import selectors, services
from certificates.api.serializers import (
    CertificateDownloadOutputSerializer,
    CertificateIssueInputSerializer,
    CertificateOutputSerializer,
    CertificateRevokeInputSerializer,
    CertificateVerificationOutputSerializer,
)
from certificates.models import Certificate
from certificates.throttles import CertificateVerifyThrottle
from courses.selectors import user_can_manage_course
from enrollments.selectors import enrollment_get_visible
from lms.exceptions import error_responses


class EnrollmentCertificateIssueView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=CertificateIssueInputSerializer,
        responses={
            200: CertificateOutputSerializer,
            201: CertificateOutputSerializer,
            **error_responses(400, 401, 403, 404, 409),
        },
    )
    def post(self, request: Request, pk: uuid.UUID) -> Response:
        """Issue the enrolment's certificate (course instructors, admins); 200 if it has one."""
        enrollment = enrollment_get_visible(user=request.user, pk=pk)
        if not user_can_manage_course(user=request.user, course=enrollment.course):
            raise PermissionDenied("Only the course's instructors and admins issue certificates.")
        serializer = CertificateIssueInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        certificate, created = services.certificate_issue(
            enrollment=enrollment,
            source=Certificate.Source.STAFF,
            actor=request.user,
            **serializer.validated_data,
        )
        return Response(
            CertificateOutputSerializer(certificate).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class CertificateDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: CertificateOutputSerializer, **error_responses(401, 404)})
    def get(self, request: Request, pk: uuid.UUID) -> Response:
        """A certificate: the learner's own, or one of a course you teach."""
        certificate = selectors.certificate_get_visible(user=request.user, pk=pk)
        return Response(CertificateOutputSerializer(certificate).data)


class CertificateDownloadView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={200: CertificateDownloadOutputSerializer, **error_responses(401, 404, 409)}
    )
    def get(self, request: Request, pk: uuid.UUID) -> Response:
        """A signed, short-lived link to the PDF. 409 while it is rendered or once revoked."""
        certificate = selectors.certificate_get_visible(user=request.user, pk=pk)
        path, expires_at = services.certificate_download_link(certificate=certificate)
        return Response(
            CertificateDownloadOutputSerializer(
                {"url": request.build_absolute_uri(path), "expires_at": expires_at}
            ).data
        )


class IgnoreAcceptHeader(BaseContentNegotiation):
    """The PDF is not rendered by DRF, and errors are JSON whatever the client accepts."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class CertificateFileView(APIView):
    # The signature is the authorisation: the link works without a token or session.
    authentication_classes = []
    permission_classes = [AllowAny]
    content_negotiation_class = IgnoreAcceptHeader

    @extend_schema(
        auth=[],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **error_responses(404)},
    )
    def get(self, request: Request, token: str) -> FileResponse:
        """The certificate's PDF, through a link from `certificates/{id}/download/`."""
        certificate = services.certificate_get_for_download(token=token)
        response = FileResponse(
            certificate.pdf.open("rb"),
            as_attachment=True,
            filename=f"certificate-{certificate.verification_code}.pdf",
            content_type="application/pdf",
        )
        response["Cache-Control"] = "private, no-store"
        return response


class CertificateRevokeView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        request=CertificateRevokeInputSerializer,
        responses={200: CertificateOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, pk: uuid.UUID) -> Response:
        """Revoke a certificate with a reason (admins). Revoking again keeps the first reason."""
        certificate = selectors.certificate_get_visible(user=request.user, pk=pk)
        serializer = CertificateRevokeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        certificate = services.certificate_revoke(
            certificate=certificate, actor=request.user, **serializer.validated_data
        )
        certificate = selectors.certificate_get_visible(user=request.user, pk=certificate.pk)
        return Response(CertificateOutputSerializer(certificate).data)


class CertificateVerifyView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [CertificateVerifyThrottle]

    @extend_schema(
        auth=[],
        responses={200: CertificateVerificationOutputSerializer, **error_responses(404, 429)},
    )
    def get(self, request: Request, code: str) -> Response:
        """Check a certificate by its public code: name, course, date and valid or revoked."""
        certificate = selectors.certificate_get_verifiable(code=code)
        return Response(CertificateVerificationOutputSerializer(certificate).data)


class MyCertificatesView(generics.ListAPIView):
    """My certificates, newest first (pending while the PDF is rendered, revoked ones too)."""

    permission_classes = [IsAuthenticated]
    serializer_class = CertificateOutputSerializer

    def get_queryset(self) -> QuerySet[Certificate]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Certificate.objects.none()
        return selectors.certificate_list_for_learner(user=self.request.user)
