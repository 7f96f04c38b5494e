"""Bad input never yields a 500: each case gets a 4xx with a JSON {"error": ...} saying what was wrong."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

GOOD = "bake bread in the oven with flour and butter " * 10
SRT = "1\n00:00:01,000 --> 00:00:02,000\nbake bread in the oven\n\n"


def check_error(response, status: int, *words: str) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]
    for word in words:
        assert word.lower() in body["error"].lower(), body["error"]
    return body


def post_json(api, body):
    return api.post("/api/tags", body, content_type="application/json")


def upload(api, name, data: bytes, **fields):
    return api.post("/api/tags", {"file": SimpleUploadedFile(name, data), **fields})


@pytest.mark.parametrize("transcript", ["", "   \n\t "])
def test_empty_or_blank_transcript(api, transcript):
    check_error(post_json(api, {"transcript": transcript}), 400, "empty")


def test_missing_transcript(api):
    check_error(post_json(api, {"k": 5}), 400, "transcript", "required")
    check_error(post_json(api, {}), 400, "required")


def test_transcript_over_the_character_limit(api, settings):
    body = check_error(
        post_json(api, {"transcript": "a" * (settings.TUBETAGS_MAX_TRANSCRIPT_CHARS + 1)}), 413, "limit", "200,000"
    )
    assert body["limit_chars"] == settings.TUBETAGS_MAX_TRANSCRIPT_CHARS


def test_body_over_the_request_limit_is_refused_before_reading(api, settings):
    data = json.dumps({"transcript": "a" * (settings.TUBETAGS_MAX_REQUEST_BYTES + 10)})
    check_error(post_json(api, data), 413, "bytes", "limit")


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe\x00garbage", b'{"transcript": "a"} trailing'])
def test_body_not_json(api, raw):
    check_error(api.post("/api/tags", raw, content_type="application/json"), 400, "parsed")


def test_empty_body(api):
    check_error(api.post("/api/tags", b"", content_type="application/json"), 400, "body is empty")


@pytest.mark.parametrize("body", [[GOOD], "just a string", 42, None])
def test_json_that_is_not_an_object(api, body):
    check_error(post_json(api, json.dumps(body)), 400, "object")


@pytest.mark.parametrize(
    "body,field",
    [
        ({"transcript": 123}, "transcript"),
        ({"transcript": None}, "transcript"),
        ({"transcript": [GOOD]}, "transcript"),
        ({"transcript": GOOD, "k": "10"}, "k"),
        ({"transcript": GOOD, "k": 10.5}, "k"),
        ({"transcript": GOOD, "k": True}, "k"),
        ({"transcript": GOOD, "model": 5}, "model"),
    ],
)
def test_wrong_types(api, body, field):
    check_error(post_json(api, body), 400, f"{field}:")


def test_unknown_fields(api):
    check_error(post_json(api, {"transcript": GOOD, "top_k": 5, "lang": "en"}), 400, "unknown field", "lang", "top_k")


@pytest.mark.parametrize("k", [0, -1, 51, 10**9])
def test_k_out_of_range(api, k):
    check_error(post_json(api, {"transcript": GOOD, "k": k}), 400, "k:")


def test_unknown_model_alias(api):
    # A well-formed alias that this registry lacks: no such model here (404), not a malformed request
    body = check_error(post_json(api, {"transcript": GOOD, "model": "bilstm"}), 404, "unknown model alias")
    assert body["available"] == ["baseline", "production"]
    check_error(post_json(api, {"transcript": GOOD, "model": "../../etc"}), 400, "invalid model alias")
    check_error(post_json(api, {"transcript": GOOD, "model": "x" * 41}), 400, "model:")
    check_error(post_json(api, {"transcript": GOOD, "model": " production"}), 400, "invalid model alias")
    check_error(post_json(api, {"transcript": GOOD, "model": ""}), 400, "model:")


def test_transcript_and_file_together(api):
    """Each kind of body has its own text field (as /api/schema says: additionalProperties false)."""
    check_error(upload(api, "a.srt", SRT.encode(), transcript=GOOD), 400, "unknown field", "transcript", "json")
    check_error(api.post("/api/tags", {"transcript": GOOD}), 400, "unknown field", "transcript")
    check_error(post_json(api, {"transcript": GOOD, "file": "not a file"}), 400, "unknown field", "file", "multipart")


@pytest.mark.parametrize("name", ["notes.txt", "movie.mp4", "subtitles", "talk.ass"])
def test_wrong_file_type(api, name):
    check_error(upload(api, name, SRT.encode()), 415, ".srt or .vtt")


def test_binary_upload(api):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    check_error(upload(api, "image.srt", png), 422, "binary")


def test_undecodable_upload(api):
    # Invalid UTF-8, and bytes Windows-1252 leaves undefined.
    check_error(upload(api, "talk.srt", b"\x81\x8d\x8f\x90\x9d abc " * 20), 422, "decoded")


def test_control_character_soup(api):
    check_error(upload(api, "talk.vtt", bytes([1, 2, 3, 4, 5, 6, 7, 8, 65]) * 50), 422, "binary")


def test_text_file_that_is_not_subtitles(api):
    check_error(upload(api, "talk.srt", b"Just some notes.\nNo timings here.\n"), 422, "no subtitle cues")


def test_subtitles_without_text(api):
    check_error(upload(api, "talk.srt", b"1\n00:00:01,000 --> 00:00:02,000\n<i></i>\n\n"), 422, "no text")


def test_empty_upload(api):
    check_error(upload(api, "talk.srt", b""), 422, "empty")


def test_upload_over_the_size_limit(api, settings):
    data = SRT.encode() * (settings.TUBETAGS_MAX_UPLOAD_BYTES // len(SRT) + 10)
    check_error(upload(api, "talk.srt", data), 413, "limit")


def test_multipart_field_sent_twice(api):
    response = api.post("/api/tags", {"transcript": [GOOD, GOOD]})
    check_error(response, 400, "more than once", "transcript")


def test_multipart_k_not_a_number(api):
    check_error(upload(api, "talk.srt", SRT.encode(), k="ten"), 400, "k:")


def test_file_field_that_is_not_a_file(api):
    check_error(api.post("/api/tags", {"file": "talk.srt"}), 400, "file:")


def test_unsupported_content_type(api):
    check_error(api.post("/api/tags", GOOD, content_type="text/plain"), 415, "application/json")
    check_error(api.post("/api/tags", "transcript=x", content_type="application/x-www-form-urlencoded"), 415)


def test_wrong_method_and_unknown_path(api):
    check_error(api.get("/api/tags"), 405, "get")
    check_error(api.get("/api/nothing-here"), 404, "no such endpoint")
    check_error(api.post("/api/tags/", {"transcript": GOOD}, content_type="application/json"), 404)


def test_rate_limit(api, settings, fixed_rate_window):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.RATELIMIT_ENABLE = True
    settings.TUBETAGS_RATE_LIMIT = "2/m"
    addr = {"REMOTE_ADDR": "192.0.2.7"}
    for _ in range(2):
        assert api.post("/api/tags", {"transcript": GOOD}, content_type="application/json", **addr).status_code == 200
    body = check_error(
        api.post("/api/tags", {"transcript": GOOD}, content_type="application/json", **addr),
        429,
        "too many requests",
        "2/m",
    )
    assert body["retry_after_s"] >= 1
    assert int(api.post("/api/tags", {"transcript": GOOD}, content_type="application/json", **addr)["Retry-After"]) >= 1
    other = api.post("/api/tags", {"transcript": GOOD}, content_type="application/json", REMOTE_ADDR="192.0.2.8")
    assert other.status_code == 200  # per client IP
