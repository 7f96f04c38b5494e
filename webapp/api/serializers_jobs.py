"""POST /api/jobs's body checked in full, and the shapes of the job answers and of POST /api/tags/fit.

Every check that can be made before queueing is made here, so a bad input is a JSON 4xx at once and nothing is
queued: the body's shape and fields (as POST /api/tags), then a link (YouTube, one video, and YouTube's oEmbed says
the video is there) or a file (a known extension, not empty, within the size limit, and ffprobe finds a sound track
no longer than the limit).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers
from rest_framework.request import Request

from api.errors import ApiError
from api.model_cache import ALIAS_PATTERN, PRODUCTION, UnknownAlias, get_cache
from api.serializers import (
    NOT_BLANK_NO_NUL,
    ModelInfo,
    ScoredTag,
    StrictCharField,
    TagsRequest,
    TagsUploadRequest,
    strict_body_schema,
)
from pipelines import media, youtube_links

if TYPE_CHECKING:
    from drf_spectacular.openapi import AutoSchema
    from drf_spectacular.utils import Direction

MEDIA_EXTENSIONS = (".mp4", ".mkv", ".webm", ".mov", ".m4v", ".mp3", ".m4a", ".aac", ".wav", ".ogg", ".opus", ".flac")


def _length(seconds: float) -> str:
    """2 h, 1 h 30 min, 12 min, 13 s."""
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h"] * bool(hours) + [f"{minutes} min"] * bool(minutes) + [f"{secs} s"] * bool(secs and not hours)
    return " ".join(parts) or "0 s"


class JobRequest(TagsRequest):
    """POST /api/jobs: a YouTube link (JSON) or a video/audio file (multipart), and k, model, title, description,
    channel_history as in POST /api/tags. `read(request)` returns the service's arguments: kind, video (link) or
    upload + its MediaInfo (file), k, alias, title, description, channel_history."""

    transcript = None  # type: ignore[assignment]  # not a field here
    url = StrictCharField(
        required=False,
        max_length=2000,
        help_text="A YouTube video's link: https://www.youtube.com/watch?v=…, https://youtu.be/… or "
        "https://www.youtube.com/shorts/…. Its captions are used, else its sound track is transcribed.",
    )
    file = serializers.FileField(
        required=False,
        allow_empty_file=True,  # refused below with the other unusable files (422), not as a malformed body
        help_text=f"multipart only: a video or audio file ({', '.join(e.lstrip('.') for e in MEDIA_EXTENSIONS)}), "
        f"at most {settings.TUBETAGS_JOBS_MAX_UPLOAD_BYTES:,} bytes and "
        f"{_length(settings.TUBETAGS_JOBS_MAX_DURATION_S)} long, with a sound track.",
    )
    kinds: ClassVar[dict[bool, type[JobRequest]]] = {}

    @staticmethod
    def read(request: Request) -> dict[str, Any]:
        if not int(request.META.get("CONTENT_LENGTH") or 0):
            raise ApiError(
                400,
                'The request body is empty: send JSON {"url": "https://www.youtube.com/watch?v=…"} or a multipart '
                "form with a video or audio file in field 'file'.",
            )
        is_json = request.content_type.split(";")[0].strip().lower() == "application/json"
        checked = JobRequest.kinds[is_json](data=request.data)
        checked.is_valid(raise_exception=True)
        return checked.validated_data

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.text_field not in attrs:
            raise serializers.ValidationError(self.missing_text)
        alias = check_alias(attrs.get("model") or PRODUCTION)
        common = {
            "k": attrs["k"],
            "alias": alias,
            "title": attrs.get("title") or None,
            "description": attrs.get("description") or None,
            "channel_history": attrs.get("channel_history", ()),
        }
        if "url" in attrs:
            video = check_link(attrs["url"])
            return {**common, "kind": "url", "video": video, "title": common["title"] or video.title}
        upload = attrs["file"]
        return {**common, "kind": "file", "upload": upload, "media": check_upload(upload)}


class JobJsonRequest(JobRequest):
    """A JSON object with a YouTube link in `url`."""

    text_field = "url"
    json_body = True
    missing_text = "'url' is required: a YouTube video's link (or upload a video file as multipart field 'file')."
    other_kind = " A video file goes in a multipart form, field 'file'."
    file = None  # type: ignore[assignment]  # DRF: not a field of this kind of body


class JobUploadRequest(JobRequest, TagsUploadRequest):
    """A multipart form with a video or audio file in `file`."""

    transcript = None  # type: ignore[assignment]
    url = None  # type: ignore[assignment]
    text_field = "file"
    json_body = False
    missing_text = "'file' is required: a video or audio file (send a YouTube link as JSON, field 'url', instead)."
    other_kind = " A YouTube link goes in a JSON body, field 'url'."


JobRequest.kinds = {True: JobJsonRequest, False: JobUploadRequest}


def check_alias(alias: str) -> str:
    """A served alias that is in the registry (400 otherwise, 503 without a registry): checked before queueing."""
    if not ALIAS_PATTERN.match(alias):
        raise ApiError(400, f"Invalid model alias {alias!r}: use lower-case letters, digits, '-' or '_'.")
    aliases = get_cache().aliases()
    if alias not in aliases:
        if alias == PRODUCTION:
            raise ApiError(503, get_cache().no_production_message())
        raise UnknownAlias(f"Unknown model alias {alias!r}; available: {', '.join(sorted(aliases))}.", sorted(aliases))
    return alias


def check_link(url: str) -> youtube_links.VideoInfo:
    try:
        video = youtube_links.video_id(url)
    except youtube_links.BadLink as exc:  # well-formed, but not a link to one YouTube video
        raise ApiError(422, str(exc)) from exc
    try:
        return youtube_links.look_up(video)
    except youtube_links.VideoGone as exc:
        raise ApiError(404 if exc.status in (400, 404) else 422, str(exc), youtube_status=exc.status) from exc


def check_upload(upload: UploadedFile) -> media.MediaInfo:
    """415 not a media file, 413 too big or too long, 422 empty or no sound track."""
    name = upload.name or ""
    suffix = Path(name).suffix.lower()
    if suffix not in MEDIA_EXTENSIONS:
        raise ApiError(
            415,
            f"Unsupported file type {suffix or '(no extension)'!r}: upload a video or audio file "
            f"({', '.join(MEDIA_EXTENSIONS)}). For subtitles, use POST /api/tags.",
        )
    if not upload.size:
        raise ApiError(422, "The file is empty.")
    if upload.size > settings.TUBETAGS_JOBS_MAX_UPLOAD_BYTES:
        raise ApiError(
            413,
            f"The file is {upload.size:,} bytes; the limit is {settings.TUBETAGS_JOBS_MAX_UPLOAD_BYTES:,} bytes. "
            "For a long video, upload its sound track only (e.g. .m4a): it is much smaller.",
            limit_bytes=settings.TUBETAGS_JOBS_MAX_UPLOAD_BYTES,
        )
    try:
        info = probe_upload(upload)
    except media.MediaError as exc:
        status = 422 if "no sound track" in str(exc) or "empty" in str(exc) else 415
        raise ApiError(status, str(exc)) from exc
    if info.duration_s > settings.TUBETAGS_JOBS_MAX_DURATION_S:
        raise ApiError(
            413,
            f"The video is {_length(info.duration_s)} long; the limit is "
            f"{_length(settings.TUBETAGS_JOBS_MAX_DURATION_S)}.",
            limit_s=settings.TUBETAGS_JOBS_MAX_DURATION_S,
        )
    return info


def probe_upload(upload: UploadedFile) -> media.MediaInfo:
    """ffprobe on the upload where it is (a temporary file), or on a copy of a small upload held in memory."""
    if isinstance(upload, TemporaryUploadedFile):
        return media.probe(Path(upload.temporary_file_path()))
    with tempfile.NamedTemporaryFile(suffix=Path(upload.name or "").suffix) as copy:
        for chunk in upload.chunks():
            copy.write(chunk)
        copy.flush()
        return media.probe(Path(copy.name))


class JobRequestSchema(OpenApiSerializerExtension):
    """In /api/schema: each kind of body with its own field (`url` or `file`), required, and no other field; as
    strict as the server, like `api.serializers.TagsRequestSchema`: what it refuses with a 400 is outside the schema;
    what a schema cannot say (a YouTube video that exists, a real media file, its length) is 404, 413, 415 or 422."""

    target_class = "api.serializers_jobs.JobRequest"
    match_subclasses = True
    priority = 1  # over api.serializers.TagsRequestSchema, which matches these subclasses too

    def map_serializer(self, auto_schema: AutoSchema, direction: Direction) -> dict[str, Any]:
        return strict_body_schema(
            auto_schema, self.target, direction, text_constraints={"url": {"minLength": 1, "pattern": NOT_BLANK_NO_NUL}}
        )


class JobCreated(serializers.Serializer):
    job_id = serializers.CharField(help_text="22 random characters.")
    status_url = serializers.CharField(help_text="GET it with the token: the job's state, progress and result.")
    token = serializers.CharField(
        help_text="The job's secret, shown only now: send `Authorization: Bearer <token>` to read the job."
    )
    state = serializers.CharField(help_text="`queued`.")


class TimedSegment(serializers.Serializer):
    start_s = serializers.FloatField(help_text="Start in the video, s.")
    end_s = serializers.FloatField(allow_null=True, help_text="End, s (null for caption lines).")
    text = serializers.CharField()


class TranscriptInfo(serializers.Serializer):
    source = serializers.ChoiceField(["manual captions", "auto captions", "whisper"])
    language = serializers.CharField(help_text="Of the captions, or detected from the audio by Whisper.")
    segments = TimedSegment(many=True)


class VideoInfo(serializers.Serializer):
    kind = serializers.ChoiceField(["url", "file"])
    video_id = serializers.CharField(allow_null=True, help_text="The YouTube id (links).")
    url = serializers.CharField(allow_null=True, help_text="The video's page; add `&t=123s` for a moment in it.")
    title = serializers.CharField(allow_null=True)
    duration_s = serializers.FloatField(allow_null=True, help_text="Of the audio transcribed (Whisper only).")


class JobStatus(serializers.Serializer):
    """GET /api/jobs/{id}; when `done`, also the body of POST /api/tags, the transcript and the video."""

    job_id = serializers.CharField()
    state = serializers.ChoiceField(["queued", "fetching", "transcribing", "tagging", "done", "failed"])
    progress = serializers.FloatField(help_text="0 to 1, over all stages.")
    eta_s = serializers.FloatField(allow_null=True, help_text="Seconds left, while transcribing; else null.")
    detail = serializers.CharField(help_text="What is happening, in words (e.g. 'Transcribing 3:20 of 10:00').")
    error = serializers.CharField(allow_null=True, help_text="Why the job failed, in words; null unless failed.")
    tags = ScoredTag(many=True, required=False, help_text="When done: as POST /api/tags.")
    youtube_tags = serializers.CharField(required=False)
    language = serializers.CharField(required=False)
    model = ModelInfo(required=False)
    elapsed_ms = serializers.FloatField(required=False, help_text="Time of the tagging step.")
    transcript = TranscriptInfo(required=False)
    video = VideoInfo(required=False)


class FitRequest(serializers.Serializer):
    tags = serializers.ListField(
        child=StrictCharField(max_length=500, allow_blank=True, trim_whitespace=False),  # as the schema counts
        max_length=200,
        help_text="Tags, in the order the creator wants them kept.",
    )


class DroppedTag(serializers.Serializer):
    tag = serializers.CharField()
    reason = serializers.ChoiceField(
        ["unusable", "duplicate", "over budget"],
        help_text="unusable: no letter or digit, or over 100 characters; duplicate: a spelling or plural of an "
        "earlier tag; over budget: does not fit in the 500 characters left.",
    )


class FitResponse(serializers.Serializer):
    youtube_tags = serializers.CharField(help_text="What to paste into YouTube's tag box.")
    kept = serializers.ListField(child=serializers.CharField())
    dropped = DroppedTag(many=True)
    length = serializers.IntegerField(help_text="Characters as YouTube counts them (quotes around tags with spaces).")
    limit = serializers.IntegerField()
