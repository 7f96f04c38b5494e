"""One video of the YouTube Data API -> a raw record in the data contract's shape.

The transcript comes from manual captions, else automatic ones, else Whisper on the audio (`WhisperPolicy`
says whether and up to what length). A video that cannot be done now (captions service down, audio not
downloadable, live) raises `TransientFailure` and stays pending for the next run.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines import asr, captions
from pipelines.collected_store import atomic_write
from tubetags import settings


def parse_duration(iso: str | None) -> float:
    """Seconds in an ISO 8601 duration as contentDetails gives it ('PT1H2M3S', 'P1DT2H')."""
    match = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?", iso or "")
    if not match:
        return 0.0
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return float(((days * 24 + hours) * 60 + minutes) * 60 + seconds)


class TransientFailure(Exception):
    """The video could not be done now but may be later: it stays pending."""


@dataclass(frozen=True)
class WhisperPolicy:
    """When and how a video without captions is transcribed."""

    enabled: bool = True
    max_minutes: float = 90.0
    backend: str = asr.DEFAULT_BACKEND
    model: str | None = None  # checkpoint / CTranslate2 dir; None: the backend's default


def whisper_cache_path(video_id: str) -> Path:
    """Where a Whisper transcript waits until its video's batch is committed (then it is deleted)."""
    return settings.cache_dir() / "transcripts" / f"{video_id}.json"


def cached_whisper(video_id: str, whisper: WhisperPolicy) -> captions.Transcript:
    """Whisper costs minutes per video: keep its result until the batch is committed."""
    path = whisper_cache_path(video_id)
    if path.exists():
        return captions.Transcript(**json.loads(path.read_text()))
    try:
        transcript = asr.transcribe_video(video_id, backend=whisper.backend, model=whisper.model)
    except asr.AudioUnavailable as error:
        raise TransientFailure(f"no captions and audio download failed: {str(error)[:200]}") from error
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(vars(transcript)).encode())
    return transcript


def transcript_for(item: dict[str, Any], whisper: WhisperPolicy, api: Any) -> captions.Transcript | None:
    """Captions, else Whisper; None when the video cannot teach anything anyway (no tags)."""
    snippet = item["snippet"]
    language = snippet.get("defaultAudioLanguage") or snippet.get("defaultLanguage")
    try:
        found = captions.fetch_captions(item["id"], language, api=api)
    except captions.CaptionsTransient as error:
        raise TransientFailure(str(error)) from error
    if found is not None:
        return found
    if not snippet.get("tags"):
        return None  # the contract rejects it for its tags; transcribing would be wasted CPU
    if not whisper.enabled:
        raise TransientFailure("no captions and whisper is off")
    minutes = parse_duration(item.get("contentDetails", {}).get("duration")) / 60
    if minutes > whisper.max_minutes:
        raise TransientFailure(f"no captions and {minutes:.0f} min is over --max-whisper-minutes")
    return cached_whisper(item["id"], whisper)


def record_for(item: dict[str, Any], transcript: captions.Transcript | None) -> dict[str, Any]:
    """A raw row in the contract's shape; validation is the contract's job."""
    snippet = item["snippet"]
    return {
        "video_id": item["id"],
        "source": "youtube",
        "channel": snippet.get("channelTitle", ""),
        "title": snippet.get("title", ""),
        "description": snippet.get("description", ""),
        "published": (snippet.get("publishedAt") or "")[:10] or None,
        "language": transcript.language if transcript else "und",
        "tags": snippet.get("tags", []),
        "transcript": transcript.text if transcript else "",
        # Without a transcript the record is only kept as a rejection; the field must still be valid.
        "transcript_source": transcript.source if transcript else "auto_captions",
    }
