"""`make serve` as it runs (scripts/serve.py: nginx in front of gunicorn, production settings by default), against the
tiny registry: slow clients, chunked bodies, oversized headers, debug pages, and schemathesis `--checks all`."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))  # scripts.serve

from scripts.serve import free_port, nginx_binary  # noqa: E402

pytestmark = [
    pytest.mark.slow,  # starts nginx and gunicorn: ~30 s
    pytest.mark.skipif(
        nginx_binary() is None and not os.environ.get("CI"),
        reason="nginx is not installed (scripts/setup.sh installs it; CI fails instead of skipping)",
    ),
]

TRANSCRIPT = "today we bake sourdough bread in the oven with flour, water and salt; the recipe takes a day " * 5


@pytest.fixture(scope="module")
def make_serve(registry_uri, tmp_path_factory):
    """`scripts/with_jobs.sh python scripts/serve.py` (what `make serve` runs: nginx, gunicorn, and the video jobs'
    Redis and worker) on free ports, with the environment a developer has: no DJANGO_* setting at all. The rate
    limit is off, and the job queue unbounded, for the schemathesis run."""
    folder = tmp_path_factory.mktemp("make-serve")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TUBETAGS_"))}
    env.update(
        MLFLOW_TRACKING_URI=registry_uri,
        PORT=str(port),
        TUBETAGS_RATE_LIMIT="off",
        TUBETAGS_CACHE_DIR=str(folder / "cache"),
        TUBETAGS_MONITOR_DIR=str(folder / "monitoring"),
        TZ="America/Chicago",  # the logs must still be UTC
        TUBETAGS_JOBS_REDIS_PORT=str(free_port()),
        TUBETAGS_JOBS_REDIS_DIR=str(folder / "jobs-redis"),
        TUBETAGS_MEDIA_DIR=str(folder / "media"),
        TUBETAGS_JOBS_MAX_QUEUED="100000",
    )
    log = (folder / "serve.log").open("w+")
    proc = subprocess.Popen(
        ["scripts/with_jobs.sh", sys.executable, "scripts/serve.py"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            assert proc.poll() is None, (folder / "serve.log").read_text()[-3000:]
            with contextlib.suppress(OSError, http.client.HTTPException):
                if get("127.0.0.1", port, "/api/health")[0] == 200:
                    break
            assert time.monotonic() < deadline, (folder / "serve.log").read_text()[-3000:]
            time.sleep(1)
        yield base, port, folder / "serve.log"
    finally:
        proc.terminate()  # scripts/with_jobs.sh stops the worker and Redis, scripts/serve.py nginx and gunicorn
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def get(host: str, port: int, path: str, headers: dict | None = None, timeout: float = 30):
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        conn.close()


class Trickle:
    """Clients that send a request a byte at a time and never finish: a body (Content-Length promised, 1 byte
    every `every_s`), or the headers themselves (slowloris)."""

    def __init__(self, port: int, bodies: int, headers: int, every_s: float = 0.25) -> None:
        self.port, self.every_s = port, every_s
        self.stop = threading.Event()
        body_start = (
            b"POST /api/tags HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100000\r\n\r\n"
        )
        header_start = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        self.threads = [
            threading.Thread(target=self.run, args=(start, filler), daemon=True)
            for start, filler, n in ((body_start, b"a", bodies), (header_start, b"X-Slow: x\r\n", headers))
            for _ in range(n)
        ]

    def run(self, start: bytes, filler: bytes) -> None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(start)
            while not self.stop.wait(self.every_s):
                sock.sendall(filler)

    def __enter__(self) -> Trickle:
        for thread in self.threads:
            thread.start()
        time.sleep(1)  # every slow client is connected and sending
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=5)


def test_slow_clients_do_not_delay_health(make_serve):
    """More slow clients than gunicorn has workers (2): bare gunicorn would hand each one a worker until it finished
    (issue 19: one such client made 46 of 59 health checks time out). nginx holds them; health answers at once."""
    _base, port, _log = make_serve
    with Trickle(port, bodies=4, headers=2):
        timings = []
        for _ in range(10):
            started = time.perf_counter()
            status, _, _ = get("127.0.0.1", port, "/api/health", timeout=5)
            timings.append(time.perf_counter() - started)
            assert status == 200
            time.sleep(0.2)
    # Bare gunicorn answers none of them within 5 s (scripts/bench_resilience.py: 20 of 20 timed out). Behind nginx
    # every one is answered, and 9 in 10 within 1 s: on a shared 2-core machine at a load average over 20 any
    # process stalls for a second now and then, slow clients or not.
    assert sorted(timings)[8] < 1.0, timings


def test_a_chunked_request_gets_tags(make_serve):
    """Transfer-Encoding: chunked and no Content-Length (Django's WSGI request reads such a body as empty): nginx
    reads the chunks and hands gunicorn the body with a Content-Length."""
    _base, port, _log = make_serve
    body = json.dumps({"transcript": TRANSCRIPT, "k": 3}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    chunks = (body[i : i + 100] for i in range(0, len(body), 100))  # an iterable: http.client sends it chunked
    conn.request("POST", "/api/tags", body=chunks, headers={"Content-Type": "application/json"}, encode_chunked=True)
    response = conn.getresponse()
    answer = json.loads(response.read())
    conn.close()
    assert response.status == 200, answer
    assert len(answer["tags"]) == 3 and answer["tags"][0]["tag"] == "cooking"


@pytest.mark.parametrize("path", ["/", "/no/such/page", "/static/tubetags/style.css", "/api/health"])
def test_no_debug_page_for_a_bad_host(make_serve, path):
    """DEBUG is off unless asked for: a Host outside DJANGO_ALLOWED_HOSTS gets a JSON 400 everywhere, never Django's
    debug page with its traceback, settings and URL list."""
    _base, port, _log = make_serve
    status, content_type, body = get("127.0.0.1", port, path, headers={"Host": "evil.example"})
    assert status == 400 and content_type.startswith("application/json"), (status, content_type, body[:300])
    text = body.decode()
    assert "Host" in json.loads(text)["error"]
    for leak in ("Traceback", "DEBUG", "settings", "URLconf", "<html", "evil.example"):
        assert leak not in text


def test_an_unknown_page_is_a_json_404_not_a_debug_page(make_serve):
    _base, port, _log = make_serve
    status, content_type, body = get("127.0.0.1", port, "/no/such/page")
    assert status == 404 and content_type.startswith("application/json") and b"URLconf" not in body


def test_a_100_kb_header_is_a_json_431(make_serve):
    _base, port, _log = make_serve
    status, content_type, body = get("127.0.0.1", port, "/api/health", headers={"X-Big": "a" * 100_000})
    assert status == 431 and content_type.startswith("application/json")
    assert "header" in json.loads(body)["error"].lower()


def test_post_metrics_is_a_json_405_and_get_works_from_this_host(make_serve):
    _base, port, _log = make_serve
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/metrics", body=b"x=1", headers={"Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    assert response.status == 405 and response.getheader("Allow") == "GET"
    assert response.getheader("Content-Type").startswith("application/json") and b"CSRF" not in body
    # through the proxy the client is nginx's X-Real-IP (loopback here): Prometheus on this host still scrapes
    status, _, text = get("127.0.0.1", port, "/metrics")
    assert status == 200 and b"tubetags_http_requests_total" in text


@pytest.mark.parametrize(
    "path",
    [
        "/static/..%2f..%2ftubetags_site%2fsettings.py",
        "/static/tubetags/..%2f..%2f..%2fwebapp%2fmanage.py",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/static/%2fetc%2fpasswd",
    ],
)
def test_static_traversal_names_no_server_path(make_serve, path):
    _base, port, _log = make_serve
    status, content_type, body = get("127.0.0.1", port, path)
    assert status in {400, 404} and content_type.startswith("application/json"), (status, body[:300])
    text = body.decode()
    assert str(REPO) not in text and "webapp/static" not in text and "root:" not in text


def test_logs_are_utc(make_serve):
    """Master and workers log in UTC although the environment says America/Chicago (Django's default TIME_ZONE
    was Chicago too, applied to the workers only)."""
    _base, _port, log = make_serve
    stamps = [line.split("]", 1)[0] for line in log.read_text().splitlines() if line.startswith("[20")]
    zones = {stamp.rsplit(" ", 1)[-1] for stamp in stamps if stamp.count(" ") == 2}
    assert zones == {"+0000"}, sorted(zones)
    assert any("Booting worker" in line for line in log.read_text().splitlines())


def test_schemathesis_checks_all_positive_and_negative(make_serve, tmp_path):
    """The OpenAPI schema is as strict as the server: schema-valid requests are accepted, schema-violating ones
    refused (schemathesis `--checks all`, positive and negative modes, on the live server behind nginx).
    tests/code/webapp/schemathesis.toml lists the statuses that answer a well-formed request whose content a JSON
    schema cannot judge (422: too few words; 413, 415: the file; 404: an alias not in this registry)."""
    base, _port, _log = make_serve
    st = Path(sys.executable).parent / "st"
    result = subprocess.run(
        [
            str(st),
            "--config-file",
            str(Path(__file__).with_name("schemathesis.toml")),
            "--no-color",
            "run",
            f"{base}/api/schema",
            "--checks",
            "all",
            "--mode",
            "all",
            "--max-examples",
            "40",
            "--generation-deterministic",
            "--request-timeout",
            "60",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "Schema-valid request rejected" not in output and "Schema-violating request accepted" not in output
