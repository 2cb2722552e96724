import io
import sys
from types import SimpleNamespace

import pytest
from django.core.management import call_command

from accounts.management.commands import seed_demo
from accounts.management.commands.seed_demo import DEMO_PASSWORD
from accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_apps(tmp_path, monkeypatch):
    """install(name=demo source or None) -> make seed_demo see only these apps."""
    monkeypatch.syspath_prepend(str(tmp_path))
    installed = []

    def install(**apps):
        for name, demo_source in apps.items():
            package = tmp_path / name
            package.mkdir()
            (package / "__init__.py").write_text("")
            if demo_source is not None:
                (package / "demo.py").write_text(demo_source)
            installed.append(name)
        registry = SimpleNamespace(
            get_app_configs=lambda: [SimpleNamespace(name=name) for name in installed]
        )
        monkeypatch.setattr(seed_demo, "apps", registry)

    yield install
    for name in installed:
        sys.modules.pop(f"{name}.demo", None)
        sys.modules.pop(name, None)


def test_seed_demo_creates_the_documented_logins():
    call_command("seed_demo", stdout=io.StringIO())

    admin = User.objects.get(email="admin@example.com")
    assert admin.is_superuser
    assert admin.is_staff
    assert admin.check_password(DEMO_PASSWORD)
    assert User.objects.get(email="instructor@example.com").role == User.Role.INSTRUCTOR
    assert User.objects.filter(role=User.Role.STUDENT).count() == 2


def test_seed_demo_can_run_again():
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())

    assert User.objects.count() == 4


def test_seed_demo_runs_each_apps_demo_seed_in_app_order(fake_apps):
    seed = "def seed(*, stdout):\n    stdout.write('seeded ' + __name__)\n"
    fake_apps(demo_first_app=seed, demo_plain_app=None, demo_second_app=seed)
    stdout = io.StringIO()

    call_command("seed_demo", stdout=stdout)

    seeded = [line for line in stdout.getvalue().splitlines() if line.startswith("seeded")]
    assert seeded == ["seeded demo_first_app.demo", "seeded demo_second_app.demo"]


def test_seed_demo_app_seeds_run_after_the_users_exist(fake_apps):
    fake_apps(
        demo_users_app=(
            "from accounts.models import User\n"
            "def seed(*, stdout):\n"
            "    stdout.write(f'users {User.objects.count()}')\n"
        )
    )
    stdout = io.StringIO()

    call_command("seed_demo", stdout=stdout)

    assert stdout.getvalue().splitlines()[-1] == "users 4"


def test_seed_demo_reports_a_demo_module_that_fails_to_import(fake_apps):
    fake_apps(demo_broken_app="import demo_missing_dependency\n")

    with pytest.raises(ModuleNotFoundError, match="demo_missing_dependency"):
        call_command("seed_demo", stdout=io.StringIO())

    assert not User.objects.exists()


def test_seed_demo_users_have_verified_emails():
    call_command("seed_demo", stdout=io.StringIO())

    assert not User.objects.filter(email_verified_at__isnull=True).exists()
