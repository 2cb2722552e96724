from lms.exceptions import ApplicationError


class CertificatesDisabled(ApplicationError):
    status_code = 409
    default_code = "certificates_disabled"
    default_message = "This course does not award certificates."


class EnrollmentNotEligible(ApplicationError):
    status_code = 409
    default_code = "enrollment_not_eligible"
    default_message = "Only an active or completed enrolment can receive a certificate."


class CertificateRevoked(ApplicationError):
    status_code = 409
    default_code = "certificate_revoked"
    default_message = "This certificate was revoked."


class CertificateNotReady(ApplicationError):
    status_code = 409
    default_code = "certificate_not_ready"
    default_message = "The certificate's PDF is being rendered; try again in a minute."


class DownloadLinkInvalid(ApplicationError):
    status_code = 404
    default_code = "download_link_invalid"
    default_message = "This download link is invalid or has expired."
