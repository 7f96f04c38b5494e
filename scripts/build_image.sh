#!/usr/bin/env bash
# `make image`: build the web image from the Dockerfile without a Docker daemon, run it, and check that
# it serves a model from the registry. docs/operations.md ("Container image") has the figures.
#
# - buildah as root, --storage-driver vfs, --isolation chroot: no daemon, no overlay or user namespaces.
# - The base (the Dockerfile's PYTHON_IMAGE): a Debian bookworm root made with debootstrap from the
#   apt mirror this machine uses (python3 = 3.11, python3-venv), committed as $BASE_IMAGE. Made once;
#   delete it (buildah --storage-driver vfs rmi $BASE_IMAGE) to rebuild it. Base images are not pulled.
# - torch: the lock's torch==…+cpu from a local wheel folder ($TUBETAGS_WHEELS, mounted into the build)
#   when it holds that wheel, else from PyTorch's CPU index (the Dockerfile's default). The rest from PyPI,
#   verified with this machine's CA bundle (PIP_CERT, else /etc/ssl/certs/ca-certificates.crt).
# - The check, as compose.yaml runs the image: the MLflow tracking server (entry point `mlflow`) and the
#   image's own entry point and command (gunicorn) pointed at it, on the host network, over a scratch
#   copy of the sqlite store (below). Then, inside the image: its HEALTHCHECK command (/api/health = 200
#   once models:/tubetags@production is loaded) and one POST /api/tags.
#
# Environment: TUBETAGS_IMAGE (localhost/tubetags:local), TUBETAGS_BASE_IMAGE, DEBIAN_MIRROR (default:
# the first Debian URI in /etc/apt/sources.list*), TUBETAGS_WHEELS (/opt/wheels), PIP_CERT, MLFLOW_TRACKING_URI
# (sqlite:///<absolute path>/mlflow.db, the registry to serve; default mlruns/), TUBETAGS_IMAGE_CHECK=0
# (build only), TUBETAGS_IMAGE_BUILD=0 (check the existing image only), TUBETAGS_IMAGE_WAIT_S (600: how long
# each server may take to answer).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

IMAGE=${TUBETAGS_IMAGE:-localhost/tubetags:local}
BASE_IMAGE=${TUBETAGS_BASE_IMAGE:-localhost/tubetags-base:bookworm}
WHEELS=${TUBETAGS_WHEELS:-/opt/wheels}
TRACKING_URI=${MLFLOW_TRACKING_URI:-sqlite:///$REPO/mlruns/mlflow.db}
WAIT_S=${TUBETAGS_IMAGE_WAIT_S:-600}

die() { echo "build_image: $*" >&2; exit 1; }
bh() { buildah --storage-driver vfs "$@"; }

[ "$(id -u)" = 0 ] || die "run as root: buildah here uses the vfs driver and chroot isolation without user namespaces (sudo make image)"
command -v buildah >/dev/null || die "buildah is not installed: apt-get install -y buildah"

# ---------------------------------------------------------------- the base: debootstrap, once
debian_mirror() {
  local uri
  uri=$(grep -h -E '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -o -E 'https?://[^ ]+/debian/?' | head -n 1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

make_base() {
  command -v debootstrap >/dev/null || die "debootstrap is not installed: apt-get install -y debootstrap"
  local mirror=${DEBIAN_MIRROR:-$(debian_mirror)} ctr root
  echo "==> base $BASE_IMAGE: debootstrap bookworm from $mirror"
  ctr=$(bh from --name "tubetags-base-$$" scratch)
  root=$(bh mount "$ctr")
  # minbase: essential + apt; python3 (3.11) and its venv module; what the official python image also
  # carries for TLS, name resolution and time zones.
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates,netbase,tzdata \
    bookworm "$root" "$mirror" >/tmp/tubetags-debootstrap.log 2>&1 \
    || { bh umount "$ctr"; bh rm "$ctr" >/dev/null; die "debootstrap failed: see /tmp/tubetags-debootstrap.log"; }
  cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${mirror%/debian*}/debian-security bookworm-security main
EOF
  bh umount "$ctr" >/dev/null
  # Updates published since the release (the official image is rebuilt with them), then no apt lists.
  bh run --isolation chroot "$ctr" -- sh -c \
    'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -qq >/dev/null \
     && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/*.log'
  bh config --env LANG=C.UTF-8 --cmd python3 "$ctr"
  bh commit --quiet --rm "$ctr" "$BASE_IMAGE" >/dev/null
}

t0=$(date +%s)
if bh inspect --type image "$BASE_IMAGE" >/dev/null 2>&1; then
  echo "==> base $BASE_IMAGE: present (remove it to rebuild)"
  base_s=0
else
  make_base
  base_s=$(( $(date +%s) - t0 ))
  echo "==> base built in ${base_s}s: $(bh images --format '{{.Size}}' "$BASE_IMAGE" | head -n 1)"
fi

# ---------------------------------------------------------------- the image: the Dockerfile
build_args=(--build-arg "PYTHON_IMAGE=$BASE_IMAGE")
torch_pin=$(grep '^torch==' requirements/lock.txt)
torch_wheels=("$WHEELS"/torch-"${torch_pin#torch==}"-*.whl)
if [ -e "${torch_wheels[0]}" ]; then
  echo "==> torch: ${torch_wheels[0]} (mounted as /wheels), the rest from PyPI"
  # The wheel's local version (+cpu) is only in the folder; PyPI as the index keeps pip off PyTorch's.
  build_args+=(--build-arg PIP_FIND_LINKS=/wheels --build-arg TORCH_INDEX_URL=https://pypi.org/simple
               --volume "$WHEELS:/wheels:ro")
else
  echo "==> torch: $torch_pin not in $WHEELS: from PyTorch's CPU index (the Dockerfile's default)"
fi
# This machine's CA bundle for pip in the build (a TLS-inspecting proxy's CA is in it): PIP_CERT, else
# the system's. pip in the build would otherwise trust only its own bundled list.
cert=${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}
if [ -n "$cert" ] && [ -f "$cert" ]; then
  echo "==> pip in the build verifies HTTPS with $cert (mounted as /run/pip-ca.crt)"
  build_args+=(--build-arg PIP_CERT=/run/pip-ca.crt --volume "$cert:/run/pip-ca.crt:ro")
fi
t1=$(date +%s)
if [ "${TUBETAGS_IMAGE_BUILD:-1}" = 0 ]; then
  echo "==> TUBETAGS_IMAGE_BUILD=0: checking the existing $IMAGE"
else
  echo "==> building $IMAGE (buildah, vfs, chroot; docker format so HEALTHCHECK is kept)"
  bh build --isolation chroot --format docker --layers=false --pull=false "${build_args[@]}" \
    --tag "$IMAGE" --file Dockerfile .
fi
build_s=$(( $(date +%s) - t1 ))
size=$(bh images --format '{{.Size}}' "$IMAGE" | head -n 1)
echo "==> image $IMAGE: $size, built in ${build_s}s"

report() {
  echo "==> image $IMAGE: $size; base build ${base_s}s (0: present), image build ${build_s}s${1:-}"
}
if [ "${TUBETAGS_IMAGE_CHECK:-1}" = 0 ]; then report; exit 0; fi

# ---------------------------------------------------------------- run it and ask it
# As compose.yaml runs it: the MLflow tracking server and the web app from this one image (entry point
# `mlflow`, and the image's own entry point and command), the app pointed at the server over HTTP. Here
# they are two processes in one container on the host network (no daemon to make a network of
# containers), and the server's store is this checkout's sqlite registry (compose: PostgreSQL). The
# artifact locations recorded in it are absolute file paths, which the web workers read directly, and
# MLflow writes a file (registered_model_meta) beside a local model when it loads one: so the container
# gets a scratch copy of the store, owned by the image's user, at the store's own path. The store itself
# is not touched. (With compose's --serve-artifacts the workers download artifacts from the server.)
db=${TRACKING_URI#sqlite:///}
case $TRACKING_URI in
  sqlite:////*) store=$(dirname "$db") ;;
  *) die "MLFLOW_TRACKING_URI=$TRACKING_URI: the check serves a local store; use sqlite:///<absolute path>" ;;
esac
[ -f "$db" ] || die "no registry at $db: train and promote a model first (make demo, or docs/operations.md)"

config() {  # a field of the image's config; a list is printed space-separated
  bh inspect --type image "$IMAGE" | python3 -c "import json, sys; v = json.load(sys.stdin)['Docker']['config']$1 or ''
print(v if isinstance(v, str) else ' '.join(v))"
}
user=$(config "['User']")
entrypoint=$(config "['Entrypoint']")
command=$(config "['Cmd']")
healthcheck=$(config ".get('Healthcheck', {}).get('Test')")
[ "${healthcheck%% *}" = CMD ] || die "the image has no exec-form HEALTHCHECK (got: $healthcheck)"
healthcheck=${healthcheck#CMD }
free_port() { python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"; }
web_port=$(free_port)
mlflow_port=$(free_port)

pids=()
ctr=""
scratch=$(mktemp -d /tmp/tubetags-image-store.XXXXXX)
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 30); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  [ -z "$ctr" ] || bh rm "$ctr" >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cp -a "$store/." "$scratch/"
chown -R "${user:-0}" "$scratch"
t2=$(date +%s)
echo "==> a container from $IMAGE (vfs copies the whole image: minutes)"
ctr=$(bh from --name "tubetags-check-$$" --pull=false "$IMAGE")
echo "==> container made in $(( $(date +%s) - t2 ))s"
# compose.yaml's web environment, less Redis (the file cache instead), with this server.
web_env=(-e "MLFLOW_TRACKING_URI=http://127.0.0.1:$mlflow_port" -e "PORT=$web_port"
         -e "DJANGO_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')"
         -e "DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost" -e DJANGO_HTTPS=0 -e DJANGO_BEHIND_PROXY=0)
run_in() { bh run --isolation chroot --network host --volume "$scratch:$store" "${web_env[@]}" "$ctr" -- "$@"; }
# In the background, in its own process group, so that the cleanup stops it and all its children.
start() {
  local log=$1; shift
  setsid buildah --storage-driver vfs run --isolation chroot --network host --volume "$scratch:$store" \
    "${web_env[@]}" "$ctr" -- "$@" >"$log" 2>&1 &
  pids+=("$!")
}
wait_for() {  # what, log, command...
  local what=$1 log=$2 t
  t=$(date +%s)
  shift 2
  until run_in "$@" >/dev/null 2>&1; do
    kill -0 "${pids[-1]}" 2>/dev/null || { tail -n 30 "$log" >&2; die "$what exited before it answered (log: $log)"; }
    [ $(( $(date +%s) - t )) -lt "$WAIT_S" ] || { tail -n 30 "$log" >&2; die "$what: no answer after ${WAIT_S}s (log: $log)"; }
    sleep 5
  done
  waited=$(( $(date +%s) - t ))
  echo "==> $what answered after ${waited}s"
}

echo "==> mlflow server on 127.0.0.1:$mlflow_port, store $db (log: /tmp/tubetags-image-mlflow.log)"
start /tmp/tubetags-image-mlflow.log mlflow server --backend-store-uri "$TRACKING_URI" --serve-artifacts \
  --artifacts-destination /var/lib/mlflow/artifacts --host 127.0.0.1 --port "$mlflow_port" --workers 1 \
  --allowed-hosts "127.0.0.1:*,localhost:*"
wait_for "the tracking server (/health)" /tmp/tubetags-image-mlflow.log \
  python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$mlflow_port/health', timeout=5)"

echo "==> the image's $entrypoint $command on 127.0.0.1:$web_port (log: /tmp/tubetags-image-web.log)"
# shellcheck disable=SC2086  # the image's entry point, command and health check: its JSON lists, split
start /tmp/tubetags-image-web.log $entrypoint $command
# shellcheck disable=SC2086
wait_for "the image's HEALTHCHECK ($healthcheck: /api/health = 200, the production model loaded)" \
  /tmp/tubetags-image-web.log $healthcheck
healthy_s=$waited

run_in python - <<'EOF'
import json, os, urllib.request

port = os.environ["PORT"]
transcript = (
    "Today I want to talk about climate change and energy. The planet is getting warmer because we burn "
    "coal, oil and gas, and the carbon dioxide traps heat in the atmosphere. Solar panels and wind turbines "
    "are now cheaper than new power plants, and batteries store the energy for the night. Cities can build "
    "better public transport, and farmers can change how they grow food. The science is clear, and the "
    "technology exists; what we need now is the political will to act before it is too late."
)
request = urllib.request.Request(f"http://127.0.0.1:{port}/api/tags", method="POST",
                                 data=json.dumps({"transcript": transcript}).encode(),
                                 headers={"Content-Type": "application/json", "Host": "127.0.0.1"})
with urllib.request.urlopen(request, timeout=60) as response:
    status, body = response.status, json.load(response)
tags = [tag["tag"] for tag in body["tags"]]
assert status == 200 and tags, body
print(f"==> POST /api/tags: {status}, language {body['language']}, model {json.dumps(body['model'])}")
print(f"    tags: {', '.join(tags[:10])}")
EOF
# The request's privacy-safe summary, for `make monitor`: written where the image says (as the app user).
# shellcheck disable=SC2016  # expanded in the container
run_in sh -c 'ls "$TUBETAGS_MONITOR_DIR"/requests-*.jsonl' \
  || die "no request summary in the image's TUBETAGS_MONITOR_DIR (log: /tmp/tubetags-image-web.log)"
report "; in it: healthy ${healthy_s}s after gunicorn started"
