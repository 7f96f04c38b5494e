"""The happy paths: health, tags from JSON and from subtitle files, model choice, schema, page."""

from __future__ import annotations

import pytest

from tubetags.tags import YOUTUBE_TAG_LIMIT, youtube_tag_length

COOKING = "today we bake bread in the oven with flour butter and sugar, knead the dough, salt, taste " * 20


def post_json(api, body, **extra):
    return api.post("/api/tags", body, content_type="application/json", **extra)


def test_health_names_the_production_model(api):
    response = api.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["model"] == {"name": "tubetags", "version": "2", "alias": "production", "strategy": "baseline"}
    assert body["aliases"] == {"baseline": "1", "production": "2"}


def test_health_without_production_model_is_503_and_says_how_to_make_one(api, monkeypatch):
    monkeypatch.setenv("TUBETAGS_REGISTERED_MODEL", "no-such-model")
    response = api.get("/api/health")
    assert response.status_code == 503
    assert "make demo" in response.json()["error"]
    assert "make experiment && make compare" in response.json()["error"]
    tags = post_json(api, {"transcript": COOKING})
    assert tags.status_code == 503 and "make demo" in tags.json()["error"]
    assert api.get("/").status_code == 200  # the page still renders, with the notice


def test_tags_from_json(api):
    response = post_json(api, {"transcript": COOKING, "k": 3})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"tags", "youtube_tags", "language", "model", "elapsed_ms"}
    assert len(body["tags"]) == 3 and body["language"] == "en"
    assert body["tags"][0]["tag"] == "cooking"
    assert {t["source"] for t in body["tags"]} == {"closed"}  # a closed-vocabulary model
    assert body["tags"][0]["evidence"] is None  # "cooking" is never said: a topic the model inferred
    scores = [t["score"] for t in body["tags"]]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    assert body["youtube_tags"].split(",")[0] == "cooking"
    assert body["model"] == {"name": "tubetags", "version": "2", "alias": "production", "strategy": "baseline"}
    assert body["elapsed_ms"] >= 0


def test_youtube_string_stays_within_500_characters(api, monkeypatch):
    from api.model_cache import LoadedModel

    long_tags = [(f"a rather long tag number {i:02d}", 1 - i / 100, "closed") for i in range(50)]
    monkeypatch.setattr(LoadedModel, "predict", lambda self, transcript, k, *context: long_tags[:k])
    body = post_json(api, {"transcript": COOKING, "k": 50}).json()
    assert len(body["tags"]) == 50
    kept = body["youtube_tags"].split(",")
    assert 0 < len(kept) < 50 and youtube_tag_length(kept) <= YOUTUBE_TAG_LIMIT


def test_choosing_another_alias(api):
    body = post_json(api, {"transcript": COOKING, "model": "baseline"}).json()
    assert body["model"]["alias"] == "baseline" and body["model"]["version"] == "1"


def test_models_lists_registry_aliases(api):
    models = api.get("/api/models").json()["models"]
    assert [(m["alias"], m["version"], m["strategy"]) for m in models] == [
        ("production", "2", "baseline"),
        ("baseline", "1", "baseline"),
    ]


SRT = (
    "1\n00:00:01,000 --> 00:00:03,000\n{\\an8}<i>Today we bake bread</i> in the oven\n\n"
    '2\n00:00:03,000 --> 00:00:05,000\n<font color="red">flour</font> butter &amp; sugar\n\n'
)
VTT_ROLLING = (
    "WEBVTT\nKind: captions\nLanguage: en\n\nNOTE auto-generated\n\n"
    "00:00:00.000 --> 00:00:02.000 align:start position:0%\n \n"
    "knead<00:00:00.500><c> the</c><00:00:00.900><c> dough</c>\n\n"
    "00:00:02.000 --> 00:00:02.010 align:start position:0%\nknead the dough\n \n\n"
    "intro-cue\n00:00:02.010 --> 00:00:04.000 align:start position:0%\nknead the dough\n"
    "<v Chef>bake<00:00:02.500><c> bread</c></v>\n\n"
    "00:00:04.000 --> 00:00:05.000\nbake bread\n>> in the oven\n"
)


def test_srt_to_transcript():
    from api.subtitles import transcript_from_subtitles

    assert transcript_from_subtitles(SRT.encode(), "talk.srt") == (
        "Today we bake bread in the oven\nflour butter & sugar"
    )
    # Windows-1252 and UTF-16 files decode too.
    assert "crème" in transcript_from_subtitles(SRT.replace("sugar", "crème").encode("cp1252"), "a.srt")
    assert "bread" in transcript_from_subtitles(SRT.encode("utf-16"), "a.srt")


def test_rolling_vtt_collapses_repeats_and_drops_markup():
    from api.subtitles import transcript_from_subtitles

    assert transcript_from_subtitles(VTT_ROLLING.encode(), "auto.en.vtt") == (
        "knead the dough\nbake bread\nin the oven"
    )


@pytest.mark.parametrize("name,content", [("talk.srt", SRT), ("auto.en.VTT", VTT_ROLLING)])
def test_tags_from_uploaded_subtitles(api, name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(name, content.encode() * 5, content_type="application/octet-stream")
    response = api.post("/api/tags", {"file": upload, "k": "2", "model": "baseline"})
    assert response.status_code == 200, response.content
    assert response.json()["tags"][0]["tag"] == "cooking"
    assert response.json()["model"]["alias"] == "baseline"


def test_evidence_with_subtitle_times_sources_and_the_title_reach_the_response(api, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from api.model_cache import LoadedModel

    seen = {}

    def predict(self, transcript, k, title=None, description=None, channel_history=()):
        seen.update(title=title, description=description)
        return [("sourdough starter", 0.9, "transcript"), ("breads", 0.8, "closed"), ("physics", 0.1, "closed")][:k]

    monkeypatch.setattr(LoadedModel, "predict", predict)
    srt = (
        "1\n00:00:01,000 --> 00:00:03,000\nToday we bake bread\n\n"
        "2\n00:01:05,500 --> 00:01:08,000\nfeed the sourdough starter with flour\n\n"
    )
    upload = SimpleUploadedFile("bread.srt", srt.encode() * 3, content_type="application/octet-stream")
    body = api.post("/api/tags", {"file": upload, "k": "3", "title": "My sourdough"}).json()
    starter, bread, physics = body["tags"]
    assert starter["source"] == "transcript" and starter["evidence"]["start"] == "1:05"
    assert starter["evidence"]["start_s"] == 65.5 and "sourdough starter" in starter["evidence"]["passage"]
    assert bread["source"] == "closed" and bread["evidence"]["start"] == "0:01"  # "breads" matches "bread"
    assert physics["evidence"] is None
    assert seen == {"title": "My sourdough", "description": None}
    too_long = post_json(api, {"transcript": COOKING, "title": "x" * 101})
    assert too_long.status_code == 400 and "title" in too_long.json()["error"].lower()


def test_the_detected_language_is_reported(api):
    futebol = (
        "O time jogou muito bem no segundo tempo e o treinador ficou satisfeito com a vitória no clássico. "
        "A torcida cantou durante toda a partida e o goleiro defendeu um pênalti nos acréscimos. "
    ) * 5
    body = post_json(api, {"transcript": futebol, "k": 3}).json()
    assert body["language"] == "pt"


def test_openapi_schema_is_served(api):
    response = api.get("/api/schema")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/tags", "/api/health", "/api/models"} <= set(schema["paths"])
    assert set(schema["paths"]["/api/tags"]["post"]["requestBody"]["content"]) == {
        "application/json",
        "multipart/form-data",
    }


def test_demo_page_lists_models_and_sets_csp(api):
    response = api.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="production"' in html and 'value="baseline"' in html
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert api.get("/static/tubetags/app.js").status_code == 200


def test_schema_shows_each_body_with_its_own_required_text_field(api):
    """One serializer validates both kinds of body; the schema still tells them apart."""
    components = api.get("/api/schema").json()["components"]["schemas"]
    json_body, upload = components["TagsJsonRequest"], components["TagsUploadRequest"]
    assert json_body["required"] == ["transcript"] and "file" not in json_body["properties"]
    assert upload["required"] == ["file"] and "transcript" not in upload["properties"]
    assert "nullable" not in upload["properties"]["file"]
    shared = ["k", "model", "title", "description"]
    assert [json_body["properties"][name] for name in shared] == [upload["properties"][name] for name in shared]


def test_channel_history_reaches_the_model_and_its_tags_come_back_as_history(api, monkeypatch):
    from api.model_cache import LoadedModel
    from tubetags.inputs import PastVideo

    seen = {}

    def predict(self, transcript, k, title=None, description=None, channel_history=()):
        seen.update(description=description, history=channel_history)
        reused = [(t, 0.7, "history") for v in channel_history[-1:] for t in v.tags]
        return ([("bread", 0.9, "closed")] + reused)[:k]

    monkeypatch.setattr(LoadedModel, "predict", predict)
    history = [
        {"title": "Baguette <b>at home</b>", "tags": ["baking", "bread"]},
        {"title": "", "tags": ["sourdough series"]},
    ]
    body = post_json(api, {"transcript": COOKING, "k": 3, "description": "A bread.", "channel_history": history}).json()
    assert seen == {
        "description": "A bread.",
        "history": (PastVideo("Baguette at home", ("baking", "bread")), PastVideo("", ("sourdough series",))),
    }  # markup stripped, order kept: oldest first
    weekly = body["tags"][1]
    assert weekly == {"tag": "sourdough series", "score": 0.7, "source": "history", "evidence": None}
    # In a multipart form the history is JSON text.
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("bread.srt", b"1\n00:00:01,000 --> 00:00:03,000\n" + COOKING.encode() + b"\n\n")
    form = api.post("/api/tags", {"file": upload, "channel_history": '[{"title": "Rye", "tags": ["rye"]}]'})
    assert form.status_code == 200, form.content
    assert seen["history"] == (PastVideo("Rye", ("rye",)),)
    # A different history is a different answer: never served from another history's cache entry.
    post_json(api, {"transcript": COOKING, "k": 3, "channel_history": [{"title": "x", "tags": ["other"]}]})
    assert seen["history"] == (PastVideo("x", ("other",)),)
    # A form's JSON text that is no history is content the schema cannot judge: 422.
    upload = SimpleUploadedFile("bread.srt", b"1\n00:00:01,000 --> 00:00:03,000\n" + COOKING.encode() + b"\n\n")
    broken = api.post("/api/tags", {"file": upload, "channel_history": "[{title"})
    assert broken.status_code == 422 and "channel_history: Not valid JSON" in broken.json()["error"]


def test_a_model_that_reads_no_history_answers_with_a_history_as_without_one(api):
    """Through the real served model (its pyfunc signature takes the optional channel_history column): a closed
    model ignores the history, so the answer is the same; the answer with history is its own cache entry."""
    plain = post_json(api, {"transcript": COOKING, "k": 3}).json()
    history = [{"title": "Rye bread", "tags": ["rye", "baking"]}, {"title": "Bagels", "tags": ["bagels"]}]
    told = post_json(api, {"transcript": COOKING, "k": 3, "channel_history": history})
    assert told.status_code == 200, told.content
    assert told.json()["tags"] == plain["tags"] and told.json()["model"] == plain["model"]


@pytest.mark.parametrize(
    ("history", "message"),
    [
        ("[]", "Must be a list"),
        ({"title": "x"}, "Must be a list"),
        (["a title"], "[0] must be an object"),
        ([{"title": "x", "tags": "bread"}], "[0].tags must be a list of strings"),
        ([{"title": None, "tags": []}], "[0].title must be a string"),
        ([{"title": "x", "views": 3}], "[0] has unknown field(s): views"),
        ([{"title": "x" * 101, "tags": []}], "[0].title is over 100 characters"),
        ([{"title": "x", "tags": ["t"] * 101}], "[0].tags has over 100 tags"),
        ([{"title": "x", "tags": []}] * 501, "At most 500 past videos"),
    ],
)
def test_a_malformed_channel_history_is_a_400_naming_it(api, history, message):
    response = post_json(api, {"transcript": COOKING, "channel_history": history})
    assert response.status_code == 400
    assert "channel_history" in response.json()["error"] and message in response.json()["error"]
