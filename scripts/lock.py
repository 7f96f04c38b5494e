"""Refresh requirements/lock.txt from the working .venv and mirror it into environment.yml.

    python scripts/lock.py     (after changing requirements/base.in and installing it)
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    # --all: setuptools must be pinned too (<81: tensorflow_hub imports pkg_resources); pip pins itself.
    frozen = subprocess.run([sys.executable, "-m", "pip", "freeze", "--all", "--exclude-editable"],
                            check=True, capture_output=True, text=True).stdout.splitlines()
    pins = [line for line in frozen if line and not line.startswith(("-e", "#", "pip=="))]
    (ROOT / "requirements" / "lock.txt").write_text("\n".join(pins) + "\n")
    env = ["name: tubetags", "channels:", "  - conda-forge", "dependencies:", "  - python=3.11", "  - pip",
           "  - ffmpeg", "  - pip:", *[f"      - {p}" for p in pins]]
    (ROOT / "environment.yml").write_text("\n".join(env) + "\n")
    print(f"{len(pins)} pins written to requirements/lock.txt and environment.yml")


if __name__ == "__main__":
    main()
