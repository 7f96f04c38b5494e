"""What slow clients and a killed worker do to the API, behind nginx (as `make serve`, compose and Kubernetes run
it) and, for comparison, with gunicorn alone.

    python scripts/bench_resilience.py [--tracking-uri sqlite:///...] [--workers 2] [--slow 4] [--concurrency 4]
                                       [--duration 30] [--kill-at 10] [--setups proxy,bare]

For each setup (`proxy`: nginx in front, `bare`: gunicorn alone, same gunicorn.conf.py):
  slow clients: --slow clients each send a POST body 1 byte every 0.25 s and never finish, while /api/health is
                asked 20 times (5 s timeout): `slow_clients=4: health p50_ms=... max_ms=... timeouts=...`;
  worker kill:  --concurrency keep-alive clients POST /api/tags (the repeated transcript: the cache answers, so the
                server's own overhead is what is measured) for --duration s; at --kill-at s one gunicorn worker gets
                SIGKILL. Printed: failed requests, requests/s before the kill and over the last third of the run,
                seconds until the replacement worker is forked and ready (its model loaded: gunicorn's log), until
                a 1-s window is back to 90% of the rate before, and the requests of each second.
Only loopback traffic; every loop is bounded in time.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from scripts.bench_api import HOST, post_tags, request, serve, transcript  # noqa: E402


def slow_clients(port: int, n: int, probes: int = 20) -> str:
    stop = threading.Event()

    def trickle() -> None:
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=5) as sock:
            sock.sendall(
                b"POST /api/tags HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100000\r\n\r\n"
            )
            while not stop.wait(0.25):
                sock.sendall(b"a")

    threads = [threading.Thread(target=trickle, daemon=True) for _ in range(n)]
    for thread in threads:
        thread.start()
    time.sleep(1)
    latencies, timeouts = [], 0
    for _ in range(probes):
        started = time.perf_counter()
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            status, _ = request(conn, "GET", "/api/health")
            conn.close()
            if status == 200:
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                timeouts += 1
        except (OSError, http.client.HTTPException):
            timeouts += 1
        time.sleep(0.25)
    stop.set()
    for thread in threads:
        thread.join(timeout=5)
    p50 = statistics.median(latencies) if latencies else float("nan")
    worst = max(latencies) if latencies else float("nan")
    return f"slow_clients={n}: health p50_ms={p50:.1f} max_ms={worst:.1f} timeouts={timeouts}/{probes}"


def worker_pids(master: int) -> set[int]:
    import psutil

    return {child.pid for child in psutil.Process(master).children()}


def kill_a_worker(
    port: int, master: int, log: Path, body: bytes, concurrency: int, duration: float, kill_at: float
) -> list[str]:
    done: list[tuple[float, bool]] = []  # (seconds since start, ok)
    lock = threading.Lock()
    started = time.monotonic()
    deadline = started + duration

    def client() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        while time.monotonic() < deadline:
            ok, conn = post_tags(conn, body)
            with lock:
                done.append((time.monotonic() - started, ok))
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    time.sleep(kill_at)
    before_pids = worker_pids(master)
    victim = min(before_pids)
    os.kill(victim, signal.SIGKILL)
    killed_at = time.monotonic() - started
    forked_s = ready_s = float("nan")
    while time.monotonic() < deadline:  # the replacement: forked, then ready once it has loaded the model
        new = worker_pids(master) - before_pids
        if new and forked_s != forked_s:
            forked_s = time.monotonic() - started - killed_at
        if new and any(f"worker {pid} serves" in log.read_text() for pid in new):
            ready_s = time.monotonic() - started - killed_at
            break
        time.sleep(0.05)
    for thread in threads:
        thread.join(timeout=duration + 60)
    failed = sum(1 for _, ok in done if not ok)
    before = sum(1 for t, ok in done if ok and 1 <= t < killed_at) / max(killed_at - 1, 1e-9)
    last_third = duration * 2 / 3
    after = sum(1 for t, ok in done if ok and t >= last_third) / (duration - last_third)
    recovered_s = float("nan")
    for second in range(int(killed_at), int(duration)):
        window = sum(1 for t, ok in done if ok and second <= t < second + 1)
        if second >= killed_at and window >= 0.9 * before:
            recovered_s = second + 1 - killed_at
            break
    timeline = [sum(1 for t, ok in done if ok and second <= t < second + 1) for second in range(int(duration))]
    return [
        f"worker_kill: requests={len(done)} failed={failed} rps_before={before:.1f} rps_last_third={after:.1f} "
        f"killed_at_s={killed_at:.1f} forked_after_s={forked_s:.1f} ready_after_s={ready_s:.1f} "
        f"back_to_90pct_after_s={recovered_s:.1f}",
        f"worker_kill requests per second: {' '.join(map(str, timeline))}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracking-uri", default=None, help="default: MLFLOW_TRACKING_URI or the project's registry")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--slow", type=int, default=4, help="slow clients")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--kill-at", type=float, default=10.0)
    parser.add_argument("--setups", default="proxy,bare")
    args = parser.parse_args(argv)
    body = json.dumps({"transcript": transcript(2000), "k": 10}).encode()
    scratch = Path(tempfile.mkdtemp(prefix="tubetags-resilience-"))
    for setup in [s.strip() for s in args.setups.split(",") if s.strip()]:
        pids: list[int] = []
        log = scratch / f"{setup}.log"
        with serve(
            args.tracking_uri,
            workers=args.workers,
            pids=pids,
            proxy=setup == "proxy",
            log_path=log,
            GUNICORN_LOG_LEVEL="info",  # the "worker N serves" line says when a worker is ready
        ) as (base, health):
            port = int(base.rsplit(":", 1)[1])
            conn = http.client.HTTPConnection(HOST, port, timeout=60)
            request(conn, "POST", "/api/tags", body)  # the repeated transcript is now cached
            conn.close()
            model = health["model"]
            print(
                f"{setup}: {model['name']} v{model['version']} ({model['strategy']}), {args.workers} workers; "
                f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
                flush=True,
            )
            print(f"{setup} {slow_clients(port, args.slow)}", flush=True)
            for line in kill_a_worker(port, pids[0], log, body, args.concurrency, args.duration, args.kill_at):
                print(f"{setup} {line}", flush=True)
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
