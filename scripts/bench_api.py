"""Load benchmark of the web API: gunicorn on 127.0.0.1 (a free port), ~2,000-word transcripts.

    python scripts/bench_api.py [--requests 200] [--duration 60] [--concurrency 4,8] [--workers 2]
                                [--tracking-uri sqlite:///...] [--model production] [--corpus]

Serves models:/tubetags@<model> from the project's registry (or --tracking-uri / MLFLOW_TRACKING_URI)
with an empty prediction cache of its own. For each concurrency it runs two phases, each of at most
--requests requests or --duration seconds, whichever ends first:
  cold:     every request a different transcript (same words, shuffled): every one a cache miss, the model runs;
            with --corpus, real speech instead: the corpus's transcripts of at least --words words, each cut to
            --words (a talk's vocabulary, names and numbers: what the model's per-word work sees in real traffic);
  repeated: the same transcript every time (as real traffic repeats): answered from the prediction cache.
One line per phase, `cold concurrency=4: p50_ms=...`, and the last line printed is exactly the repeated
phase at the last concurrency:
    p50_ms=<float> p95_ms=<float> rps=<float> errors=<int>
Only loopback traffic. `serve()` is also used by the browser and live-server tests.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import secrets
import signal
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
if str(REPO) not in sys.path:  # run as `python scripts/bench_api.py`
    sys.path.insert(0, str(REPO))

from scripts.serve import free_port, nginx, wait_for_port  # noqa: E402

PARAGRAPH = (
    "In this video we walk through the whole recipe step by step. First we weigh the flour and the water, "
    "mix them with a little salt and let the dough rest. While it rests, we talk about why the oven "
    "temperature matters, how steam helps the crust, and what a sourdough starter actually does. "
    "Then we shape the loaf, score the top with a sharp blade and bake it until it sounds hollow. "
    "Along the way I answer questions from the comments about gluten, hydration and timing, and we "
    "compare the result with a loaf from the supermarket. If you enjoyed this tutorial, subscribe for "
    "more baking, cooking and kitchen science every week."
)


def transcript(words: int = 2000, shuffle_seed: int | None = None) -> str:
    """~`words` words of the paragraph; with a seed, the same words in a different order (a distinct transcript)."""
    base = PARAGRAPH.split()
    chosen = [base[i % len(base)] for i in range(words)]
    if shuffle_seed is not None:
        random.Random(shuffle_seed).shuffle(chosen)
    return " ".join(chosen)


def request(conn: http.client.HTTPConnection, method: str, path: str, body: dict | bytes | None = None):
    payload = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if payload is not None else {}
    conn.request(method, path, body=payload, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def stop_group(proc: subprocess.Popen, timeout: float = 35) -> None:
    """Stop a server started with start_new_session=True, with every process it started: SIGTERM to its process
    group, SIGKILL if it is still there after `timeout` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextlib.contextmanager
def serve(
    tracking_uri: str | None = None,
    workers: int = 2,
    startup_timeout: float = 240,
    pids: list[int] | None = None,
    proxy: bool = False,
    log_path: Path | None = None,
    **extra_env: str,
):
    """Run gunicorn (production settings, plain HTTP on loopback) and yield (base_url, health_json).

    With `proxy`, nginx in front of it as `make serve` runs it (scripts/serve.py, deploy/nginx/proxy.conf), and
    base_url is nginx's. The server gets caches and monitoring lines of its own in a temporary folder (removed
    afterwards), and serves this checkout's `tubetags` (PYTHONPATH), not whichever copy is installed. The
    gunicorn master's pid is appended to `pids` when given. gunicorn's log goes to `log_path` when given (kept),
    else to a temporary file.
    """
    port = free_port()
    scratch = tempfile.TemporaryDirectory(prefix="tubetags-serve-")
    env = {
        **os.environ,
        "HOST": HOST,
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_HTTPS": "0",
        "TUBETAGS_RATE_LIMIT": "off",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "GUNICORN_LOG_LEVEL": "warning",
        "TUBETAGS_CACHE_DIR": f"{scratch.name}/cache",
        "TUBETAGS_MONITOR_DIR": f"{scratch.name}/monitoring",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        **({"TUBETAGS_CLIENT_IP_HEADER": "HTTP_X_REAL_IP"} if proxy else {}),
        **extra_env,
    }
    if tracking_uri:
        env["MLFLOW_TRACKING_URI"] = tracking_uri
    # Kept open for the server's lifetime and removed at the end, not a with-block.
    log = (
        Path(log_path).open("w+")  # noqa: SIM115
        if log_path
        else tempfile.NamedTemporaryFile("w+", prefix="tubetags-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "tubetags_site.wsgi"],
        cwd=WEBAPP,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    if pids is not None:
        pids.append(proc.pid)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:  # up once /api/health answers (it loads @production in that worker)
            if proc.poll() is not None:
                tail = Path(log.name).read_text()[-3000:]
                raise RuntimeError(f"gunicorn exited with {proc.returncode}; log:\n{tail}")
            try:
                conn = http.client.HTTPConnection(HOST, port, timeout=startup_timeout)
                status, body = request(conn, "GET", "/api/health")
                conn.close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"gunicorn did not answer within {startup_timeout} s; log in {log.name}"
                    ) from None
                time.sleep(0.5)
        health = json.loads(body)
        if status != 200:
            raise RuntimeError(f"/api/health answered {status}: {health.get('error')}")
        if not proxy:
            yield f"http://{HOST}:{port}", health
        else:
            front = free_port()
            with nginx(f"{HOST}:{front}", f"{HOST}:{port}", stderr=log):
                wait_for_port(HOST, front, startup_timeout)
                yield f"http://{HOST}:{front}", health
    finally:
        stop_group(proc)
        log.close()
        if not log_path:
            Path(log.name).unlink()
        scratch.cleanup()


def post_tags(conn: http.client.HTTPConnection, body: bytes) -> tuple[bool, http.client.HTTPConnection]:
    """POST /api/tags on a keep-alive connection: (answered 200, the connection to use next: a new one after an
    error)."""
    try:
        status, _ = request(conn, "POST", "/api/tags", body)
        return status == 200, conn
    except (OSError, http.client.HTTPException):
        conn.close()
        return False, http.client.HTTPConnection(conn.host, conn.port, timeout=conn.timeout)


def corpus_transcripts(words: int, corpus_dir: Path | None = None) -> list[str]:
    """Every transcript of the corpus (all datasets and splits) of at least `words` words, cut to `words`."""
    from tubetags import settings
    from tubetags.corpus import Corpus

    corpus = Corpus.open(corpus_dir or settings.corpus_dir())
    out = []
    for dataset in ("ted", "youtube"):
        for split in ("train", "valid", "test"):
            with contextlib.suppress(KeyError):
                for record in corpus.split(dataset, split).records(columns=("transcript",)):
                    said = record["transcript"].split()
                    if len(said) >= words:
                        out.append(" ".join(said[:words]))
    return out


def bench(port: int, bodies: list[bytes], max_requests: int, duration: float, concurrency: int):
    """POST /api/tags with bodies[i % len(bodies)] for the i-th request; returns (latencies ms, errors, wall s)."""
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
                body = bodies[issued % len(bodies)]
                issued += 1
            started = time.perf_counter()
            ok, conn = post_tags(conn, body)
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


def workers_cpu_s(master_pid: int) -> float:
    """CPU seconds (user + system) used so far by the gunicorn workers under `master_pid`."""
    import psutil

    total = 0.0
    for child in psutil.Process(master_pid).children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            times = child.cpu_times()
            total += times.user + times.system
    return total


def summary(latencies: list[float], errors: int, wall: float) -> str:
    n = len(latencies)
    p50 = statistics.median(latencies) if n else float("nan")
    if n > 1:
        p95 = statistics.quantiles(latencies, n=20, method="inclusive")[18]
    else:
        p95 = latencies[0] if n else float("nan")
    rps = (n + errors) / wall if wall > 0 else 0.0
    return f"p50_ms={p50:.1f} p95_ms={p95:.1f} rps={rps:.2f} errors={errors}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="per phase and concurrency")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds, at most, per phase and concurrency")
    parser.add_argument("--concurrency", default="4", help="comma-separated, e.g. 4,8")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--words", type=int, default=2000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--model", default="production", help="registry alias")
    parser.add_argument("--tracking-uri", default=None, help="default: MLFLOW_TRACKING_URI or the project's registry")
    parser.add_argument("--corpus", action="store_true", help="cold requests: the corpus's transcripts (real speech)")
    args = parser.parse_args(argv)
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]

    def body(text: str) -> bytes:
        return json.dumps({"transcript": text, "k": args.k, "model": args.model}).encode()

    repeated = [body(transcript(args.words))]
    # Every cold request in the whole run gets a transcript never sent before.
    if args.corpus:
        speech = corpus_transcripts(args.words)
        needed = 2 * args.workers + args.requests * len(levels)
        if len(speech) < needed:
            parser.error(f"--corpus: {len(speech)} transcripts of {args.words}+ words, {needed} needed")
        fresh = iter(speech)
    else:
        fresh = (transcript(args.words, seed) for seed in range(1, 10**9))
    failed = False
    pids: list[int] = []
    with serve(args.tracking_uri, workers=args.workers, pids=pids) as (base, health):
        port = int(base.rsplit(":", 1)[1])
        model = health["model"]
        print(
            f"server {base}: {model['name']} v{model['version']} ({model['strategy']}), {args.workers} workers; "
            f"{args.words}-word {'corpus' if args.corpus else 'shuffled'} transcripts, k={args.k}, "
            f"model @{args.model}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
        # Warm-up, not measured: loads the chosen alias in every worker (and caches the repeated transcript).
        bench(
            port,
            [body(next(fresh)) for _ in range(2 * args.workers)] + repeated,
            max_requests=2 * args.workers + 1,
            duration=120,
            concurrency=args.workers,
        )
        last = ""
        for concurrency in levels:
            cold = [body(next(fresh)) for _ in range(args.requests)]
            for phase, bodies in (("cold", cold), ("repeated", repeated)):
                cpu_before = workers_cpu_s(pids[0])
                latencies, errors, wall = bench(port, bodies, args.requests, args.duration, concurrency)
                # Server CPU per request: unlike latency, it does not depend on what else runs on the machine.
                cpu_ms = (workers_cpu_s(pids[0]) - cpu_before) * 1000 / max(len(latencies) + errors, 1)
                failed |= errors > 0
                last = summary(latencies, errors, wall)
                print(
                    f"{phase} concurrency={concurrency}: {len(latencies) + errors} requests in {wall:.1f} s, "
                    f"server cpu_ms_per_request={cpu_ms:.1f}: {last}",
                    flush=True,
                )
    print(last)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
