# The LMS server image: one image for every process type. The default command serves HTTP
# with gunicorn; compose.yaml (and any orchestrator) runs the same image as the migration job,
# the Celery worker and Celery beat by overriding the command.
#
#   docker build -t lms-server .
#   docker run --env-file .env -p 8000:8000 lms-server
#
# All configuration comes from the environment at run time (see lms/settings.py, README.md);
# nothing secret is baked into the image.

# --- Builder: the virtualenv with the runtime dependencies only ---------------------------
FROM python:3.11-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:${PATH}"

# Every pinned requirement ships a manylinux/abi3 or pure-Python wheel, so no compiler is
# needed here. requirements.txt is copied alone so the layer is reused until it changes.
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir -r /tmp/requirements.txt

# --- Runtime -------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS runtime

# The version being deployed (e.g. `--build-arg LMS_RELEASE=$(git rev-parse --short HEAD)`):
# Sentry groups errors by it.
ARG LMS_RELEASE=""

# PROMETHEUS_MULTIPROC_DIR: every gunicorn worker and Celery pool process writes its metric
# samples there, and /metrics (web) or the worker's exporter adds them up (lms/metrics.py).
# It is emptied when gunicorn or a worker starts; compose mounts a tmpfs on it.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH="/opt/venv/bin:${PATH}" \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus-multiproc \
    SENTRY_RELEASE=${LMS_RELEASE}

# The shared libraries and a font WeasyPrint needs to render certificate PDFs
# (Pango, its FreeType back end, HarfBuzz's subsetter for embedded fonts, without which a PDF
# takes about ten times longer; DejaVu covers Latin, Greek, Cyrillic, Arabic and Hebrew, so
# right-to-left names render). Not pinned to exact versions: Debian drops superseded
# versions from the archive when a security update lands, so a pin would break the build;
# the base image tag fixes the Debian release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz-subset0 \
        fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# A fixed, non-root uid/gid so volume permissions and runAsNonRoot policies are predictable.
RUN groupadd --system --gid 10001 lms \
    && useradd --system --uid 10001 --gid lms --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin lms

COPY --from=builder /opt/venv /opt/venv

WORKDIR /app
# The code stays owned by root (read-only to the app user); .dockerignore keeps the local
# virtualenv, database, media, .env and caches out of the build context.
COPY . /app

# Static files are collected into the image (STATIC_ROOT=/app/staticfiles) and served by
# WhiteNoise. DJANGO_ENV=production selects CompressedManifestStaticFilesStorage (hashed,
# pre-compressed files), and production settings refuse to load without these variables, so
# dummy-but-valid values are given on this RUN line only: they are not kept in the image's
# environment, and nothing is contacted (collectstatic opens no database or Redis connection).
# /app/media is MEDIA_ROOT's default; it is made owned by the app user so that a named volume
# mounted there starts writable for it (Docker copies the directory's ownership into a new
# volume).
RUN DJANGO_ENV=production \
    DJANGO_DEBUG=false \
    DJANGO_SECRET_KEY=build-only-7Qm2vXr9Lk4pTz8Wc1Nf6Hb3Jy5Ds0Ga-not-a-real-secret \
    DJANGO_ALLOWED_HOSTS=build.invalid \
    DATABASE_URL=postgres://build@localhost/build \
    REDIS_URL=redis://localhost:6379/0 \
    CELERY_BROKER_URL=redis://localhost:6379/1 \
    CELERY_TASK_ALWAYS_EAGER=false \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/media "${PROMETHEUS_MULTIPROC_DIR}" \
    && chown lms:lms /app/media "${PROMETHEUS_MULTIPROC_DIR}"

USER 10001:10001

# 8000: gunicorn (the API, pages, admin, /health/*, /metrics). 9808: a Celery worker's
# metrics exporter, when CELERY_METRICS_PORT=9808 (compose sets it for the workers).
EXPOSE 8000 9808

# Liveness only (the process answers); readiness, /health/ready, also checks PostgreSQL,
# Redis and the broker and belongs to the orchestrator. No curl in the slim image, so
# python's urllib; any HTTP error status raises and so fails the check. /health/* is answered
# before Django's Host check (lms.observability.ProbeMiddleware) and is exempt from the HTTPS
# redirect, so plain http://127.0.0.1 works whatever DJANGO_ALLOWED_HOSTS holds. Worker, beat
# and migrate containers do not listen on 8000: compose.yaml disables or replaces this check
# for them.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request as r; r.urlopen('http://127.0.0.1:8000/health/live', timeout=4)"]

# gunicorn is PID 1 (exec form), so it receives SIGTERM for a graceful shutdown. Its settings
# are in lms/gunicorn_conf.py: bind 0.0.0.0:8000, GUNICORN_WORKERS workers (default 3),
# heartbeat files in /dev/shm, and no access log of its own, because the application logs
# every request (JSON lines with the request id, and never the query string, which can carry
# tokens).
CMD ["gunicorn", "--config", "python:lms.gunicorn_conf", "lms.wsgi:application"]
