"""gunicorn settings: `cd webapp && gunicorn -c gunicorn.conf.py tubetags_site.wsgi`.

Environment: HOST (127.0.0.1), PORT (8000), WEB_CONCURRENCY (workers, 2), GUNICORN_THREADS (1),
GUNICORN_TIMEOUT (120 s), PROMETHEUS_MULTIPROC_DIR (default: a fresh temporary folder per server).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

# Every log line in UTC, the master's too (the workers' Django logs follow settings.TIME_ZONE, also UTC).
os.environ["TZ"] = "UTC"
time.tzset()

if TYPE_CHECKING:
    from gunicorn.arbiter import Arbiter
    from gunicorn.workers.base import Worker

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", 2))  # each holds its own copy of the model(s)
threads = int(os.environ.get("GUNICORN_THREADS", 1))
# sync: a worker accepts a connection only when it is idle, so each request goes to a free worker (a gthread
# worker accepts while busy and queues). Sync workers need a buffering proxy in front, so that a slow client
# never holds one: nginx (deploy/nginx/proxy.conf) in `make serve`, compose and Kubernetes.
worker_class = "sync" if threads == 1 else "gthread"
# Never preload: TensorFlow/PyTorch state does not survive fork(), so each worker loads after fork.
preload_app = False
# Long enough for a lazy first load of a large model (another alias) inside a request.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 120))
graceful_timeout = 30
keepalive = 5
limit_request_line = 8190
limit_request_fields = 100
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


# Prometheus multiprocess mode: each worker writes its metrics to files in this folder and /metrics adds
# them up. It must be set before any worker imports prometheus_client, and must not hold a previous
# server's files: a folder of our own per server, removed on exit; a given one is emptied on start.
_OWN_METRICS_DIR = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _OWN_METRICS_DIR:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="tubetags-prometheus-")


def on_starting(server: Arbiter) -> None:
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()


def child_exit(server: Arbiter, worker: Worker) -> None:
    """A dead worker's live gauges (the model info) must not be reported any more."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Arbiter) -> None:
    if _OWN_METRICS_DIR:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def post_worker_init(worker: Worker) -> None:
    """Load models:/tubetags@production in this worker (after fork, app imported) before serving.

    A missing production model is not fatal: /api/health then answers 503 saying how to
    make one, and the model is picked up once it exists.
    """
    done = threading.Event()

    def heartbeat() -> None:  # the arbiter kills a worker silent for `timeout` s; a big model may take long
        while not done.wait(5):
            worker.notify()

    threading.Thread(target=heartbeat, daemon=True).start()
    try:
        from api.model_cache import PRODUCTION, ModelUnavailable, get_cache

        model = get_cache().get(PRODUCTION)
        worker.log.info("worker %s serves %s version %s (%s)", worker.pid, model.name, model.version, model.strategy)
    except ModelUnavailable as exc:
        worker.log.warning("worker %s: %s", worker.pid, exc)
    finally:
        done.set()
