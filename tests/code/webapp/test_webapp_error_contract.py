"""Every error on /api/ is JSON {"error": ...}, whatever answered it: DRF, Django's handlers, DEBUG pages."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from test_webapp_bad_input import SRT, check_error


@pytest.mark.parametrize("debug", [False, True])  # `make serve` runs with DEBUG: its error pages are HTML
def test_deeply_nested_json_is_a_json_400(api, settings, debug):
    settings.DEBUG = debug
    for opening, closing in [("[", "]"), ('{"a":', "}")]:
        body = opening * 10_000 + "1" + closing * 10_000
        check_error(api.post("/api/tags", body, content_type="application/json"), 400, "nested too deeply")


@pytest.mark.parametrize("debug", [False, True])
def test_two_file_parts_is_a_json_400(api, settings, debug):
    settings.DEBUG = debug
    files = [SimpleUploadedFile("a.srt", SRT.encode()), SimpleUploadedFile("b.srt", SRT.encode())]
    check_error(Client(raise_request_exception=False).post("/api/tags", {"file": files}), 400)


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_path_and_method_are_json_even_in_debug(api, settings, debug):
    settings.DEBUG = debug
    check_error(api.get("/api/nothing-here"), 404, "no such endpoint")
    check_error(api.get("/api"), 404)
    check_error(api.delete("/api/tags"), 405, "delete")
    assert api.get("/nothing-here").status_code == 404  # outside /api/ Django's page is fine


@pytest.mark.parametrize("debug", [False, True])
def test_a_bug_is_a_json_500(api, settings, monkeypatch, debug):
    from api.model_cache import LoadedModel

    def broken(self, transcript, k, *context):
        raise RuntimeError("a bug")

    settings.DEBUG = debug
    monkeypatch.setattr(LoadedModel, "predict", broken)
    client = Client(raise_request_exception=False)
    response = client.post("/api/tags", {"transcript": "bake bread " * 20}, content_type="application/json")
    body = check_error(response, 500, "internal server error")
    assert "a bug" not in body["error"]  # no internals in the answer; they are in the log


@pytest.mark.parametrize("debug", [False, True])
def test_too_many_fields_is_json(api, settings, debug):
    settings.DEBUG = debug
    fields = {f"f{i}": "x" for i in range(50)}
    check_error(Client(raise_request_exception=False).post("/api/tags", fields), 400)
