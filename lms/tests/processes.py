"""Running Python in a fresh interpreter, the way gunicorn, a worker or manage.py start."""

import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run `python -c code` in the project directory with exactly this environment."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={"DJANGO_SETTINGS_MODULE": "lms.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
