"""Settings for the LMS server: one module, configured by the environment.

The defaults are the embedded development set-up (SQLite, local-memory cache, eager Celery,
console mail, local media), so a fresh checkout runs with no services. Each variable switches
one part to the real service; DJANGO_ENV=production refuses to start with insecure values.
Every variable is documented in README.md and mirrored in .env.example.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    # Real environment variables always win over the file.
    env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in ("development", "production"):
    raise ImproperlyConfigured("DJANGO_ENV must be 'development' or 'production'.")
IS_PRODUCTION = DJANGO_ENV == "production"

# Only ever used outside production: production refuses to start with it.
DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"  # noqa: S105
MIN_SECRET_KEY_LENGTH = 50

DEBUG = env.bool("DJANGO_DEBUG", default=not IS_PRODUCTION)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS",
    default=[] if IS_PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"],
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# --- Applications -------------------------------------------------------------------------
INSTALLED_APPS = [
    # django.contrib.admin, with the site that asks staff for their second factor.
    "accounts.apps.LMSAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_celery_beat",
    "django_prometheus",
    "accounts",
    "courses",
    "enrollments",
    "assessments",
    "payments",
    "certificates",
    "webhooks",
]

MIDDLEWARE = [
    # Health probes and metrics scrapes are answered here, before the Host check (see there).
    "lms.observability.ProbeMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # X-Request-ID in and out, the request's context for logs and tasks, one access log line.
    "lms.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions (it reads the chosen language), before CommonMiddleware.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: request.user.is_verified() for sessions verified by a code.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "lms.urls"
WSGI_APPLICATION = "lms.wsgi.application"
ASGI_APPLICATION = "lms.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# django-prometheus' wrappers of the same back ends count queries, errors and their duration
# (swapped in at the end of this module, after the production checks read the engine).
PROMETHEUS_DATABASE_ENGINES = {
    "django.db.backends.postgresql": "django_prometheus.db.backends.postgresql",
    "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (also throttles and the access-token deny-list) --------------------------------
REDIS_URL = env.str("REDIS_URL", default="")


def redis_cache(location: str) -> dict:
    """The shared cache on Redis at `location` (also used by the resilience tests)."""
    return {
        # django-redis, wrapped by django-prometheus to count hits and misses.
        "BACKEND": "django_prometheus.cache.backends.redis.RedisCache",
        "LOCATION": location,
        "KEY_PREFIX": "lms",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            # Fail fast so an unreachable Redis shows up as an error, not a hung worker.
            "SOCKET_CONNECT_TIMEOUT": 2,
            "SOCKET_TIMEOUT": 2,
            # Degrade instead of failing while Redis is down: reads miss (cached pages
            # come from the database), writes are dropped, throttles and the token
            # deny-list fail open; /health/ready reports the cache as unavailable, and
            # everything recovers by itself when Redis answers again.
            "IGNORE_EXCEPTIONS": True,
        },
    }


if REDIS_URL:
    CACHES = {"default": redis_cache(REDIS_URL)}
else:
    CACHES = {"default": {"BACKEND": "django_prometheus.cache.backends.locmem.LocMemCache"}}
# Cache errors swallowed by IGNORE_EXCEPTIONS are still logged (django_redis.cache logger).
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# The benchmark's floor: /bench/floor, a trivial JSON view behind the whole middleware stack
# (the health probes are answered before it). Off unless the benchmark turns it on.
BENCH_FLOOR_VIEW = env.bool("BENCH_FLOOR_VIEW", default=False)

# Catalog pages and course outlines stay cached this long (seconds); writes invalidate them.
COURSES_CACHE_TTL = env.int("COURSES_CACHE_TTL", default=120)
# Largest accepted upload for course cover images and lesson attachments (bytes).
COURSES_MAX_UPLOAD_BYTES = env.int("COURSES_MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)

# --- Accounts and passwords ---------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The pages' sign-in (with the MFA step); the admin keeps its own login page.
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "enrollments:dashboard"
# Every password sign-in (API, admin, pages) goes through the lockout of this backend.
AUTHENTICATION_BACKENDS = ["accounts.backends.LockoutModelBackend"]
# Lockout: this many sign-in attempts in a row without a success lock the account (and an
# unknown address, so the answer never tells which exist) for ACCOUNTS_LOCKOUT_MINUTES.
# Wrong MFA codes count as attempts too.
ACCOUNTS_LOGIN_MAX_FAILURES = env.int("ACCOUNTS_LOGIN_MAX_FAILURES", default=5)
ACCOUNTS_LOCKOUT_MINUTES = env.int("ACCOUNTS_LOCKOUT_MINUTES", default=15)
# Lifetimes of the single-use tokens: verification link, reset link, MFA sign-in challenge.
ACCOUNTS_EMAIL_VERIFICATION_HOURS = env.int("ACCOUNTS_EMAIL_VERIFICATION_HOURS", default=24)
ACCOUNTS_PASSWORD_RESET_MINUTES = env.int("ACCOUNTS_PASSWORD_RESET_MINUTES", default=30)
ACCOUNTS_MFA_CHALLENGE_MINUTES = env.int("ACCOUNTS_MFA_CHALLENGE_MINUTES", default=10)
# Staff (admins and instructors) must sign in with two-factor authentication: in the admin,
# and for the API endpoints guarded by accounts.api.permissions.MfaRequiredForStaff.
MFA_REQUIRED_FOR_STAFF = env.bool("MFA_REQUIRED_FOR_STAFF", default=False)
# django-otp: the issuer shown in authenticator apps, and its back-off after wrong codes
# (1, 2, 4, 8 ... seconds times the factor; 0 would turn it off and fails `check --deploy`).
OTP_TOTP_ISSUER = env.str("SITE_NAME", default="LMS")
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
# Enrolling and buying need a verified email address (off in development by default).
ACCOUNTS_REQUIRE_VERIFIED_EMAIL = env.bool("ACCOUNTS_REQUIRE_VERIFIED_EMAIL", default=IS_PRODUCTION)

# --- Certificates -------------------------------------------------------------------------
# Seconds a signed certificate download link stays valid.
CERTIFICATES_DOWNLOAD_LINK_MAX_AGE = env.int("CERTIFICATES_DOWNLOAD_LINK_MAX_AGE", default=300)
# Public verification (API and page), per client IP.
CERTIFICATES_VERIFY_THROTTLE_RATE = env.str("CERTIFICATES_VERIFY_THROTTLE_RATE", default="30/min")

# --- Internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
# The pages negotiate the language (Accept-Language, or the set_language form's cookie) among
# these; strings are marked for translation and English is shipped.
LANGUAGES = [("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

# --- Static and media files ---------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Files that are never served from a public URL (assignment submissions): outside MEDIA_ROOT,
# downloaded only through short-lived signed links (lms/uploads.py).
PRIVATE_MEDIA_ROOT = env.path("PRIVATE_MEDIA_ROOT", default=BASE_DIR / "private-media")
# local: the file system; s3: S3 or an S3-compatible service (django-storages), where every
# download link is presigned and expires after UPLOADS_SIGNED_URL_SECONDS.
STORAGE_BACKEND = env.str("STORAGE_BACKEND", default="local")
if STORAGE_BACKEND not in ("local", "s3"):
    raise ImproperlyConfigured("STORAGE_BACKEND must be 'local' or 's3'.")
# Downloads of private files (and lesson attachments) expire this many seconds after the link.
UPLOADS_SIGNED_URL_SECONDS = env.int("UPLOADS_SIGNED_URL_SECONDS", default=300)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if IS_PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
if STORAGE_BACKEND == "s3":
    # Credentials come from boto3's usual chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
    # an instance role, ... Objects are private; URLs are presigned.
    _S3_OPTIONS = {
        "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
        "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
        "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": UPLOADS_SIGNED_URL_SECONDS,
        "file_overwrite": False,
        "signature_version": "s3v4",
    }
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {**_S3_OPTIONS, "location": "media"},
    }
    STORAGES["private"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {**_S3_OPTIONS, "location": "private"},
    }
# Uploads (lms/uploads.py validates every one): the largest file and the extensions an
# assignment may accept (each assignment narrows both), files per submission.
UPLOADS_MAX_BYTES = env.int("UPLOADS_MAX_BYTES", default=10 * 1024 * 1024)
UPLOADS_ALLOWED_EXTENSIONS = env.list(
    "UPLOADS_ALLOWED_EXTENSIONS",
    default=["pdf", "docx", "xlsx", "pptx", "odt", "txt", "md", "csv", "zip", "png", "jpg", "jpeg"],
)
ASSESSMENTS_MAX_FILES_PER_SUBMISSION = env.int("ASSESSMENTS_MAX_FILES_PER_SUBMISSION", default=5)

# --- Email --------------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="LMS <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Absolute links in emails and certificates point here.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env.str("SITE_NAME", default="LMS")

# --- Payments -----------------------------------------------------------------------------
# The provider checkout uses (a name in payments.providers.PROVIDER_CLASSES).
PAYMENTS_PROVIDER = env.str("PAYMENTS_PROVIDER", default="stripe")
# Without a secret key, checkout answers 503 payments_unavailable; free enrolment still works.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
# Signs the webhooks Stripe sends to /api/v1/payments/webhooks/stripe/ (whsec_...).
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# Where Stripe sends the buyer back. {ORDER_ID} and {COURSE_SLUG} are filled in at checkout,
# {CHECKOUT_SESSION_ID} by Stripe. By default the order page, which shows the payment's outcome.
STRIPE_SUCCESS_URL = env.str("STRIPE_SUCCESS_URL", default=f"{SITE_URL}/orders/{{ORDER_ID}}/")
STRIPE_CANCEL_URL = env.str(
    "STRIPE_CANCEL_URL", default=f"{SITE_URL}/orders/{{ORDER_ID}}/?checkout=cancelled"
)
# Stripe's API, or a fake one for tests, staging and local development.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com")
# How long a checkout page stays open (Stripe accepts 30 to 1440 minutes).
PAYMENTS_CHECKOUT_MINUTES = env.int("PAYMENTS_CHECKOUT_MINUTES", default=60)

# --- Django REST Framework ----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # JWT first, so an anonymous API call answers 401 with WWW-Authenticate.
        "accounts.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.api.permissions.MfaRequiredForStaff",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "lms.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        # DRF's, minus its second count of anonymous requests (see lms/throttles.py).
        "lms.throttles.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON_RATE", default="100/min"),
        "user": env.str("THROTTLE_USER_RATE", default="1000/min"),
        "auth": env.str("THROTTLE_AUTH_RATE", default="60/min"),
        "uploads": env.str("THROTTLE_UPLOADS_RATE", default="100/hour"),
    },
    # Proxies in front of the app whose X-Forwarded-For is trusted for the client IP. 0 uses
    # the connection's address, so a client cannot dodge the throttles by forging the header.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "EXCEPTION_HANDLER": "lms.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_TOKEN_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_TOKEN_DAYS", default=30)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    # Tokens carry a hash of the password hash: a password change or reset ends every
    # session at once, access tokens included.
    "CHECK_REVOKE_TOKEN": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "LMS API",
    "DESCRIPTION": (
        "REST API of the LMS server. Authenticate with `POST /api/v1/auth/token/` and send "
        "`Authorization: Bearer <access>`. Every error has the body "
        '`{"code": "...", "message": "...", "fields": {...}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "lms.exceptions.document_common_errors",
    ],
    "ENUM_NAME_OVERRIDES": {
        "CourseStatusEnum": "courses.models.Course.Status",
        "EnrollmentStatusEnum": "enrollments.models.Enrollment.Status",
        "AttemptStatusEnum": "assessments.models.Attempt.Status",
        "SubmissionStatusEnum": "assessments.models.Submission.Status",
        "QuestionKindEnum": "assessments.models.Question.Kind",
        "OrderStatusEnum": "payments.models.Order.Status",
        "CouponKindEnum": "payments.models.Coupon.Kind",
        # Lessons keep the name they had before coupons brought a second `kind`.
        "KindEnum": "courses.models.Lesson.Kind",
        "WebhookEventResultEnum": "payments.models.WebhookEvent.Result",
        "WebhookEventTypeEnum": "lms.events.EVENT_TYPES",
        "WebhookDeliveryStatusEnum": "webhooks.models.WebhookDelivery.Status",
        "WebhookAttemptOutcomeEnum": "webhooks.models.WebhookAttempt.Outcome",
        "CertificateStatusEnum": "certificates.models.Certificate.Status",
        "CertificateSourceEnum": "certificates.models.Certificate.Source",
        "EnrollmentSourceEnum": "enrollments.models.Enrollment.Source",
    },
}

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"

# --- Celery -------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="memory://")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not IS_PRODUCTION)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_IMPORTS = ["lms.mail"]
CELERY_TASK_DEFAULT_QUEUE = "default"
# One direct exchange per queue, bound by the queue's name, which CELERY_TASK_ROUTES uses.
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name), routing_key=name)
    for name in ("emails", "certificates", "progress", "webhooks", "default")
]
CELERY_TASK_ROUTES = {
    "lms.mail.*": {"queue": "emails"},
    "certificates.tasks.*": {"queue": "certificates"},
    # Mail work, though the certificates app owns it (exact names win over the patterns).
    "certificates.tasks.weekly_digest_send_task": {"queue": "emails"},
    "enrollments.tasks.*": {"queue": "progress"},
    "webhooks.tasks.*": {"queue": "webhooks"},
}
# A task is acknowledged only after it ran, and a killed worker hands it back to the broker.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
# Longer than the longest task, so Redis does not redeliver a task that is still running.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    # At :07, :22, :37 and :52 (every 15 minutes, off the quarter hours): expire pending orders
    # whose checkout page has closed, asking the provider about each one first.
    "expire-stale-orders": {
        "task": "payments.tasks.orders_expire_stale_task",
        "schedule": crontab(minute="7,22,37,52"),
    },
    # 03:17 UTC daily: a quiet hour, off the top of the hour when other jobs pile up.
    "flush-expired-tokens": {
        "task": "accounts.tasks.flush_expired_tokens_task",
        "schedule": crontab(hour="3", minute="17"),
    },
    # Every minute: webhook retries whose back-off has passed, and any delivery whose task
    # was lost (broker down at commit time, worker killed), are sent.
    "webhooks-dispatch-due": {
        "task": "webhooks.tasks.webhook_deliveries_dispatch_due_task",
        "schedule": crontab(minute="*"),
    },
    # Every minute: quiz attempts past their deadline are graded and closed within a minute
    # even when the learner never submits (what was saved before the deadline counts).
    "close-expired-quiz-attempts": {
        "task": "assessments.tasks.attempt_close_expired_task",
        "schedule": crontab(minute="*"),
    },
    # Every 15 minutes (:04, :19, :34, :49, clear of the order job): certificates still pending
    # after every render retry are rendered again, and completions whose certificate was never
    # created get one.
    "retry-pending-certificates": {
        "task": "certificates.tasks.certificates_retry_pending_task",
        "schedule": crontab(minute="4,19,34,49"),
    },
    # Mondays 07:30 UTC: the weekly progress digest, in learners' inboxes by the start of the
    # working week in Europe and Africa (and Sunday evening in the Americas).
    "send-weekly-digest": {
        "task": "certificates.tasks.weekly_digest_send_task",
        "schedule": crontab(day_of_week="mon", hour="7", minute="30"),
    },
}

# A Celery worker serves its metrics on this port (0: off); see lms/metrics.py.
CELERY_METRICS_PORT = env.int("CELERY_METRICS_PORT", default=0)

# --- Outgoing webhooks --------------------------------------------------------------------
# http:// URLs and loopback/private addresses as receivers: development and tests only
# (production refuses to start with it).
WEBHOOKS_ALLOW_INSECURE_URLS = env.bool("WEBHOOKS_ALLOW_INSECURE_URLS", default=not IS_PRODUCTION)
# Seconds a receiver has to answer one delivery attempt.
WEBHOOKS_TIMEOUT_SECONDS = env.float("WEBHOOKS_TIMEOUT_SECONDS", default=10.0)
# Failed deliveries (5xx, timeouts, connection errors) are retried with exponential back-off
# and jitter for this long after they were queued, then given up.
WEBHOOKS_RETRY_WINDOW_HOURS = env.int("WEBHOOKS_RETRY_WINDOW_HOURS", default=24)

# --- Metrics (Prometheus) -----------------------------------------------------------------
# /metrics answers a scraper that sends `Authorization: Bearer <METRICS_TOKEN>` or connects
# from one of METRICS_ALLOWED_IPS (addresses or CIDR networks). With neither set it is open
# in development and closed (403) in production.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])

# --- Logging ------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# json: one JSON object per line (production default), plain: readable text (development).
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if IS_PRODUCTION else "plain")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured("LOG_FORMAT must be 'json' or 'plain'.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "lms.logs.ContextFilter"}},
    "formatters": {
        "plain": {"()": "lms.logs.PlainFormatter"},
        "json": {"()": "lms.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # RequestIdMiddleware logs every request once (lms.request): runserver's own line
        # would repeat it.
        "django.server": {"level": "WARNING"},
    },
}

# --- Sentry (off unless SENTRY_DSN is set) -------------------------------------------------
# Django, Celery and Redis integrations; no personal data; secrets scrubbed (lms/sentry.py).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default=DJANGO_ENV)
# The deployed version (e.g. the git commit), so errors are grouped by release.
SENTRY_RELEASE = env.str("SENTRY_RELEASE", default="")
if SENTRY_DSN:
    from lms.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        release=SENTRY_RELEASE,
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

# --- Security -----------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Browser sessions (pages and admin) end after this many seconds; login rotates the key.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 24 * 14)
# The pages load scripts, styles, fonts and images from this site only and cannot be framed.
# The API docs relax it for their inline start-up code (lms/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        # A template may allow one inline block with nonce="{{ request.csp_nonce }}".
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
if IS_PRODUCTION:
    # TLS ends at the proxy in front of the app, which sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^health/"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)


def insecure_production_settings() -> list[str]:
    """Name each setting that makes this production configuration unsafe to run."""
    problems = []
    if DEBUG:
        problems.append("DJANGO_DEBUG must be false in production.")
    if "DJANGO_SECRET_KEY" not in env:
        problems.append("DJANGO_SECRET_KEY must be set in production.")
    elif SECRET_KEY == DEVELOPMENT_SECRET_KEY or SECRET_KEY.startswith("django-insecure"):
        problems.append("DJANGO_SECRET_KEY must not be the development default.")
    elif len(SECRET_KEY) < MIN_SECRET_KEY_LENGTH or len(set(SECRET_KEY)) < 5:
        problems.append(
            f"DJANGO_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} random characters."
        )
    if not ALLOWED_HOSTS:
        problems.append("DJANGO_ALLOWED_HOSTS must list the site's host names in production.")
    elif "*" in ALLOWED_HOSTS:
        problems.append("DJANGO_ALLOWED_HOSTS must not contain '*' in production.")
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        problems.append("DATABASE_URL must point at PostgreSQL in production, not SQLite.")
    if not REDIS_URL:
        problems.append("REDIS_URL must be set in production (cache, throttles, token deny-list).")
    if CELERY_TASK_ALWAYS_EAGER:
        problems.append("CELERY_TASK_ALWAYS_EAGER must be false in production.")
    if CELERY_BROKER_URL.startswith("memory://"):
        problems.append("CELERY_BROKER_URL must point at the Redis broker in production.")
    if STRIPE_SECRET_KEY and not STRIPE_WEBHOOK_SECRET:
        problems.append(
            "STRIPE_WEBHOOK_SECRET must be set with STRIPE_SECRET_KEY (payments are confirmed "
            "by its signed webhooks)."
        )
    if STRIPE_SECRET_KEY and not STRIPE_API_BASE.startswith("https://"):
        problems.append("STRIPE_API_BASE must be an https:// URL in production.")
    if WEBHOOKS_ALLOW_INSECURE_URLS:
        problems.append(
            "WEBHOOKS_ALLOW_INSECURE_URLS must be false in production (webhooks may only reach "
            "public https URLs)."
        )
    return problems


if IS_PRODUCTION and (_problems := insecure_production_settings()):
    raise ImproperlyConfigured(
        "Refusing to start with DJANGO_ENV=production:\n- " + "\n- ".join(_problems)
    )

# Checked above on the plain engine names; the instrumented wrappers behave the same.
DATABASES["default"]["ENGINE"] = PROMETHEUS_DATABASE_ENGINES.get(
    DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"]
)
