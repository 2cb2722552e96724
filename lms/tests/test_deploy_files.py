"""Static checks of Dockerfile and compose.yaml (no Docker engine runs here or in CI)."""

import os
import re
import secrets

import pytest
import yaml
from django.conf import settings

from lms.tests.processes import BASE_DIR, run_python

APP_SERVICES = ("migrate", "web", "worker", "beat")


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


@pytest.mark.parametrize("service", ["db", "redis", "web", "worker"])
def test_compose_services_have_health_checks(compose, service):
    assert compose["services"][service]["healthcheck"]["test"]


@pytest.mark.parametrize("service", ["web", "worker", "beat"])
def test_compose_app_services_start_after_the_migrations(compose, service):
    depends_on = compose["services"][service]["depends_on"]

    assert depends_on["migrate"]["condition"] == "service_completed_successfully"
    assert depends_on["db"]["condition"] == "service_healthy"


def test_compose_worker_consumes_every_queue(compose):
    command = compose["services"]["worker"]["command"]
    queues = command[command.index("-Q") + 1].split(",")

    assert sorted(queues) == sorted(queue.name for queue in settings.CELERY_TASK_QUEUES)


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
    assert "gunicorn lms.wsgi:application" in dockerfile
