"""Production settings: `manage.py check --deploy` passes, a missing SECRET_KEY stops start-up, and the log gets
the library's messages."""

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


PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "k3$" + "x7Qz!pL9" * 8,
    "DJANGO_ALLOWED_HOSTS": "tags.example.com",
}


def test_check_deploy_passes_in_production_mode():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_mode_requires_a_secret_key():
    result = manage("check", DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_the_log_gets_library_app_and_django_messages_once_in_production_mode():
    """Under gunicorn (DEBUG off) only `api` had a handler: `tubetags.*` INFO and Django's 500s were lost."""
    code = "; ".join(
        [
            "import logging",
            "logging.getLogger('tubetags.registry').info('loaded the library model')",
            "logging.getLogger('tubetags.registry').debug('library detail')",
            "logging.getLogger('api').info('served a request')",
            "logging.getLogger('django.request').error('Internal Server Error: /api/tags')",
        ]
    )
    result = manage("shell", "-c", code, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    for logger, message in [
        ("tubetags.registry", "loaded the library model"),
        ("api", "served a request"),
        ("django.request", "Internal Server Error: /api/tags"),
    ]:
        written = [line for line in lines if message in line]
        assert len(written) == 1 and f"] {logger}: {message}" in written[0], result.stderr
    assert "library detail" not in result.stderr  # TUBETAGS_LOG_LEVEL is INFO
