"""Against a real gunicorn on 127.0.0.1 (scripts/bench_api.serve, one worker, the tiny registry):
what only a real server and real HTTP clients show."""

from __future__ import annotations

import http.client
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))  # scripts.bench_api

pytestmark = pytest.mark.slow  # starts gunicorn: ~10 s


@pytest.fixture(scope="module")
def live(registry_uri):
    from scripts.bench_api import serve

    with serve(registry_uri, workers=1) as (base, _health):
        yield base


def test_oversized_body_gets_the_413_with_urllib(live):
    from django.conf import settings

    body = json.dumps({"transcript": "a" * (settings.TUBETAGS_MAX_REQUEST_BYTES * 2)}).encode()
    request = urllib.request.Request(f"{live}/api/tags", data=body, headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as caught:  # not ConnectionResetError / BrokenPipeError
        urllib.request.urlopen(request, timeout=30)
    assert caught.value.code == 413
    assert caught.value.headers["Content-Type"].startswith("application/json")
    assert "limit" in json.loads(caught.value.read())["error"]


def test_oversized_body_gets_the_413_with_http_client_and_the_connection_still_works(live):
    from django.conf import settings

    host, port = live.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    body = b"x" * (settings.TUBETAGS_MAX_REQUEST_BYTES + 1)
    conn.request("POST", "/api/tags", body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    assert response.status == 413 and "error" in json.loads(response.read())
    conn.request("GET", "/api/health")  # fully drained: the keep-alive connection is reusable
    assert conn.getresponse().status == 200
    conn.close()


def test_metrics_add_up_across_gunicorn_workers(live):
    from test_webapp_serving import sample

    def scrape() -> str:
        with urllib.request.urlopen(f"{live}/metrics", timeout=30) as response:
            return response.read().decode()

    before = scrape()
    body = json.dumps({"transcript": "bake bread in the oven with flour " * 30}).encode()
    for _ in range(3):
        request = urllib.request.Request(f"{live}/api/tags", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
    after = scrape()
    ok = dict(route="/api/tags", method="POST", status="200")
    assert (
        sample(after, "tubetags_http_requests_total", **ok) == sample(before, "tubetags_http_requests_total", **ok) + 3
    )
    assert sample(after, "tubetags_prediction_cache_total", result="hit") >= 2
    assert sample(after, "tubetags_model_info", version="2", alias="production") == 1
