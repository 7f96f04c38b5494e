"""The real image: `make image` (scripts/build_image.sh) builds it with buildah, runs the tracking server and the
web app from it, and gets /api/health and one /api/tags answer from inside it.

Not in `make test` or CI: it needs root, buildah and ~12 GB of disk, downloads the lock (~2 GB) from PyPI, and
took 38 minutes here from nothing (docs/operations.md, "Container image"). Set TUBETAGS_IMAGE_TESTS=1 to run
it; it needs a registry with models:/tubetags@production (make demo). The static agreement of the Dockerfile,
compose.yaml and the app is in tests/code/test_deploy_manifests.py and runs everywhere.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("TUBETAGS_IMAGE_TESTS") != "1",
        reason="builds and runs the image (root, buildah, ~40 min): set TUBETAGS_IMAGE_TESTS=1, or run `make image`",
    ),
]


def test_make_image_builds_runs_and_answers():
    result = subprocess.run(
        [str(REPO / "scripts" / "build_image.sh")], cwd=REPO, capture_output=True, text=True, timeout=3 * 3600
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "HEALTHCHECK" in output and "answered after" in output
    assert "POST /api/tags: 200" in output
