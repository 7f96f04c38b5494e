#!/usr/bin/env bash
# Set up a fresh machine: system packages (when root), .venv with the locked dependencies.
# Idempotent; `make` calls it when requirements/lock.txt is newer than the venv.
set -euo pipefail
cd "$(dirname "$0")/.."

# whisper needs ffmpeg; tests use espeak-ng and chromium;
# postgresql: the tracking server's database (scripts/tracking_server.sh, tests/model/test_tracking_postgres.py)
# nginx: the proxy in front of gunicorn (make serve: scripts/serve.py, deploy/nginx/proxy.conf)
# openjdk-17-jre-headless: Apache Spark's JVM (batch_tag, build_corpus --engine spark, their tests)
SYSTEM_PACKAGES="ffmpeg espeak-ng chromium postgresql redis-server nginx openjdk-17-jre-headless"
missing=""
for pkg in $SYSTEM_PACKAGES; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing system packages:$missing"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "WARNING: missing system packages:$missing — install them with: sudo apt-get install -y$missing" >&2
    echo "         (the Whisper, speech, browser, PostgreSQL and Spark tests skip without them)" >&2
  fi
fi

# A .venv that is a symbolic link belongs to another checkout (a git worktree sharing one environment):
# installing into it would repoint its editable install here. Its owner sets it up.
if [ -L .venv ]; then
  echo "==> .venv links to $(readlink -f .venv): shared with another checkout, not reinstalled"
  touch .venv/.installed
  exit 0
fi

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
. .venv/bin/activate
echo "==> installing Python packages into .venv (first time: a few minutes)"
pip install -q "pip<25"
# torch first from the local CPU wheel: resolving plain `torch` pulls GBs of CUDA packages.
pip install -q "$(grep '^torch==' requirements/lock.txt)"
# The lock is the full tested freeze: --no-deps installs exactly it (and keeps whisper's triton out).
pip install -q --no-deps -r requirements/lock.txt
pip install -q --no-deps --no-build-isolation -e .
touch .venv/.installed
echo "==> setup done"
