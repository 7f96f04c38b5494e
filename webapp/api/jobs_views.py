"""POST /api/jobs, GET /api/jobs/{id} (video jobs) and POST /api/tags/fit (the tag box meter): thin views,
input serializer -> service -> output serializer, as api.views."""

from __future__ import annotations

from django.core.files.uploadhandler import TemporaryFileUploadHandler
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import jobs, tag_fit
from api import serializers as s
from api import serializers_jobs as sj
from api.parsers import JSONParser
from api.views import _check_rate_limit


class JobsView(APIView):
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        request={"application/json": sj.JobJsonRequest, "multipart/form-data": sj.JobUploadRequest},
        responses={
            202: sj.JobCreated,
            400: OpenApiResponse(s.Error, "Not what this schema describes (the message says what)."),
            404: OpenApiResponse(s.Error, "YouTube says the video does not exist (removed or mistyped)."),
            413: OpenApiResponse(s.Error, "File over the size limit, or video over the length limit."),
            415: OpenApiResponse(s.Error, "Not a video or audio file (also: a picture, or another kind of file)."),
            422: OpenApiResponse(
                s.Error,
                "Not a link to one YouTube video, a private video, an empty file or one without a sound track.",
            ),
            429: OpenApiResponse(s.Error, "Rate limit exceeded (TUBETAGS_JOBS_RATE_LIMIT)."),
            503: OpenApiResponse(s.Error, "The job queue is down or full, or no production model."),
        },
        examples=[
            OpenApiExample("A link", value={"url": "https://youtu.be/aX3kT9pLq2E", "k": 10}, request_only=True),
        ],
    )
    def post(self, request: Request) -> Response:
        """Queue a video to tag: a YouTube link (JSON `url`) or a video/audio file (multipart `file`). Checked at
        once (a bad input is a 4xx and nothing is queued); then poll `status_url` with the token."""
        _check_rate_limit(request, "api.jobs")
        request.upload_handlers = [TemporaryFileUploadHandler(request)]  # on disk, however small: ffprobe reads it
        created = jobs.create(sj.JobRequest.read(request))
        status_url = f"/api/jobs/{created.job_id}"
        body = {"job_id": created.job_id, "status_url": status_url, "token": created.token, "state": "queued"}
        return Response(sj.JobCreated(body).data, status=202, headers={"Location": status_url})


class JobView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "Authorization", str, OpenApiParameter.HEADER, required=True, description="`Bearer <token>`"
            )
        ],
        responses={
            200: sj.JobStatus,
            404: OpenApiResponse(s.Error, "Unknown or expired job, or not this job's token (the same answer)."),
            503: OpenApiResponse(s.Error, "The job queue is down."),
        },
    )
    def get(self, request: Request, job_id: str) -> Response:
        """A job's state (queued, fetching, transcribing, tagging, done, failed), progress, ETA while transcribing;
        when done the tags (as POST /api/tags), the transcript's source, language and timed segments."""
        scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        job = jobs.fetch(job_id, token.strip() if scheme.lower() == "bearer" else None)
        return Response(sj.JobStatus(jobs.status(job)).data, headers={"Cache-Control": "no-store"})


class FitView(APIView):
    parser_classes = [JSONParser]

    @extend_schema(request=sj.FitRequest, responses={200: sj.FitResponse, 400: s.Error})
    def post(self, request: Request) -> Response:
        """Fit an edited tag list into YouTube's 500-character tag box, by the same rules as `youtube_tags`."""
        checked = sj.FitRequest(data=request.data)
        checked.is_valid(raise_exception=True)
        return Response(sj.FitResponse(tag_fit.fit(checked.validated_data["tags"])).data)
