#!/usr/bin/env bash
# MLflow tracking server + model registry on PostgreSQL, artifacts served (proxied) by the server.
#
#   scripts/tracking_server.sh [extra `mlflow server` options]      (what `make tracking-server` runs)
#
# Clients then use MLFLOW_TRACKING_URI=http://127.0.0.1:5000; run artifacts and models are uploaded
# to and downloaded from the server (mlflow-artifacts:/), so a client needs no access to its disk.
#
# Database: TUBETAGS_POSTGRES_URI=postgresql://USER:PASSWORD@HOST:PORT/DB uses an existing database
# (driver psycopg2: a bare postgresql:// is read as postgresql+psycopg2://).
# Without it a private local cluster is created once under TUBETAGS_POSTGRES_DIR (mlruns/postgres)
# with Debian's postgresql (scripts/setup.sh installs it), started on 127.0.0.1:TUBETAGS_POSTGRES_PORT
# (5433, beside any system PostgreSQL on 5432) and stopped again when the server stops.
#
# Environment: TRACKING_HOST (127.0.0.1), TRACKING_PORT (5000), TRACKING_WORKERS (2),
# TUBETAGS_ARTIFACTS_DIR (mlruns/server-artifacts). Serving other hosts (TRACKING_HOST=0.0.0.0) also
# needs their Host header allowed: pass e.g. `--allowed-hosts mlflow.example.com:5000` as an argument.
# The embedded default stays sqlite (mlruns/mlflow.db); this server is for a shared or longer-lived store.
set -euo pipefail
cd "$(dirname "$0")/.."

TRACKING_HOST=${TRACKING_HOST:-127.0.0.1}
TRACKING_PORT=${TRACKING_PORT:-5000}
TRACKING_WORKERS=${TRACKING_WORKERS:-2}
ARTIFACTS_DIR=$(realpath -m "${TUBETAGS_ARTIFACTS_DIR:-mlruns/server-artifacts}")
PGDIR=$(realpath -m "${TUBETAGS_POSTGRES_DIR:-mlruns/postgres}")
PGPORT=${TUBETAGS_POSTGRES_PORT:-5433}
PGUSER_NAME=mlflow  # database superuser and database name of the local cluster
PASSWORD_FILE="$PGDIR.password"  # beside the cluster (not inside: that folder belongs to the db user)

pg_bindir() {
  # Debian keeps initdb/pg_ctl out of PATH, in /usr/lib/postgresql/<major>/bin.
  # A pg_ctl on PATH may be a symlink into that folder: resolve it to find createdb beside it.
  if command -v pg_ctl >/dev/null; then dirname "$(readlink -f "$(command -v pg_ctl)")"; return; fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# PostgreSQL refuses to run as root: as root the cluster belongs to the `postgres` user (created by
# Debian's package), or `nobody`; otherwise to the user running this script.
as_db_user() {
  if [ "$(id -u)" = 0 ]; then
    local user=postgres
    id -u "$user" >/dev/null 2>&1 || user=nobody
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

start_local_cluster() {
  local bindir
  bindir=$(pg_bindir)
  if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    echo "PostgreSQL binaries not found: run scripts/setup.sh as root (installs Debian's postgresql)," >&2
    echo "or set TUBETAGS_POSTGRES_URI=postgresql://USER:PASSWORD@HOST:PORT/DB to use an existing database." >&2
    exit 1
  fi
  mkdir -p "$(dirname "$PGDIR")"
  if ! as_db_user test -x "$(dirname "$PGDIR")"; then
    # e.g. a checkout under /root (mode 700): the postgres user cannot reach the cluster there.
    echo "The database user cannot enter $(dirname "$PGDIR"): set TUBETAGS_POSTGRES_DIR to a folder it can" >&2
    echo "reach (e.g. /var/lib/tubetags/postgres), or TUBETAGS_POSTGRES_URI to an existing database." >&2
    exit 1
  fi
  if [ ! -s "$PGDIR/PG_VERSION" ]; then
    echo "==> initialising a PostgreSQL cluster in $PGDIR"
    mkdir -p "$PGDIR"
    chmod 700 "$PGDIR"
    if [ "$(id -u)" = 0 ]; then chown "$(as_db_user id -u)" "$PGDIR"; fi
    # A random password, kept beside the cluster (mode 600) so later starts can read it.
    (umask 077 && head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$PASSWORD_FILE")
    # scram on TCP; no Unix socket at all (its default directory needs root to create), so local
    # clients use 127.0.0.1 with the password like remote ones.
    # initdb reads it from a file the database user can read: a private temporary copy.
    local pwfile
    pwfile=$(mktemp)
    cp "$PASSWORD_FILE" "$pwfile"
    if [ "$(id -u)" = 0 ]; then chown "$(as_db_user id -u)" "$pwfile"; fi
    as_db_user "$bindir/initdb" -D "$PGDIR" -U "$PGUSER_NAME" --pwfile="$pwfile" \
      --auth-host=scram-sha-256 --auth-local=scram-sha-256 -E UTF8 >/dev/null
    rm -f "$pwfile"
    printf "listen_addresses = '127.0.0.1'\nunix_socket_directories = ''\n" | as_db_user tee -a "$PGDIR/postgresql.conf" >/dev/null
    CREATE_DB=1
  fi
  if as_db_user "$bindir/pg_ctl" -D "$PGDIR" status >/dev/null 2>&1; then
    echo "==> PostgreSQL already running in $PGDIR (left running on exit)"
  else
    as_db_user "$bindir/pg_ctl" -D "$PGDIR" -l "$PGDIR/server.log" -o "-p $PGPORT" -w start >/dev/null
    STOP_CLUSTER="$bindir/pg_ctl"
  fi
  local password
  password=$(cat "$PASSWORD_FILE")
  if [ "${CREATE_DB:-0}" = 1 ]; then
    PGPASSWORD=$password "$bindir/createdb" -h 127.0.0.1 -p "$PGPORT" -U "$PGUSER_NAME" "$PGUSER_NAME"
  fi
  DB_URI="postgresql+psycopg2://$PGUSER_NAME:$password@127.0.0.1:$PGPORT/$PGUSER_NAME"
}

SERVER_PID=""
STOP_CLUSTER=""
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ -n "$STOP_CLUSTER" ]; then
    echo "==> stopping PostgreSQL in $PGDIR"
    as_db_user "$STOP_CLUSTER" -D "$PGDIR" -m fast -w stop >/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -n "${TUBETAGS_POSTGRES_URI:-}" ]; then
  # SQLAlchemy 2.1 maps a bare postgresql:// to the psycopg (3) driver; the lock has psycopg2.
  DB_URI=${TUBETAGS_POSTGRES_URI/#postgresql:\/\//postgresql+psycopg2://}
else
  start_local_cluster
fi

mkdir -p "$ARTIFACTS_DIR"
echo "==> MLflow tracking server on http://$TRACKING_HOST:$TRACKING_PORT (store: PostgreSQL, artifacts: $ARTIFACTS_DIR)"
echo "    clients: export MLFLOW_TRACKING_URI=http://$TRACKING_HOST:$TRACKING_PORT"
# The store URI goes through the environment (the CLI reads MLFLOW_BACKEND_STORE_URI, same as
# --backend-store-uri) so that its password does not show in `ps`. The registry uses the same store.
# Run in the background and wait, so that a TERM/INT to this script stops the server and the cluster.
MLFLOW_BACKEND_STORE_URI=$DB_URI mlflow server \
  --serve-artifacts --artifacts-destination "$ARTIFACTS_DIR" \
  --host "$TRACKING_HOST" --port "$TRACKING_PORT" --workers "$TRACKING_WORKERS" "$@" &
SERVER_PID=$!
wait "$SERVER_PID"
