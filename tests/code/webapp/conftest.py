"""Django test set-up for the web app: webapp/ on sys.path, its settings, a tiny MLflow registry.

Works without any pytest.ini option: DJANGO_SETTINGS_MODULE is set here, before pytest-django's
session fixtures run.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

WEBAPP = Path(__file__).resolve().parents[3] / "webapp"
sys.path.insert(0, str(WEBAPP))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tiny_registry
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tubetags_site.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ["TUBETAGS_RATE_LIMIT"] = "off"  # tests that want a limit set one

import django  # noqa: E402

django.setup()

from jobs_support import clips, jobs_api, redis_url  # noqa: E402, F401  (the video jobs' fixtures)
from tiny_registry import build_registry  # noqa: E402


@pytest.fixture(scope="session")
def registry_uri(tmp_path_factory) -> str:
    """MLFLOW_TRACKING_URI of a registry with `tubetags` v1 @baseline and v2 @production."""
    return build_registry(tmp_path_factory.getbasetemp() / "webapp-registry")


@pytest.fixture
def api(registry_uri, settings, monkeypatch, tmp_path):
    """Django's test client against the tiny registry, with a fresh per-process model cache, empty
    in-memory caches (no prediction cached by an earlier test) and the monitor lines under tmp_path."""
    from django.test import Client

    from api import model_cache

    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry_uri)
    settings.RATELIMIT_ENABLE = False
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rate"},
        "predictions": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "predictions"},
    }
    from django.core.cache import caches

    for alias in ("default", "predictions"):
        caches[alias].clear()
    settings.TUBETAGS_MONITOR_DIR = str(tmp_path / "monitoring")
    model_cache.reset()
    yield Client()
    model_cache.reset()


@pytest.fixture
def fixed_rate_window(monkeypatch):
    """django-ratelimit counts in one-minute windows whose edge is a fixed second per client: an edge between a
    test's requests restarts the count (a 200 where the test expects its 429, now and then on a loaded machine).
    Pinned here, one window covers the whole test."""
    end = int(time.time()) + 60
    monkeypatch.setattr("django_ratelimit.core._get_window", lambda value, period: end)
