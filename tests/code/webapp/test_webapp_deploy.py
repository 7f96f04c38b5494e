"""Production settings: `manage.py check --deploy` passes, and a missing SECRET_KEY stops start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

WEBAPP = Path(__file__).resolve().parents[3] / "webapp"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TUBETAGS_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=WEBAPP,
        capture_output=True,
        text=True,
        env={**base, "DJANGO_SETTINGS_MODULE": "tubetags_site.settings", **env},
        timeout=120,
    )


def test_check_deploy_passes_in_production_mode():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="k3$" + "x7Qz!pL9" * 8,
        DJANGO_ALLOWED_HOSTS="tags.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_mode_requires_a_secret_key():
    result = manage("check", DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
