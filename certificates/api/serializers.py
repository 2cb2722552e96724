from datetime import date
from typing import Literal

from django.utils import timezone
from rest_framework import serializers

from certificates.models import Certificate
from certificates.rendering import verification_url
from courses.models import Course


class CertificateCourseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Course
        fields = ["id", "slug", "title"]
        read_only_fields = fields


class CertificateOutputSerializer(serializers.ModelSerializer):
    course = CertificateCourseSerializer()
    verification_url = serializers.SerializerMethodField(
        help_text="The public verification page (also the QR code's target)."
    )

    class Meta:
        model = Certificate
        fields = [
            "id",
            "enrollment",
            "course",
            "status",
            "source",
            "verification_code",
            "verification_url",
            "learner_name",
            "course_title",
            "instructor_names",
            "grade",
            "issued_at",
            "rendered_at",
            "revoked_at",
            "revoked_reason",
        ]
        read_only_fields = fields

    def get_verification_url(self, certificate: Certificate) -> str:
        return verification_url(certificate.verification_code)


class CertificateIssueInputSerializer(serializers.Serializer):
    grade = serializers.CharField(
        max_length=50,
        required=False,
        allow_blank=True,
        default="",
        help_text="Printed on the certificate, e.g. 'Distinction' or '92 %'.",
    )


class CertificateRevokeInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Kept with the certificate.")


class CertificateDownloadOutputSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="A signed link to the PDF; no authentication needed.")
    expires_at = serializers.DateTimeField()


class CertificateVerificationOutputSerializer(serializers.Serializer):
    """What anyone may learn from a verification code, and nothing more."""

    learner_name = serializers.CharField()
    course_title = serializers.CharField()
    issued_on = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()

    def get_issued_on(self, certificate: Certificate) -> date:
        return timezone.localdate(certificate.issued_at)

    def get_status(self, certificate: Certificate) -> Literal["valid", "revoked"]:
        return "revoked" if certificate.status == Certificate.Status.REVOKED else "valid"
