"""Caption tracks through youtube-transcript-api: manual captions first, auto-generated second."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from youtube_transcript_api import (
    CouldNotRetrieveTranscript,
    IpBlocked,
    NoTranscriptFound,
    PoTokenRequired,
    RequestBlocked,
    TranscriptList,
    TranscriptsDisabled,
    YouTubeRequestFailed,
    YouTubeTranscriptApi,
)

from tubetags.text import normalise_transcript

# No usable track, but the audio may still be there: worth transcribing.
NO_CAPTIONS = (TranscriptsDisabled, NoTranscriptFound, PoTokenRequired)
# Blocked or failed requests say nothing about the video: try it again on a later run.
TRANSIENT = (RequestBlocked, IpBlocked, YouTubeRequestFailed)


class CaptionsTransient(RuntimeError):
    pass


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str  # primary subtag only: 'en-US' and 'en-GB' tracks both give 'en'
    source: str  # transcript_source of the data contract


def primary_language(code: str | None) -> str:
    return (code or "").split("-")[0].split("_")[0].lower()


def preferred_languages(default_audio_language: str | None) -> list[str]:
    """The video's own language (exact code, then its primary subtag), then English."""
    codes = [default_audio_language, primary_language(default_audio_language), "en"]
    return list(dict.fromkeys(c for c in codes if c))


def choose_track(tracks: TranscriptList, languages: Iterable[str]):
    """Manual in a preferred language, auto in a preferred language, any manual, any auto."""
    languages = list(languages)
    for find in (tracks.find_manually_created_transcript, tracks.find_generated_transcript):
        try:
            return find(languages)
        except NoTranscriptFound:
            pass
    manual = [t for t in tracks if not t.is_generated]
    generated = [t for t in tracks if t.is_generated]
    return next(iter(manual or generated), None)


def fetch_caption_track(
    video_id: str, default_audio_language: str | None = None, api: YouTubeTranscriptApi | None = None
) -> tuple[Transcript, list[tuple[float, str]]] | None:
    """`fetch_captions` with the timed caption lines too: [(start in seconds, text)], markers such as [Music] gone."""
    api = api or YouTubeTranscriptApi()
    try:
        track = choose_track(api.list(video_id), preferred_languages(default_audio_language))
        if track is None:
            return None
        fetched = track.fetch()
    except NO_CAPTIONS:
        return None
    except TRANSIENT as error:
        raise CaptionsTransient(f"caption request failed: {type(error).__name__}") from error
    text = normalise_transcript(" ".join(snippet.text for snippet in fetched))
    lines = [(float(snippet.start), normalise_transcript(snippet.text)) for snippet in fetched]
    transcript = Transcript(
        text=text,
        language=primary_language(track.language_code),
        source="auto_captions" if track.is_generated else "manual_captions",
    )
    return transcript, [(start, line) for start, line in lines if line]


def fetch_captions(
    video_id: str, default_audio_language: str | None = None, api: YouTubeTranscriptApi | None = None
) -> Transcript | None:
    """The best caption track as a normalised transcript; None when the video has no captions.

    Raises CaptionsTransient for blocked/failed requests, and the library's
    CouldNotRetrieveTranscript subclasses for a video that cannot be read (unavailable, age-restricted).
    """
    found = fetch_caption_track(video_id, default_audio_language, api)
    return found[0] if found else None


__all__ = [
    "CaptionsTransient",
    "CouldNotRetrieveTranscript",
    "Transcript",
    "choose_track",
    "fetch_caption_track",
    "fetch_captions",
    "preferred_languages",
    "primary_language",
]
