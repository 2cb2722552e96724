from django.urls import path

from certificates.api import views

app_name = "certificates_api"

urlpatterns = [
    path(
        "enrollments/<uuid:pk>/certificate/",
        views.EnrollmentCertificateIssueView.as_view(),
        name="enrollment-certificate",
    ),
    # Before certificates/<uuid:pk>/...: fixed words, not ids.
    path(
        "certificates/verify/<str:code>/",
        views.CertificateVerifyView.as_view(),
        name="certificate-verify",
    ),
    path(
        "certificates/files/<str:token>/",
        views.CertificateFileView.as_view(),
        name="certificate-file",
    ),
    path("certificates/<uuid:pk>/", views.CertificateDetailView.as_view(), name="certificate"),
    path(
        "certificates/<uuid:pk>/download/",
        views.CertificateDownloadView.as_view(),
        name="certificate-download",
    ),
    path(
        "certificates/<uuid:pk>/revoke/",
        views.CertificateRevokeView.as_view(),
        name="certificate-revoke",
    ),
    path("me/certificates/", views.MyCertificatesView.as_view(), name="my-certificates"),
]
