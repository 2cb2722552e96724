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

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH="/opt/venv/bin:${PATH}"

# The shared libraries and a font WeasyPrint needs to render certificate PDFs
# (Pango, its FreeType back end, HarfBuzz's subsetter for embedded fonts). Not pinned to
# exact versions: Debian drops superseded versions from the archive when a security update
# lands, so a pin would break the build; the base image tag fixes the Debian release.
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
    && mkdir -p /app/media \
    && chown lms:lms /app/media

USER 10001:10001

EXPOSE 8000

# Liveness only (the process answers); readiness, /health/ready, also checks PostgreSQL,
# Redis and the broker and belongs to the orchestrator. No curl in the slim image, so
# python's urllib; any HTTP error status raises and so fails the check. The Host header is
# the first DJANGO_ALLOWED_HOSTS entry (a leading '.' wildcard stripped), because Django
# answers 400 to a Host it does not allow, and production's list need not hold 127.0.0.1.
# /health/ is exempt from the HTTPS redirect (SECURE_REDIRECT_EXEMPT), so plain HTTP works.
# Worker, beat and migrate containers do not listen on 8000: compose.yaml disables or
# replaces this check for them.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; host = (os.environ.get('DJANGO_ALLOWED_HOSTS') or '127.0.0.1').split(',')[0].strip().lstrip('.') or '127.0.0.1'; r.urlopen(r.Request('http://127.0.0.1:8000/health/live', headers={'Host': host}), timeout=4)"]

# The shell form is used (sh -c) so that ${GUNICORN_WORKERS:-3} is expanded when the
# container starts, and `exec` then replaces the shell with gunicorn, so gunicorn is PID 1
# and receives SIGTERM for a graceful shutdown. GUNICORN_CMD_ARGS was not used because a
# value set at run time replaces the whole string, so tuning one option would silently drop
# the others. --worker-tmp-dir /dev/shm keeps the workers' heartbeat files off the overlay
# filesystem, where a slow fsync can make gunicorn kill a healthy worker.
CMD ["sh", "-c", "exec gunicorn lms.wsgi:application --bind 0.0.0.0:8000 --workers \"${GUNICORN_WORKERS:-3}\" --worker-tmp-dir /dev/shm --access-logfile -"]
