"""The API (/api/health, /api/models, /api/tags) and the demo page (/)."""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django_ratelimit.core import get_usage
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers as s
from api import tagging
from api.errors import ApiError, method_not_allowed
from api.model_cache import PRODUCTION, ModelUnavailable, get_cache
from api.parsers import JSONParser


def _rate(group: str, _request: HttpRequest) -> str:
    return settings.TUBETAGS_JOBS_RATE_LIMIT if group == "api.jobs" else settings.TUBETAGS_RATE_LIMIT


def _check_rate_limit(request: Request, group: str = "api.tags") -> None:
    usage = get_usage(request, group=group, key="ip", rate=_rate, method="POST", increment=True)
    if usage and usage["should_limit"]:
        raise ApiError(
            429,
            f"Too many requests: the limit is {_rate(group, request)} per client IP. "
            f"Retry in {max(usage['time_left'], 1)} s.",
            retry_after_s=max(usage["time_left"], 1),
        )


class HealthView(APIView):
    @extend_schema(responses={200: s.HealthResponse, 503: OpenApiResponse(s.Error, "No usable production model.")})
    def get(self, _request: Request) -> Response:
        """Which model answers: name, version, strategy of @production (loading it if needed)."""
        model = get_cache().get(PRODUCTION)
        return Response({"status": "ok", "model": model.describe(PRODUCTION), "aliases": get_cache().aliases()})


class ModelsView(APIView):
    @extend_schema(responses={200: s.ModelsResponse, 503: s.Error})
    def get(self, _request: Request) -> Response:
        """The served aliases that exist in the registry (without loading them)."""
        return Response({"models": get_cache().catalogue()})


class TagsView(APIView):
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        request={"application/json": s.TagsJsonRequest, "multipart/form-data": s.TagsUploadRequest},
        responses={
            200: s.TagsResponse,
            400: OpenApiResponse(s.Error, "Not what this schema describes (the message says what)."),
            404: OpenApiResponse(s.Error, "No model with that alias in the registry."),
            413: OpenApiResponse(s.Error, "Transcript, file or body over the size limit."),
            415: OpenApiResponse(s.Error, "Not JSON/multipart, or not an .srt/.vtt file."),
            422: OpenApiResponse(
                s.Error, "Too few words (markup, emoji, digits left out), or a language written without spaces."
            ),
            429: OpenApiResponse(s.Error, "Rate limit exceeded."),
            503: OpenApiResponse(s.Error, "No production model in the registry."),
        },
        examples=[
            OpenApiExample(
                "JSON", value={"transcript": "today we bake sourdough bread ...", "k": 10}, request_only=True
            )
        ],
    )
    def post(self, request: Request) -> Response:
        """Ranked tags for a transcript (JSON) or an .srt/.vtt subtitle file (multipart field `file`)."""
        started = time.perf_counter()
        _check_rate_limit(request)
        params = s.TagsRequest.read(request)
        result = tagging.tag_transcript(**params, started=started)
        response = Response(s.TagsResponse(result).data)
        response["X-Cache"] = "hit" if result.cached else "miss"
        return response


@csrf_exempt  # a page to read: other methods get a JSON 405, not the CSRF middleware's 403
def index(request: HttpRequest) -> HttpResponse:
    """The demo page; the model menu lists the aliases present in the registry."""
    if request.method not in {"GET", "HEAD"}:
        return method_not_allowed(request, "GET", "HEAD")
    try:
        models, problem = get_cache().catalogue(), ""
    except ModelUnavailable as exc:
        models, problem = [], str(exc)
    if models and PRODUCTION not in {m["alias"] for m in models}:
        problem = get_cache().no_production_message()
    return render(
        request,
        "index.html",
        {
            "models": models,
            "problem": problem,
            "max_chars": settings.TUBETAGS_MAX_TRANSCRIPT_CHARS,
            "max_upload_mb": settings.TUBETAGS_MAX_UPLOAD_BYTES / 1024 / 1024,
            "max_k": settings.TUBETAGS_MAX_K,
            "max_video_gb": settings.TUBETAGS_JOBS_MAX_UPLOAD_BYTES / 1024**3,
            "max_video_hours": settings.TUBETAGS_JOBS_MAX_DURATION_S / 3600,
        },
    )
