#!/usr/bin/env bash
# Run a command (the web app) with what the video jobs need beside it on this machine: a Redis for the job queue
# and one RQ worker (api.jobs_worker.VideoWorker). Both stop when the command ends (Ctrl-C included).
#
#   scripts/with_jobs.sh COMMAND...          (what `make serve` runs around gunicorn)
#
# TUBETAGS_JOBS_REDIS_URL set: that Redis is used and nothing is started. Else a private redis-server on
# 127.0.0.1:TUBETAGS_JOBS_REDIS_PORT (6380, beside any system Redis on 6379), appending to TUBETAGS_JOBS_REDIS_DIR
# (data/jobs-redis/) so that queued jobs survive a restart, with no eviction (a queue must never lose a job).
# TUBETAGS_JOBS_WORKERS (1) workers.
set -euo pipefail
cd "$(dirname "$0")/.."

# DEBUG off (scripts/serve.py's default) needs a secret key, in the worker too: one for this run when none is set.
case "${DJANGO_DEBUG:-0}" in
  1|true|yes|on) ;;
  *) export DJANGO_SECRET_KEY="${DJANGO_SECRET_KEY:-$(python -c 'import secrets; print(secrets.token_urlsafe(50))')}" ;;
esac

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

if [ -z "${TUBETAGS_JOBS_REDIS_URL:-}" ]; then
  port=${TUBETAGS_JOBS_REDIS_PORT:-6380}
  export TUBETAGS_JOBS_REDIS_URL="redis://127.0.0.1:$port/0"
  if ! command -v redis-server >/dev/null; then
    echo "redis-server is missing (apt-get install redis-server): video jobs answer 503, the rest works" >&2
  elif redis-cli -p "$port" ping >/dev/null 2>&1; then
    echo "video jobs: using the Redis already on 127.0.0.1:$port" >&2
  else
    dir=$(realpath -m "${TUBETAGS_JOBS_REDIS_DIR:-data/jobs-redis}")
    mkdir -p "$dir"
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly yes \
      --maxmemory-policy noeviction --loglevel warning &
    pids+=($!)
    for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
fi

for _ in $(seq "${TUBETAGS_JOBS_WORKERS:-1}"); do
  (cd webapp && exec python manage.py rqworker --worker-class api.jobs_worker.VideoWorker videos) &
  pids+=($!)
done

"$@" &
pids+=($!)
wait "${pids[-1]}"
