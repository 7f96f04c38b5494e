"""The API (/api/health, /api/models, /api/tags) and the demo page (/)."""

from __future__ import annotations

import time
from collections.abc import Mapping

from django.conf import settings
from django.shortcuts import render
from django_ratelimit.core import get_usage
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api import request_log, tagging
from api import serializers as s
from api.errors import ApiError
from api.model_cache import ALIAS_PATTERN, PRODUCTION, ModelUnavailable, UnknownAlias, get_cache
from api.parsers import JSONParser
from api.subtitles import EXTENSIONS, SubtitleError, subtitle_segments
from tubetags.evidence import (
    IndexedSegment,
    Segment,
    find_evidence,
    format_time,
    index_segments,
    segments_from_text,
)
from tubetags.tags import youtube_tag_string
from tubetags.text import normalise_transcript

ALLOWED_FIELDS = {"transcript", "file", "k", "model", "title", "description"}


def _rate(group, request):
    return settings.TUBETAGS_RATE_LIMIT


def _check_rate_limit(request) -> None:
    usage = get_usage(request, group="api.tags", key="ip", rate=_rate, method="POST", increment=True)
    if usage and usage["should_limit"]:
        raise ApiError(429, f"Too many requests: the limit is {settings.TUBETAGS_RATE_LIMIT} per client IP. "
                            f"Retry in {max(usage['time_left'], 1)} s.", retry_after_s=max(usage["time_left"], 1))


def _model(alias: str):
    try:
        return get_cache().get(alias)
    except UnknownAlias as exc:
        raise ApiError(400, str(exc), available=exc.available) from exc
    except ModelUnavailable as exc:
        raise ApiError(503, str(exc)) from exc


class HealthView(APIView):
    @extend_schema(responses={200: s.HealthResponse, 503: OpenApiResponse(s.Error, "No usable production model.")})
    def get(self, request):
        """Which model answers: name, version, strategy of @production (loading it if needed)."""
        model = _model(PRODUCTION)
        return Response({"status": "ok", "model": model.describe(PRODUCTION), "aliases": get_cache().aliases()})


class ModelsView(APIView):
    @extend_schema(responses={200: s.ModelsResponse, 503: s.Error})
    def get(self, request):
        """The served aliases that exist in the registry (without loading them)."""
        try:
            return Response({"models": get_cache().catalogue()})
        except ModelUnavailable as exc:
            raise ApiError(503, str(exc)) from exc


class TagsView(APIView):
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        request={"application/json": s.TagsJsonRequest, "multipart/form-data": s.TagsUploadRequest},
        responses={
            200: s.TagsResponse,
            400: OpenApiResponse(s.Error, "Invalid input (the message says what)."),
            413: OpenApiResponse(s.Error, "Transcript, file or body over the size limit."),
            415: OpenApiResponse(s.Error, "Not JSON/multipart, or not an .srt/.vtt file."),
            429: OpenApiResponse(s.Error, "Rate limit exceeded."),
            503: OpenApiResponse(s.Error, "No production model in the registry."),
        },
        examples=[OpenApiExample("JSON", value={"transcript": "today we bake sourdough bread ...", "k": 10},
                                 request_only=True)],
    )
    def post(self, request):
        """Ranked tags for a transcript (JSON) or an .srt/.vtt subtitle file (multipart field `file`)."""
        started = time.perf_counter()
        _check_rate_limit(request)
        if not int(request.META.get("CONTENT_LENGTH") or 0):  # DRF would read an empty body as {}
            raise ApiError(400, "The request body is empty: send JSON {\"transcript\": \"...\"} or a "
                                "multipart form with an .srt/.vtt file in field 'file'.")
        data = request.data  # parse errors become 400 in api.errors
        if not isinstance(data, Mapping):
            raise ApiError(400, "The JSON body must be an object, e.g. {\"transcript\": \"...\", \"k\": 10}.")
        unknown = sorted(set(data.keys()) - ALLOWED_FIELDS)
        if unknown:
            allowed = ", ".join(sorted(ALLOWED_FIELDS))
            raise ApiError(400, f"Unknown field(s): {', '.join(unknown)}. Allowed: {allowed}.")
        is_json = request.content_type.split(";")[0].strip().lower() == "application/json"
        if not is_json:  # a form field sent twice would otherwise be silently dropped
            repeated = sorted(key for key in data.keys() if len(data.getlist(key)) > 1)
            if repeated:
                raise ApiError(400, f"Field(s) sent more than once: {', '.join(repeated)}.")
        checked = s.TagsRequest(data=data, context={"json": is_json})
        checked.is_valid(raise_exception=True)
        params = checked.validated_data

        source = "file" if "file" in params else "json"
        if "file" in params:
            segments = self._read_upload(params["file"])
            transcript = "\n".join(segment.text for segment in segments)
        else:
            transcript = params["transcript"]
            segments = None
            if len(transcript) > settings.TUBETAGS_MAX_TRANSCRIPT_CHARS:
                raise ApiError(413, f"The transcript has {len(transcript):,} characters; the limit is "
                                    f"{settings.TUBETAGS_MAX_TRANSCRIPT_CHARS:,}.",
                               limit_chars=settings.TUBETAGS_MAX_TRANSCRIPT_CHARS)
            if not transcript.strip():
                raise ApiError(400, "The transcript is empty.")

        alias = params.get("model") or PRODUCTION
        if not ALIAS_PATTERN.match(alias):
            raise ApiError(400, f"Invalid model alias {alias!r}: use lower-case letters, digits, '-' or '_'.")
        model = _model(alias)
        title, description = params.get("title") or None, params.get("description") or None
        prediction = tagging.predict(model, alias, transcript, params["k"], title, description)
        indexed = index_segments(segments or segments_from_text(normalise_transcript(transcript)))
        tags = [{"tag": tag, "score": round(score, 4), "source": origin, "evidence": _evidence(tag, indexed)}
                for tag, score, origin in prediction.ranked]
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        described = model.describe(alias)
        request_log.record(described, source, params["k"], prediction.summary, tags, prediction.cached, elapsed_ms)
        response = Response({
            "tags": tags,
            "youtube_tags": youtube_tag_string([tag for tag, _, _ in prediction.ranked]),
            "language": prediction.summary["language"],
            "model": described,
            "elapsed_ms": elapsed_ms,
        })
        response["X-Cache"] = "hit" if prediction.cached else "miss"
        return response

    @staticmethod
    def _read_upload(upload) -> list[Segment]:
        name = upload.name or ""
        suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if suffix not in EXTENSIONS:
            raise ApiError(415, f"Unsupported file type {suffix or '(no extension)'!r}: upload an .srt or .vtt "
                                "subtitle file.")
        if upload.size > settings.TUBETAGS_MAX_UPLOAD_BYTES:
            raise ApiError(413, f"The file is {upload.size:,} bytes; the limit is "
                                f"{settings.TUBETAGS_MAX_UPLOAD_BYTES:,} bytes.",
                           limit_bytes=settings.TUBETAGS_MAX_UPLOAD_BYTES)
        try:
            segments = subtitle_segments(upload.read(), name)
        except SubtitleError as exc:
            raise ApiError(400, str(exc)) from exc
        chars = sum(len(segment.text) + 1 for segment in segments)
        if chars > settings.TUBETAGS_MAX_TRANSCRIPT_CHARS:
            raise ApiError(413, f"The subtitles hold {chars:,} characters of text; the limit is "
                                f"{settings.TUBETAGS_MAX_TRANSCRIPT_CHARS:,}.")
        return segments


def _evidence(tag: str, segments: list[IndexedSegment]) -> dict | None:
    """The passage that supports a tag, with its time in the video for subtitles; None if it is not said."""
    found = find_evidence(tag, segments)
    if found is None:
        return None
    return {"passage": found.passage, "start_s": found.start_s, "start": format_time(found.start_s)}


def index(request):
    """The demo page; the model menu lists the aliases present in the registry."""
    try:
        models, problem = get_cache().catalogue(), ""
    except ModelUnavailable as exc:
        models, problem = [], str(exc)
    if models and PRODUCTION not in {m["alias"] for m in models}:
        problem = get_cache().no_production_message()
    return render(request, "index.html", {
        "models": models,
        "problem": problem,
        "max_chars": settings.TUBETAGS_MAX_TRANSCRIPT_CHARS,
        "max_upload_mb": settings.TUBETAGS_MAX_UPLOAD_BYTES / 1024 / 1024,
        "max_k": settings.TUBETAGS_MAX_K,
    })
