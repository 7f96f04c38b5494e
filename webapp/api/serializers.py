"""The API's input and output: POST /api/tags's body checked in full (`TagsRequest.read`), and the answers'
shapes. drf-spectacular publishes both in /api/schema."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import QueryDict
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.request import Request
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from api.errors import ApiError
from api.model_cache import ALIAS_PATTERN, PRODUCTION, SERVED_ALIASES
from api.readable import check_readable, plain_text
from api.subtitles import EXTENSIONS, SubtitleError, subtitle_segments
from tubetags.inputs import MAX_HISTORY, MAX_HISTORY_TAGS, PastVideo, parse_history
from tubetags.markup import strip_markup
from tubetags.openvocab.evidence import Segment, format_time

if TYPE_CHECKING:
    from drf_spectacular.openapi import AutoSchema
    from drf_spectacular.utils import Direction

JSON_TYPES = {
    bool: "a boolean",
    int: "a number",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "an object",
    type(None): "null",
}


_SURROGATE = re.compile(r"[\ud800-\udfff]")


class FastSurrogateValidator(ProhibitSurrogateCharactersValidator):
    """DRF's check with one regex search: its per-character generator took ~3 ms of a 2,000-word request."""

    def __call__(self, value: object) -> None:
        found = _SURROGATE.search(str(value))
        if found:
            raise serializers.ValidationError(self.message.format(code_point=ord(found.group())), code=self.code)


class StrictCharField(serializers.CharField):
    """A string, and only a string (DRF's CharField would turn 123 into "123")."""

    default_error_messages = {"type": "Must be a string, not {kind}."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators: list[Callable[[Any], None]] = [
            FastSurrogateValidator() if type(v) is ProhibitSurrogateCharactersValidator else v for v in self.validators
        ]

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("type", kind=JSON_TYPES.get(type(data), type(data).__name__))
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """An integer; in a JSON body (the root serializer's `json_body`) not "10", 10.0 or true. Multipart form
    fields are strings by nature."""

    default_error_messages = {"type": "Must be a whole number (a JSON integer), not {kind}."}

    def to_internal_value(self, data: object) -> int:
        if isinstance(data, (bool, float)) or (isinstance(data, str) and self.root.json_body):
            self.fail("type", kind=JSON_TYPES[type(data)] if not isinstance(data, float) else repr(data))
        return super().to_internal_value(data)


MAX_HISTORY_TITLE_CHARS = 100  # YouTube's limit on a title
MAX_HISTORY_TAG_CHARS = 100  # ... and on one tag


@extend_schema_field({"type": "array", "items": {"type": "object"}})  # the full shape: history_schema
class ChannelHistoryField(serializers.Field):
    """The channel's earlier videos, oldest first: a list of {"title": str, "tags": [str, ...]} objects, both keys
    optional. In a JSON body a wrong shape is a 400 (the schema says it); in a multipart form the list comes as JSON
    text, which the schema cannot judge: its problems are a 422."""

    default_error_messages = {"invalid": "{message}"}

    def to_internal_value(self, data: object) -> tuple[PastVideo, ...]:
        form = not self.root.json_body
        problem = None
        if form:
            try:
                data = json.loads(str(data))
            except json.JSONDecodeError as exc:
                problem = f"Not valid JSON: {exc.msg}."
        problem = problem or history_problem(data)
        if problem and form:
            raise ApiError(422, f"channel_history: {problem}")
        if problem:
            self.fail("invalid", message=problem)
        return tuple(
            PastVideo(plain_text(v.title) or "", tuple(t for t in (plain_text(tag) for tag in v.tags) if t))
            for v in parse_history(data)
        )

    def to_representation(self, value: tuple[PastVideo, ...]) -> list[dict[str, Any]]:
        return [{"title": v.title, "tags": list(v.tags)} for v in value]


def history_problem(data: object) -> str | None:
    """What is wrong with a channel history as sent, or None: exactly what `history_schema` allows."""
    if not isinstance(data, list):
        return "Must be a list of {title, tags} objects."
    if len(data) > MAX_HISTORY:
        return f"At most {MAX_HISTORY} past videos; got {len(data):,}."
    for i, video in enumerate(data):
        if not isinstance(video, dict):
            return f"[{i}] must be an object with title and tags."
        unknown = sorted(set(video) - {"title", "tags"})
        if unknown:
            return f"[{i}] has unknown field(s): {', '.join(map(str, unknown))}."
        title, tags = video.get("title", ""), video.get("tags", [])
        if not isinstance(title, str) or "\x00" in title:
            return f"[{i}].title must be a string (without NUL)."
        if len(title) > MAX_HISTORY_TITLE_CHARS:
            return f"[{i}].title is over {MAX_HISTORY_TITLE_CHARS} characters."
        if not isinstance(tags, list) or not all(isinstance(t, str) and "\x00" not in t for t in tags):
            return f"[{i}].tags must be a list of strings (without NUL)."
        if len(tags) > MAX_HISTORY_TAGS:
            return f"[{i}].tags has over {MAX_HISTORY_TAGS} tags."
        if any(len(t) > MAX_HISTORY_TAG_CHARS for t in tags):
            return f"[{i}].tags has a tag over {MAX_HISTORY_TAG_CHARS} characters."
    return None


class TagsRequest(serializers.Serializer):
    """POST /api/tags: a transcript or a subtitle file, and what to return.

    `read(request)` picks the kind of body (`TagsJsonRequest`, `TagsUploadRequest`) and checks it in the order the
    errors are reported: the body's shape, each field (DRF), then the transcript or the file itself and the alias.
    Its checked data are the service's arguments (`tagging.tag_transcript`).
    """

    text_field: ClassVar[str]  # where this kind of body carries the text: required in /api/schema
    other_kind: ClassVar[str]  # where the other field goes, said when it is sent here
    missing_text: ClassVar[str]  # the 400 for a body without its text field
    json_body: ClassVar[bool]  # JSON numbers must be numbers; form fields are strings by nature

    transcript = StrictCharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text=f"The video's transcript (at most {settings.TUBETAGS_MAX_TRANSCRIPT_CHARS:,} characters). "
        "JSON only; a subtitle file goes in a multipart form.",
    )
    file = serializers.FileField(
        required=False,
        allow_empty_file=True,  # any bytes are schema-valid: an empty file is an unusable subtitle file (422)
        help_text=f"multipart only: an .srt or .vtt subtitle file (at most {settings.TUBETAGS_MAX_UPLOAD_BYTES:,} "
        "bytes, UTF-8/UTF-16/Windows-1252).",
    )
    k = StrictIntegerField(
        required=False, default=10, min_value=1, max_value=settings.TUBETAGS_MAX_K, help_text="How many tags to return."
    )
    model = StrictCharField(
        required=False,
        max_length=40,
        trim_whitespace=False,  # ' production' is not an alias: as the schema's pattern says
        help_text=f"A registry alias: {', '.join(SERVED_ALIASES)} (production is the default); "
        "only aliases that exist in the registry.",
    )
    title = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Optional: the video's title (YouTube allows 100 characters). Used with the "
        "transcript when given: many uploader tags are in the title.",
    )
    description = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=5000,
        help_text="Optional: the video's description; its opening (links dropped) and its hashtags are used with "
        "the transcript.",
    )
    channel_history = ChannelHistoryField(
        required=False,
        help_text=f'Optional: the channel\'s earlier videos, oldest first, as [{{"title": ..., "tags": [...]}}] '
        f"(at most {MAX_HISTORY}; in a multipart form, that list as JSON text). The tags a creator reuses and those "
        "of the past videos nearest to this one join the suggestions (source `history`).",
    )

    @staticmethod
    def read(request: Request) -> dict[str, Any]:
        """The checked body: transcript, segments (the subtitle cues, None for a transcript), k, alias, title,
        description. Raises ApiError (400, 413, 415) or ValidationError (400) saying what is wrong."""
        if not int(request.META.get("CONTENT_LENGTH") or 0):  # DRF would read an empty body as {}
            raise ApiError(
                400,
                'The request body is empty: send JSON {"transcript": "..."} or a '
                "multipart form with an .srt/.vtt file in field 'file'.",
            )
        is_json = request.content_type.split(";")[0].strip().lower() == "application/json"
        kind = TagsJsonRequest if is_json else TagsUploadRequest
        checked = kind(data=request.data)  # parse errors and other media types: 400 and 415 in api.errors
        checked.is_valid(raise_exception=True)
        return checked.validated_data

    def run_validation(self, data: Any = empty) -> dict[str, Any]:
        self.check_shape(data)
        return super().run_validation(data)

    def check_shape(self, data: object) -> None:
        """An object with known fields, before DRF looks at any field."""
        if not isinstance(data, Mapping):
            raise ApiError(400, 'The JSON body must be an object, e.g. {"transcript": "...", "k": 10}.')
        unknown = sorted(set(data.keys()) - set(self.fields))
        if unknown:
            allowed = ", ".join(sorted(self.fields))
            raise ApiError(400, f"Unknown field(s): {', '.join(unknown)}. Allowed: {allowed}.{self.other_kind}")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.text_field not in attrs:
            raise serializers.ValidationError(self.missing_text)
        segments = read_subtitles(attrs["file"]) if "file" in attrs else None
        if segments is not None:  # markup already gone from each caption line (api.subtitles)
            transcript = "\n".join(segment.text for segment in segments)
        else:
            check_transcript(attrs["transcript"])
            transcript = strip_markup(attrs["transcript"])
        check_readable(transcript)
        alias = attrs.get("model", PRODUCTION)
        if not ALIAS_PATTERN.fullmatch(alias):
            raise ApiError(400, f"Invalid model alias {alias!r}: use lower-case letters, digits, '-' or '_'.")
        return {
            "transcript": transcript,
            "segments": segments,
            "k": attrs["k"],
            "alias": alias,
            "title": plain_text(attrs.get("title")),
            "description": plain_text(attrs.get("description")),
            "channel_history": attrs.get("channel_history", ()),
        }


class TagsJsonRequest(TagsRequest):
    """A JSON object: the transcript as text."""

    text_field = "transcript"
    json_body = True
    missing_text = "'transcript' is required (or upload an .srt/.vtt file as multipart field 'file')."
    other_kind = " A subtitle file goes in a multipart form, field 'file'."
    file = None  # type: ignore[assignment]  # DRF: not a field of this kind of body


class TagsUploadRequest(TagsRequest):
    """A multipart form: an .srt or .vtt subtitle file in field `file`."""

    text_field = "file"
    json_body = False
    missing_text = "'file' is required: an .srt/.vtt subtitle file (send a transcript as JSON instead)."
    other_kind = " A transcript as text goes in a JSON body."
    transcript = None  # type: ignore[assignment]

    def check_shape(self, data: object) -> None:
        if isinstance(data, QueryDict):  # what DRF's MultiPartParser gives
            repeated = sorted(key for key in data if len(data.getlist(key)) > 1)
            if repeated:  # a form field sent twice would otherwise be silently dropped
                raise ApiError(400, f"Field(s) sent more than once: {', '.join(repeated)}.")
        super().check_shape(data)


def check_transcript(transcript: str) -> None:
    if len(transcript) > settings.TUBETAGS_MAX_TRANSCRIPT_CHARS:
        raise ApiError(
            413,
            f"The transcript has {len(transcript):,} characters; the limit is "
            f"{settings.TUBETAGS_MAX_TRANSCRIPT_CHARS:,}.",
            limit_chars=settings.TUBETAGS_MAX_TRANSCRIPT_CHARS,
        )
    if not transcript.strip():
        raise ApiError(400, "The transcript is empty.")


def read_subtitles(upload: UploadedFile) -> list[Segment]:
    """The caption lines of an uploaded .srt/.vtt file: 415 for another type, 413 over the limits, 422 for a file
    that is not usable subtitles (binary, undecodable, no cues, no text)."""
    name = upload.name or ""
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in EXTENSIONS:
        raise ApiError(
            415, f"Unsupported file type {suffix or '(no extension)'!r}: upload an .srt or .vtt subtitle file."
        )
    if upload.size > settings.TUBETAGS_MAX_UPLOAD_BYTES:
        raise ApiError(
            413,
            f"The file is {upload.size:,} bytes; the limit is {settings.TUBETAGS_MAX_UPLOAD_BYTES:,} bytes.",
            limit_bytes=settings.TUBETAGS_MAX_UPLOAD_BYTES,
        )
    try:
        segments = subtitle_segments(upload.read(), name)
    except SubtitleError as exc:
        raise ApiError(422, str(exc)) from exc
    chars = sum(len(segment.text) + 1 for segment in segments)
    if chars > settings.TUBETAGS_MAX_TRANSCRIPT_CHARS:
        raise ApiError(
            413,
            f"The subtitles hold {chars:,} characters of text; the limit is "
            f"{settings.TUBETAGS_MAX_TRANSCRIPT_CHARS:,}.",
        )
    return segments


NO_NUL = r"^[^\u0000]*$"
NOT_BLANK_NO_NUL = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"  # and something other than white space


class TagsRequestSchema(OpenApiSerializerExtension):
    """/api/schema shows each kind of body with its own text field, required, and no other field."""

    target_class = "api.serializers.TagsRequest"
    match_subclasses = True

    def map_serializer(self, auto_schema: AutoSchema, direction: Direction) -> dict[str, Any]:
        """As strict as the server (`read`): what it refuses with a 400 is outside the schema. What a schema cannot
        say (enough words, a supported script, a real subtitle file, an alias in this registry) is 404, 413, 415
        or 422, documented on the operation."""
        return strict_body_schema(
            auto_schema,
            self.target,
            direction,
            text_constraints={
                "transcript": {
                    "minLength": 1,
                    "maxLength": settings.TUBETAGS_MAX_TRANSCRIPT_CHARS,
                    "pattern": NOT_BLANK_NO_NUL,
                }
            },
        )


def strict_body_schema(
    auto_schema: AutoSchema, target: Any, direction: Direction, text_constraints: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """One kind of request body (/api/tags, /api/jobs): its own text field required, no other field. A JSON body's
    text field gets `text_constraints`; a form's `file` is binary."""
    schema = auto_schema._map_serializer(target, direction, bypass_extensions=True)
    properties = schema["properties"]
    text_field = target.text_field
    for name in ("title", "description"):
        properties[name]["pattern"] = NO_NUL  # DRF refuses NUL characters in any text field
    json_body = text_field in text_constraints
    if json_body:
        properties[text_field].update(text_constraints[text_field])
    else:
        properties["file"] = {"type": "string", "format": "binary", "description": properties["file"]["description"]}
    properties["model"]["pattern"] = ALIAS_PATTERN.pattern
    properties["channel_history"] = history_schema(json_body, properties["channel_history"])
    schema["required"] = [text_field]
    schema["additionalProperties"] = False
    return schema


def history_schema(json_body: bool, field: dict[str, Any]) -> dict[str, Any]:
    """channel_history in /api/schema: a list of past videos in JSON, their JSON as text in a form."""
    if not json_body:
        return {"type": "string", "description": field.get("description", "")}
    video = {
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": MAX_HISTORY_TITLE_CHARS, "pattern": NO_NUL},
            "tags": {
                "type": "array",
                "items": {"type": "string", "maxLength": MAX_HISTORY_TAG_CHARS, "pattern": NO_NUL},
                "maxItems": MAX_HISTORY_TAGS,
            },
        },
        "additionalProperties": False,
    }
    return {"type": "array", "items": video, "maxItems": MAX_HISTORY, "description": field.get("description", "")}


class VideoTimeField(serializers.CharField):
    """Seconds from the start of the video, written as YouTube shows them: 1:05, 1:02:03."""

    def to_representation(self, value: float) -> str | None:
        return format_time(value)


class Evidence(serializers.Serializer):
    passage = serializers.CharField(help_text="The transcript passage that supports the tag.")
    start_s = serializers.FloatField(allow_null=True, help_text="Its start in the video, s (subtitle uploads).")
    start = VideoTimeField(source="start_s", allow_null=True, help_text="The same as YouTube shows it, e.g. 1:05.")


class ScoredTag(serializers.Serializer):
    tag = serializers.CharField()
    score = serializers.FloatField(help_text="In [0, 1]; higher is more confident.")
    source = serializers.ChoiceField(
        ["closed", "transcript", "history"],
        help_text="Where the tag came from: the closed-vocabulary model, a phrase of the video (transcript, title, "
        "description), or the channel's history (a tag its creator used before).",
    )
    evidence = Evidence(
        allow_null=True, help_text="Null when the tag is not said in the transcript (a topic the model inferred)."
    )


class ModelInfo(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField()
    alias = serializers.CharField()
    strategy = serializers.CharField()


class TagsResponse(serializers.Serializer):  # from a tagging.TagsResult; its `cached` is the X-Cache header
    tags = ScoredTag(many=True, help_text="Best first.")
    youtube_tags = serializers.CharField(
        help_text="The tags comma-joined, best first, cut to fit YouTube's 500-character tag box."
    )
    language = serializers.CharField(help_text="The transcript's detected language (ISO 639-1, 'und' if unsure).")
    model = ModelInfo()
    elapsed_ms = serializers.FloatField(help_text="Server-side time for this request.")


class HealthResponse(serializers.Serializer):
    status = serializers.CharField()
    model = ModelInfo()
    aliases = serializers.DictField(child=serializers.CharField(), help_text="alias -> version")


class ModelsResponse(serializers.Serializer):
    models = ModelInfo(many=True)


class Error(serializers.Serializer):
    error = serializers.CharField(help_text="What was wrong, in words.")
