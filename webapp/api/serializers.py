"""Request validation and the shapes that drf-spectacular publishes in /api/schema."""

from __future__ import annotations

import re

from django.conf import settings
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator


JSON_TYPES = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
              dict: "an object", type(None): "null"}


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
        self.validators = [FastSurrogateValidator() if type(v) is ProhibitSurrogateCharactersValidator else v
                           for v in self.validators]

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
        required=False, allow_blank=True, trim_whitespace=False,
        help_text=f"The video's transcript (at most {settings.TUBETAGS_MAX_TRANSCRIPT_CHARS:,} characters). "
                  "Send this or `file`, not both.",
    )
    file = serializers.FileField(
        required=False,
        help_text=f"multipart only: an .srt or .vtt subtitle file (at most {settings.TUBETAGS_MAX_UPLOAD_BYTES:,} "
                  "bytes, UTF-8/UTF-16/Windows-1252).",
    )
    k = StrictIntegerField(required=False, default=10, min_value=1, max_value=settings.TUBETAGS_MAX_K,
                           help_text="How many tags to return.")
    model = StrictCharField(required=False, max_length=40,
                            help_text="A registry alias: production (default), baseline, bilstm, encoder-head, "
                                      "zero-shot, open-vocab; only aliases that exist in the registry.")

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


class TagsUploadRequest(serializers.Serializer):
    """The multipart body, for the schema."""

    file = serializers.FileField(help_text=TagsRequest().fields["file"].help_text)
    k = serializers.IntegerField(required=False, default=10, min_value=1, max_value=settings.TUBETAGS_MAX_K)
    model = serializers.CharField(required=False)


class ScoredTag(serializers.Serializer):
    tag = serializers.CharField()
    score = serializers.FloatField(help_text="In [0, 1]; higher is more confident.")


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
