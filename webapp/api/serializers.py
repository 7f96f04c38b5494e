"""Request validation and the shapes that drf-spectacular publishes in /api/schema."""

from __future__ import annotations

import re

from django.conf import settings
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from tubetags.registry import SERVED_ALIASES

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

    def __call__(self, value):
        found = _SURROGATE.search(str(value))
        if found:
            raise serializers.ValidationError(self.message.format(code_point=ord(found.group())), code=self.code)


class StrictCharField(serializers.CharField):
    """A string, and only a string (DRF's CharField would turn 123 into "123")."""

    default_error_messages = {"type": "Must be a string, not {kind}."}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [
            FastSurrogateValidator() if type(v) is ProhibitSurrogateCharactersValidator else v for v in self.validators
        ]

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("type", kind=JSON_TYPES.get(type(data), type(data).__name__))
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """An integer; in JSON not "10", 10.0 or true. Multipart form fields are strings by nature."""

    default_error_messages = {"type": "Must be a whole number (a JSON integer), not {kind}."}

    def to_internal_value(self, data):
        if isinstance(data, (bool, float)) or (isinstance(data, str) and self.context.get("json")):
            self.fail("type", kind=JSON_TYPES[type(data)] if not isinstance(data, float) else repr(data))
        return super().to_internal_value(data)


class TagsRequest(serializers.Serializer):
    transcript = StrictCharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text=f"The video's transcript (at most {settings.TUBETAGS_MAX_TRANSCRIPT_CHARS:,} characters). "
        "Send this or `file`, not both.",
    )
    file = serializers.FileField(
        required=False,
        help_text=f"multipart only: an .srt or .vtt subtitle file (at most {settings.TUBETAGS_MAX_UPLOAD_BYTES:,} "
        "bytes, UTF-8/UTF-16/Windows-1252).",
    )
    k = StrictIntegerField(
        required=False, default=10, min_value=1, max_value=settings.TUBETAGS_MAX_K, help_text="How many tags to return."
    )
    model = StrictCharField(
        required=False,
        max_length=40,
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
        help_text="Optional: the video's description; its opening (links dropped) is used with the transcript.",
    )

    def validate(self, attrs):
        if "transcript" in attrs and "file" in attrs:
            raise serializers.ValidationError("Send either 'transcript' or 'file', not both.")
        if "transcript" not in attrs and "file" not in attrs:
            raise serializers.ValidationError(
                "'transcript' is required (or upload an .srt/.vtt file as multipart field 'file')."
            )
        return attrs


class TagsJsonRequest(serializers.Serializer):
    """The JSON body, for the schema (the same checks as TagsRequest)."""

    transcript = serializers.CharField(help_text=TagsRequest().fields["transcript"].help_text)
    k = serializers.IntegerField(required=False, default=10, min_value=1, max_value=settings.TUBETAGS_MAX_K)
    model = serializers.CharField(required=False, help_text=TagsRequest().fields["model"].help_text)
    title = serializers.CharField(required=False, max_length=100, help_text=TagsRequest().fields["title"].help_text)
    description = serializers.CharField(
        required=False, max_length=5000, help_text=TagsRequest().fields["description"].help_text
    )


class TagsUploadRequest(serializers.Serializer):
    """The multipart body, for the schema."""

    file = serializers.FileField(help_text=TagsRequest().fields["file"].help_text)
    k = serializers.IntegerField(required=False, default=10, min_value=1, max_value=settings.TUBETAGS_MAX_K)
    model = serializers.CharField(required=False)
    title = serializers.CharField(required=False, max_length=100)
    description = serializers.CharField(required=False, max_length=5000)


class Evidence(serializers.Serializer):
    passage = serializers.CharField(help_text="The transcript passage that supports the tag.")
    start_s = serializers.FloatField(allow_null=True, help_text="Its start in the video, s (subtitle uploads).")
    start = serializers.CharField(allow_null=True, help_text="The same as YouTube shows it, e.g. 1:05.")


class ScoredTag(serializers.Serializer):
    tag = serializers.CharField()
    score = serializers.FloatField(help_text="In [0, 1]; higher is more confident.")
    source = serializers.ChoiceField(
        ["closed", "transcript"],
        help_text="Where the tag came from: the closed-vocabulary model, or a keyphrase of the transcript.",
    )
    evidence = Evidence(
        allow_null=True, help_text="Null when the tag is not said in the transcript (a topic the model inferred)."
    )


class ModelInfo(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField()
    alias = serializers.CharField()
    strategy = serializers.CharField()


class TagsResponse(serializers.Serializer):
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
