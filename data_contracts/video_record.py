"""Data contract for one video, whatever collected it (CSV adapters, the YouTube collector).

A record that breaks the contract is not dropped: `validate_records` returns it as a
`Rejection` with the reasons, and the caller writes it to a rejects file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

TranscriptSource = Literal["manual_captions", "auto_captions", "whisper", "provided"]

# Short enough to keep a 10-second clip, long enough to refuse an empty caption track.
MIN_TRANSCRIPT_WORDS = 20
MAX_TAG_CHARS = 100  # YouTube refuses longer tags.


class VideoRecord(BaseModel):
    """One video with its transcript and its human tags."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    video_id: str = Field(min_length=1, max_length=64)
    source: str = Field(min_length=1, description="where the record came from: ted, youtube, ...")
    channel: str = Field(default="", description="channel name as normalised by the pipeline")
    title: str = ""
    description: str = ""
    published: dt.date | None = None
    language: str = Field(default="und", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]+)?$|^und$")
    tags: list[str] = Field(min_length=1, description="human tags; a video without tags cannot teach or test")
    transcript: str
    transcript_source: TranscriptSource

    @field_validator("transcript")
    @classmethod
    def _transcript_has_words(cls, value: str) -> str:
        n_words = len(value.split())
        if n_words < MIN_TRANSCRIPT_WORDS:
            raise ValueError(f"transcript has {n_words} words, fewer than {MIN_TRANSCRIPT_WORDS}")
        return value

    @field_validator("tags")
    @classmethod
    def _tags_are_clean(cls, value: list[str]) -> list[str]:
        bad = [t for t in value if not t.strip() or len(t) > MAX_TAG_CHARS]
        if bad:
            raise ValueError(f"empty or over-long tags ({MAX_TAG_CHARS} chars max): {bad[:3]}")
        return value

    def to_row(self) -> dict[str, Any]:
        row = self.model_dump()
        row["published"] = self.published.isoformat() if self.published else None
        return row


# The record's fields in order: the corpus schema, the shard readers and the tests derive theirs from it.
RECORD_FIELDS: tuple[str, ...] = tuple(VideoRecord.model_fields)


@dataclass(frozen=True)
class Rejection:
    """A record kept aside, with why."""

    record: dict[str, Any]
    reason: str
    stage: str = "contract"

    def to_row(self) -> dict[str, Any]:
        record = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in self.record.items()}
        return {
            "video_id": str(record.get("video_id", "")),
            "source": str(record.get("source", "")),
            "stage": self.stage,
            "reason": self.reason,
            "record": record,
        }


def _reason(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in error.errors())


def validate_records(rows: Iterable[dict[str, Any]]) -> tuple[list[VideoRecord], list[Rejection]]:
    """Split raw rows into valid records and rejections (with the contract's reasons)."""
    accepted: list[VideoRecord] = []
    rejected: list[Rejection] = []
    for row in rows:
        try:
            accepted.append(VideoRecord.model_validate(row))
        except ValidationError as error:
            rejected.append(Rejection(record=dict(row), reason=_reason(error)))
    return accepted, rejected
