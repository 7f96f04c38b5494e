"""Prediction cache, the serving layout of linear weights, /metrics and the drift-monitor lines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

COOKING = "today we bake bread in the oven with flour butter and sugar, knead the dough, salt, taste " * 20
SECRET = "zyzzogeton"  # a word that must never reach a monitoring line


def post(api, transcript, **fields):
    return api.post("/api/tags", {"transcript": transcript, **fields}, content_type="application/json")


def test_repeated_transcript_is_answered_from_the_cache(api, monkeypatch):
    from api.model_cache import LoadedModel

    calls = []
    original = LoadedModel.predict
    monkeypatch.setattr(LoadedModel, "predict", lambda self, t, k, *c: calls.append(k) or original(self, t, k, *c))
    first = post(api, COOKING, k=3)
    assert first["X-Cache"] == "miss" and calls == [3]
    # Same text once normalised (spacing, a stage marker): same entry, no model call.
    again = post(api, "  " + COOKING.replace("oven ", "oven  [Music] ", 1), k=3)
    assert again["X-Cache"] == "hit" and calls == [3]
    assert again.json()["tags"] == first.json()["tags"]
    assert post(api, COOKING, k=4)["X-Cache"] == "miss"  # k is part of the key
    assert post(api, COOKING, k=3, model="baseline")["X-Cache"] == "miss"  # so is the model version
    assert calls == [3, 4, 3]


def test_cache_can_be_turned_off(api, settings):
    settings.TUBETAGS_PREDICTION_CACHE_TTL_S = 0
    assert post(api, COOKING)["X-Cache"] == "miss"
    assert post(api, COOKING)["X-Cache"] == "miss"


def test_broken_cache_still_answers(api, settings):
    settings.CACHES = {
        **settings.CACHES,
        "predictions": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"},
    }
    response = post(api, COOKING)
    assert response.status_code == 200 and response["X-Cache"] == "miss"


def test_redis_setting_switches_both_caches(monkeypatch):
    import subprocess
    import sys

    webapp = Path(__file__).resolve().parents[3] / "webapp"
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        "print(json.dumps({a: (c['BACKEND'], c['LOCATION']) for a, c in settings.CACHES.items()}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=webapp,
        capture_output=True,
        text=True,
        check=True,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "tubetags_site.settings",
            "DJANGO_DEBUG": "1",
            "TUBETAGS_CACHE_URL": "redis://cache.internal:6379/1",
        },
    ).stdout
    caches = json.loads(out)
    assert set(caches) == {"default", "predictions"}
    assert all(
        backend.endswith("RedisCache") and url == "redis://cache.internal:6379/1" for backend, url in caches.values()
    )


def test_column_major_weights_give_the_same_predictions(api):
    from api.model_cache import get_cache

    model = get_cache().get("production")
    predictor = model.served.predictor
    served = model.predict(COOKING, 6)
    assert predictor.weights.T.flags.c_contiguous  # switched on first use: weights.T needs no copy
    predictor.weights = np.ascontiguousarray(predictor.weights)  # as saved
    assert model.predict(COOKING, 6) == served
    assert predictor.weights.T.flags.c_contiguous


def scrape(api, **extra) -> str:
    response = api.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def sample(text: str, series: str, **labels) -> float:
    """The value of one series in the exposition text (0 when absent)."""
    for line in text.splitlines():
        match = re.match(rf"^{series}\{{(.*)\}} (\S+)$", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            return float(match.group(2))
    return 0.0


def test_metrics_move_with_requests(api):
    before = scrape(api)
    post(api, COOKING + " one")
    post(api, COOKING + " one")
    api.get("/api/nothing-here")
    after = scrape(api)
    ok = dict(route="/api/tags", method="POST", status="200")
    assert (
        sample(after, "tubetags_http_requests_total", **ok) == sample(before, "tubetags_http_requests_total", **ok) + 2
    )
    miss, hit = dict(result="miss"), dict(result="hit")
    assert (
        sample(after, "tubetags_prediction_cache_total", **miss)
        == sample(before, "tubetags_prediction_cache_total", **miss) + 1
    )
    assert (
        sample(after, "tubetags_prediction_cache_total", **hit)
        == sample(before, "tubetags_prediction_cache_total", **hit) + 1
    )
    assert sample(after, "tubetags_http_requests_total", route="unmatched", status="404") >= 1
    count = dict(route="/api/tags", method="POST")
    assert sample(after, "tubetags_http_request_duration_seconds_count", **count) >= 2
    assert (
        sample(after, "tubetags_model_info", name="tubetags", version="2", strategy="baseline", alias="production") == 1
    )


def test_metrics_are_not_for_everyone(api, settings):
    assert api.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    assert api.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 403  # relayed by a proxy
    settings.TUBETAGS_METRICS_TOKEN = "s3cret"
    assert api.get("/metrics").status_code == 403
    scrape(api, REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret")


def test_monitoring_line_is_written_without_the_transcript(api, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    transcript = f"{COOKING} {SECRET} is a word"
    post(api, transcript, k=3)
    post(api, transcript, k=3)  # from the cache: a line too
    srt = f"1\n00:00:01,000 --> 00:00:02,000\nbake bread {SECRET} in the oven\n\n".encode()
    api.post("/api/tags", {"file": SimpleUploadedFile("secret-name.srt", srt)})
    files = list(Path(settings.TUBETAGS_MONITOR_DIR).glob("requests-*.jsonl"))
    assert len(files) == 1 and re.fullmatch(r"requests-\d{8}\.jsonl", files[0].name)
    text = files[0].read_text()
    assert SECRET not in text and "secret-name" not in text and "knead" not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert [(line["input"], line["cached"]) for line in lines] == [("json", False), ("json", True), ("file", False)]
    first = lines[0]
    assert set(first) == {
        "v",
        "ts",
        "model",
        "input",
        "k",
        "words",
        "language",
        "oov_share",
        "tags",
        "cached",
        "elapsed_ms",
    }
    assert first["words"] == len(transcript.split()) and first["language"] == "en" and first["k"] == 3
    assert 0 < first["oov_share"] < 1  # "zyzzogeton", "is", "a", "word"... are not in the tiny model's vocabulary
    assert first["tags"][0]["tag"] == "cooking" and len(first["tags"]) == 3
    assert first["model"] == {"name": "tubetags", "version": "2", "alias": "production", "strategy": "baseline"}


def test_monitoring_can_be_turned_off(api, settings, tmp_path):
    settings.TUBETAGS_MONITOR_DIR = "off"
    assert post(api, COOKING).status_code == 200
    assert not (tmp_path / "monitoring").exists()
