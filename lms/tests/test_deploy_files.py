"""Static checks of Dockerfile and compose.yaml (no Docker engine runs here or in CI)."""

import os
import re
import secrets

import pytest
import yaml
from django.conf import settings

from lms.tests.processes import BASE_DIR, run_python

WORKERS = ("worker", "worker-certificates", "worker-progress")
APP_SERVICES = ("migrate", "web", *WORKERS, "beat")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((BASE_DIR / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (BASE_DIR / "Dockerfile").read_text()


def interpolate(value: str, shell: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} substitution."""

    def substitute(match: re.Match) -> str:
        name, operator, operand = match.group(1), match.group(2), match.group(3)
        if shell.get(name):
            return shell[name]
        if operator == ":?":
            raise AssertionError(f"compose requires {name}: {operand}")
        return operand if operator == ":-" else ""

    return re.sub(r"\$\{(\w+)(:-|:\?)?([^}]*)\}", substitute, value)


def test_compose_runs_the_whole_stack(compose):
    services = compose["services"]

    assert set(services) == {"db", "redis", *APP_SERVICES}
    assert services["db"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")


@pytest.mark.parametrize("service", ["db", "redis", "web", *WORKERS])
def test_compose_services_have_health_checks(compose, service):
    assert compose["services"][service]["healthcheck"]["test"]


@pytest.mark.parametrize("service", ["web", *WORKERS, "beat"])
def test_compose_app_services_start_after_the_migrations(compose, service):
    depends_on = compose["services"][service]["depends_on"]

    assert depends_on["migrate"]["condition"] == "service_completed_successfully"
    assert depends_on["db"]["condition"] == "service_healthy"


def test_compose_workers_consume_every_queue_once(compose):
    queues = [
        queue
        for worker in WORKERS
        for queue in compose["services"][worker]["environment"]["CELERY_QUEUES"].split(",")
    ]

    assert sorted(queues) == sorted(queue.name for queue in settings.CELERY_TASK_QUEUES)


@pytest.mark.parametrize("service", WORKERS)
def test_compose_workers_take_their_queues_and_export_metrics(compose, service):
    worker = compose["services"][service]
    command = " ".join(worker["command"])
    environment = worker["environment"]

    assert '-Q "$$CELERY_QUEUES"' in command
    assert '-n "$$CELERY_WORKER_NAME@$$HOSTNAME"' in command
    assert environment["CELERY_WORKER_NAME"] in worker["healthcheck"]["test"][1].replace(
        "$$CELERY_WORKER_NAME", environment["CELERY_WORKER_NAME"]
    )
    assert environment["CELERY_METRICS_PORT"] == "9808"
    assert environment["DJANGO_ENV"] == "production"  # the shared settings came along


def test_compose_worker_names_are_distinct(compose):
    names = [compose["services"][worker]["environment"]["CELERY_WORKER_NAME"] for worker in WORKERS]

    assert len(set(names)) == len(names)


def test_compose_beat_uses_the_database_scheduler(compose):
    command = compose["services"]["beat"]["command"]

    assert command[command.index("--scheduler") + 1] == (
        "django_celery_beat.schedulers:DatabaseScheduler"
    )


@pytest.mark.parametrize("service", ["web", *WORKERS])
def test_compose_gives_each_process_fresh_metric_files(compose, dockerfile, service):
    directory = re.search(r"PROMETHEUS_MULTIPROC_DIR=(\S+)", dockerfile).group(1)

    mounts = [mount.split(":")[0] for mount in compose["services"][service]["tmpfs"]]

    assert directory in mounts


def test_compose_protects_the_metrics_endpoint_with_a_token(compose):
    assert "METRICS_TOKEN" in compose["services"]["web"]["environment"]


def test_compose_logs_json_lines(compose):
    assert compose["services"]["web"]["environment"]["LOG_FORMAT"] == "${LOG_FORMAT:-json}"


def test_compose_environment_passes_the_production_checks(compose):
    shell = {"DJANGO_SECRET_KEY": secrets.token_urlsafe(50)}
    environment = {
        name: interpolate(str(value), shell)
        for name, value in compose["services"]["web"]["environment"].items()
    }
    environment |= {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}

    result = run_python("import lms.settings", environment)

    assert environment["DJANGO_ENV"] == "production"
    assert result.returncode == 0, result.stderr


def test_dockerfile_is_multi_stage_and_runs_as_a_non_root_user(dockerfile):
    assert len(re.findall(r"^FROM ", dockerfile, re.MULTILINE)) >= 2
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users
    assert users[-1].split(":")[0] not in ("root", "0")


def test_dockerfile_installs_weasyprints_libraries_and_serves_with_gunicorn(dockerfile):
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0"):
        assert package in dockerfile
    assert "HEALTHCHECK" in dockerfile
    assert (
        'CMD ["gunicorn", "--config", "python:lms.gunicorn_conf", "lms.wsgi:application"]'
        in dockerfile
    )


def test_gunicorn_writes_no_access_log_of_its_own_and_cleans_metric_files(tmp_path, monkeypatch):
    from lms import gunicorn_conf

    (tmp_path / "counter_1.db").write_bytes(b"stale")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    gunicorn_conf.on_starting(server=None)

    assert gunicorn_conf.accesslog is None  # query strings can hold tokens
    assert gunicorn_conf.bind == "0.0.0.0:8000"
    assert list(tmp_path.iterdir()) == []


def test_dockerfile_sets_the_metrics_directory_and_release(dockerfile):
    assert "PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus-multiproc" in dockerfile
    assert "SENTRY_RELEASE=${LMS_RELEASE}" in dockerfile
