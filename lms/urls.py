from csp.decorators import csp_update
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from accounts import views as account_pages
from certificates import views as certificate_pages
from courses import views as course_pages
from lms import health, observability

handler403 = "lms.exceptions.permission_denied"
handler404 = "lms.exceptions.page_not_found"
handler500 = "lms.exceptions.server_error"

# Each app's api/urls.py is a router with its own app_name, mounted at /api/v1/.
api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("courses.api.urls")),
    path("", include("enrollments.api.urls")),
    path("", include("assessments.api.urls")),
    path("", include("payments.api.urls")),
    path("", include("certificates.api.urls")),
    path("", include("webhooks.api.urls")),
]

# Swagger UI and ReDoc start with inline scripts and styles, and ReDoc runs a blob: worker.
API_DOCS_CSP = csp_update(
    {
        "script-src": ["'unsafe-inline'"],
        "style-src": ["'unsafe-inline'"],
        "worker-src": ["'self'", "blob:"],
    }
)

urlpatterns = [
    # Student pages: the catalog is the home page; each app's urls.py adds its pages.
    path("", course_pages.catalog, name="home"),
    path("courses/", RedirectView.as_view(pattern_name="home", query_string=True)),
    path("", include("courses.urls")),
    path("", include("enrollments.urls")),
    path("", include("assessments.urls")),
    path("accounts/", include("accounts.urls")),
    path("", include("payments.urls")),
    path(
        "certificates/verify/<str:code>/",
        certificate_pages.certificate_verify_page,
        name="certificate-verify",
    ),
    path("logout/", account_pages.logout_page, name="logout"),  # also accounts:logout
    path("i18n/", include("django.conf.urls.i18n")),  # set_language
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/docs/",
        API_DOCS_CSP(SpectacularSwaggerView.as_view(url_name="schema")),
        name="swagger-ui",
    ),
    path("api/redoc/", API_DOCS_CSP(SpectacularRedocView.as_view(url_name="schema")), name="redoc"),
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    # Also answered by lms.observability.ProbeMiddleware before the Host check.
    path("metrics", observability.metrics_view, name="metrics"),
]

if settings.BENCH_FLOOR_VIEW:
    urlpatterns.append(path("bench/floor", health.floor, name="bench-floor"))

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
