"""Load benchmark of the web API: gunicorn on 127.0.0.1 (a free port), ~2,000-word transcripts.

    python scripts/bench_api.py [--requests 200] [--duration 60] [--concurrency 4] [--workers 2]
                                [--tracking-uri sqlite:///...] [--model production]

Serves models:/tubetags@<model> from the project's registry (or --tracking-uri / MLFLOW_TRACKING_URI),
sends at most --requests requests or runs at most --duration seconds, whichever ends first, then
stops the server. The last line printed is exactly:
    p50_ms=<float> p95_ms=<float> rps=<float> errors=<int>
Only loopback traffic. `serve()` is also used by the browser test.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WEBAPP = REPO / "webapp"
HOST = "127.0.0.1"

PARAGRAPH = (
    "In this video we walk through the whole recipe step by step. First we weigh the flour and the water, "
    "mix them with a little salt and let the dough rest. While it rests, we talk about why the oven "
    "temperature matters, how steam helps the crust, and what a sourdough starter actually does. "
    "Then we shape the loaf, score the top with a sharp blade and bake it until it sounds hollow. "
    "Along the way I answer questions from the comments about gluten, hydration and timing, and we "
    "compare the result with a loaf from the supermarket. If you enjoyed this tutorial, subscribe for "
    "more baking, cooking and kitchen science every week."
)


def transcript(words: int = 2000) -> str:
    base = PARAGRAPH.split()
    return " ".join(base[i % len(base)] for i in range(words))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def request(conn: http.client.HTTPConnection, method: str, path: str, body: dict | None = None):
    payload = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if payload is not None else {}
    conn.request(method, path, body=payload, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


@contextlib.contextmanager
def serve(tracking_uri: str | None = None, workers: int = 2, startup_timeout: float = 240, **extra_env: str):
    """Run gunicorn (production settings, plain HTTP on loopback) and yield (base_url, health_json)."""
    port = free_port()
    env = {
        **os.environ,
        "HOST": HOST, "PORT": str(port), "WEB_CONCURRENCY": str(workers),
        "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50), "DJANGO_HTTPS": "0",
        "TUBETAGS_RATE_LIMIT": "off", "MLFLOW_DISABLE_TELEMETRY": "true", "GUNICORN_LOG_LEVEL": "warning",
        **extra_env,
    }
    if tracking_uri:
        env["MLFLOW_TRACKING_URI"] = tracking_uri
    log = tempfile.NamedTemporaryFile("w+", prefix="tubetags-gunicorn-", suffix=".log", delete=False)
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "tubetags_site.wsgi"],
                            cwd=WEBAPP, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:  # up once /api/health answers (it loads @production in that worker)
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {proc.returncode}; log:\n{Path(log.name).read_text()[-3000:]}")
            try:
                conn = http.client.HTTPConnection(HOST, port, timeout=startup_timeout)
                status, body = request(conn, "GET", "/api/health")
                conn.close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not answer within {startup_timeout} s; log in {log.name}")
                time.sleep(0.5)
        health = json.loads(body)
        if status != 200:
            raise RuntimeError(f"/api/health answered {status}: {health.get('error')}")
        yield f"http://{HOST}:{port}", health
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=35)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
        os.unlink(log.name)


def bench(port: int, body: dict, max_requests: int, duration: float, concurrency: int):
    latencies: list[float] = []
    errors = 0
    issued = 0
    lock = threading.Lock()
    deadline = time.monotonic() + duration

    def worker():
        nonlocal errors, issued
        conn = http.client.HTTPConnection(HOST, port, timeout=60)
        while True:
            with lock:
                if issued >= max_requests or time.monotonic() >= deadline:
                    break
                issued += 1
            started = time.perf_counter()
            try:
                status, _ = request(conn, "POST", "/api/tags", body)
                ok = status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=60)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    errors += 1
        conn.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for _ in range(concurrency):
            pool.submit(worker)
    wall = time.perf_counter() - started
    return latencies, errors, wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds, at most")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--words", type=int, default=2000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--model", default="production", help="registry alias")
    parser.add_argument("--tracking-uri", default=None, help="default: MLFLOW_TRACKING_URI or the project's registry")
    args = parser.parse_args(argv)

    body = {"transcript": transcript(args.words), "k": args.k, "model": args.model}
    with serve(args.tracking_uri, workers=args.workers) as (base, health):
        port = int(base.rsplit(":", 1)[1])
        model = health["model"]
        print(f"server {base}: {model['name']} v{model['version']} ({model['strategy']}), {args.workers} workers")
        # Warm-up, not measured: one request per worker loads the chosen alias everywhere.
        bench(port, body, max_requests=2 * args.workers, duration=120, concurrency=args.workers)
        latencies, errors, wall = bench(port, body, args.requests, args.duration, args.concurrency)
    n = len(latencies)
    p50 = statistics.median(latencies) if n else float("nan")
    p95 = statistics.quantiles(latencies, n=20, method="inclusive")[18] if n > 1 else (latencies[0] if n else float("nan"))
    rps = (n + errors) / wall if wall > 0 else 0.0
    print(f"{n + errors} requests ({args.words}-word transcript, k={args.k}, model @{args.model}) in {wall:.1f} s, "
          f"concurrency {args.concurrency}")
    print(f"p50_ms={p50:.1f} p95_ms={p95:.1f} rps={rps:.2f} errors={errors}")
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
