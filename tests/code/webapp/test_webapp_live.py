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
