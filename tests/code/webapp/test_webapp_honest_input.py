"""Issue 19, in-process: input without words gets a 422 and no tags; markup never reaches the model or a passage;
Chinese is read word by word and unspaced scripts without a segmenter are refused; no clause is ever a tag;
JSON 405s where Django's CSRF page answered; no server path in an error; the schema as strict as the server."""

from __future__ import annotations

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from api.model_cache import LoadedModel

COOKING = "today we bake bread in the oven with flour butter and sugar, knead the dough, salt, taste " * 5
TAG = re.compile(r"<\s*/?\s*[a-zA-Z!?]")  # the start of an HTML tag


def post_json(api, body):
    return api.post("/api/tags", body, content_type="application/json")


@pytest.fixture
def seen(monkeypatch):
    """What the model is given (LoadedModel.predict recorded; it answers with the tags set in `seen["answer"]`)."""
    record: dict = {"answer": [("cooking", 0.9, "closed")]}

    def predict(self, transcript, k, title=None, description=None, channel_history=()):
        record.update(transcript=transcript, title=title, description=description)
        return record["answer"][:k]

    monkeypatch.setattr(LoadedModel, "predict", predict)
    return record


@pytest.mark.parametrize(
    "transcript",
    [
        "😀" * 200,  # issue 19: answered en with tags manufacturing, animation, violin
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a> <img src=x onerror=alert(1)>',
        "<script>alert('tags for this')</script><style>body{}</style>",
        "12 345 6789 !!! ??? ### 2024",
        "&lt;img src=x onerror=alert(1)&gt;",
        "bread",
    ],
)
def test_no_real_words_is_a_422_never_tags(api, seen, transcript):
    response = post_json(api, {"transcript": transcript})
    assert response.status_code == 422 and response["Content-Type"].startswith("application/json")
    body = response.json()
    assert "word" in body["error"] and body["words"] < body["min_words"] and "tags" not in body
    assert "transcript" not in seen  # the model never ran


def test_markup_is_stripped_before_the_model_and_the_cache(api, seen):
    dressed = f"<p>{COOKING}</p><script>alert('onerror')</script> <img src=x onerror=alert(1)> &amp; more"
    response = post_json(
        api, {"transcript": dressed, "title": "<b>Bread</b> &amp; butter", "description": "<i>crusty</i> loaf"}
    )
    assert response.status_code == 200
    assert not TAG.search(seen["transcript"]) and "onerror" not in seen["transcript"]
    assert "alert" not in seen["transcript"] and "& more" in seen["transcript"]
    assert (seen["title"], seen["description"]) == ("Bread & butter", "crusty loaf")
    # the same words without the markup are the same request: one cache entry
    plain = {"transcript": COOKING + " & more", "title": "Bread & butter", "description": "crusty loaf"}
    assert post_json(api, plain)["X-Cache"] == "hit"


def test_an_unspaced_script_without_a_segmenter_is_a_422_that_says_so(api, seen):
    japanese = "今日はパンを作ります。まず小麦粉と水を混ぜます。それからオーブンで焼きます。" * 3
    response = post_json(api, {"transcript": japanese})
    assert response.status_code == 422 and response.json()["script"] == "Japanese"
    assert "not supported" in response.json()["error"] and "transcript" not in seen


def test_chinese_is_read_word_by_word_and_a_clause_is_never_a_tag(api, seen):
    chinese = "今天我们来做面包。首先把面粉和水混合，然后加入酵母和盐。面包需要发酵两个小时。" * 3
    clause = "首先把面粉和水混合然后加入酵母和盐面包需要发酵两个小时"  # what issue 19 saw come back
    seen["answer"] = [("面包", 0.9, "transcript"), (clause, 0.8, "transcript"), ("酵母", 0.7, "transcript")]
    body = post_json(api, {"transcript": chinese, "k": 3}).json()
    assert [t["tag"] for t in body["tags"]] == ["面包", "酵母"]
    assert "面包" in body["tags"][0]["evidence"]["passage"]  # found word by word, not as part of a clause
    assert body["language"] == "zh"


def test_subtitle_entities_never_come_back_as_markup_in_a_passage(api, seen):
    """Issue 19: `&lt;img ...&gt;` was stripped of tags first and decoded after: live markup in evidence.passage."""
    srt = (
        "1\n00:00:01,000 --> 00:00:03,000\n&lt;img src=x onerror=alert(1)&gt; today we bake bread\n\n"
        "2\n00:00:04,000 --> 00:00:06,000\n<i>knead</i> the &lt;b&gt;dough&lt;/b&gt; with flour\n\n"
        "3\n00:00:07,000 --> 00:00:09,000\n&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt; bake the bread\n\n"
    )
    seen["answer"] = [("bread", 0.9, "transcript"), ("dough", 0.8, "transcript"), ("flour", 0.7, "transcript")]
    upload = SimpleUploadedFile("bread.srt", srt.encode(), content_type="application/octet-stream")
    body = api.post("/api/tags", {"file": upload, "k": "3"}).json()
    passages = [t["evidence"]["passage"] for t in body["tags"]]
    assert len(passages) == 3 and any("today we bake bread" in p for p in passages)
    for passage in passages:
        assert not TAG.search(passage) and "onerror" not in passage and "alert" not in passage, passage
    assert not TAG.search(seen["transcript"])


def test_other_methods_are_json_405_not_the_csrf_page(api):
    strict = Client(enforce_csrf_checks=True)  # as a browser meets it (Django's test client skips CSRF)
    metrics = strict.post("/metrics", {"x": "1"})
    assert metrics.status_code == 405 and metrics["Allow"] == "GET"
    assert metrics["Content-Type"].startswith("application/json") and "CSRF" not in metrics.content.decode()
    page = strict.post("/", {"x": "1"})
    assert page.status_code == 405 and page["Content-Type"].startswith("application/json")
    assert strict.get("/").status_code == 200


@pytest.mark.parametrize(
    "path", ["/static/..%2f..%2ftubetags_site%2fsettings.py", "/static/tubetags/..%2f..%2f..%2fREADME.md"]
)
def test_a_static_traversal_names_no_server_path(api, settings, path):
    settings.DEBUG = False
    response = Client(raise_request_exception=False).get(path)
    assert response.status_code in {400, 404} and response["Content-Type"].startswith("application/json")
    assert str(settings.BASE_DIR) not in response.content.decode()


def test_the_schema_is_as_strict_as_the_server(api, settings):
    schema = api.get("/api/schema").json()
    components = schema["components"]["schemas"]
    json_body, upload = components["TagsJsonRequest"], components["TagsUploadRequest"]
    assert json_body["additionalProperties"] is False and upload["additionalProperties"] is False
    transcript = json_body["properties"]["transcript"]
    assert transcript["minLength"] == 1 and transcript["maxLength"] == settings.TUBETAGS_MAX_TRANSCRIPT_CHARS
    assert re.search(transcript["pattern"], "  a ") and not re.search(transcript["pattern"], " \n\t")
    assert not re.search(transcript["pattern"], "a\x00b")
    assert upload["properties"]["file"] == {**upload["properties"]["file"], "type": "string", "format": "binary"}
    for body in (json_body, upload):
        model = re.compile(body["properties"]["model"]["pattern"])
        assert model.search("encoder-head") and not model.search("../etc") and not model.search(" production")
    responses = schema["paths"]["/api/tags"]["post"]["responses"]
    assert {"400", "404", "413", "415", "422", "429", "503"} <= set(responses)
    # the server refuses, with a 400, what the schema refuses
    assert post_json(api, {"transcript": COOKING, "extra": 1}).status_code == 400
    assert post_json(api, {"transcript": COOKING, "model": "Production"}).status_code == 400
    assert post_json(api, {"transcript": COOKING, "title": "a\x00b"}).status_code == 400
    assert post_json(api, json.dumps({"transcript": COOKING}) + " ").status_code == 200
