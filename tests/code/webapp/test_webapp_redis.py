"""TUBETAGS_CACHE_URL=redis://...: rate limiting and the prediction cache through Django's Redis backend,
against a real redis-server on 127.0.0.1 (skipped without the Debian package `redis-server`)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="`apt-get install -y redis-server`")

COOKING = "today we bake bread in the oven with flour butter and sugar, knead the dough, salt, taste " * 20


@pytest.fixture(scope="module")
def redis_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_prediction_cache_and_rate_limit_in_redis(api, settings, redis_url, fixed_rate_window):
    redis = "django.core.cache.backends.redis.RedisCache"
    settings.CACHES = {
        "default": {"BACKEND": redis, "LOCATION": redis_url, "KEY_PREFIX": "tubetags-rate"},
        "predictions": {"BACKEND": redis, "LOCATION": redis_url, "KEY_PREFIX": "tubetags-pred"},
    }
    settings.RATELIMIT_ENABLE = True
    settings.TUBETAGS_RATE_LIMIT = "3/m"
    addr = {"REMOTE_ADDR": "192.0.2.77"}

    def post():
        return api.post("/api/tags", {"transcript": COOKING}, content_type="application/json", **addr)

    first, second = post(), post()
    assert (first.status_code, first["X-Cache"]) == (200, "miss")
    assert (second.status_code, second["X-Cache"]) == (200, "hit")
    assert second.json()["tags"] == first.json()["tags"]
    assert post().status_code == 200
    assert post().status_code == 429  # the count lives in Redis too

    import redis as redis_client

    keys = {k.decode() for k in redis_client.Redis.from_url(redis_url).keys("*")}
    assert any(k.startswith("tubetags-pred:") for k in keys) and any(k.startswith("tubetags-rate:") for k in keys)
