"""Tagging a transcript, the service behind POST /api/tags: the model an alias serves, its ranked tags through the
prediction cache, the passage that supports each tag, and the request line for the drift monitor.

Prediction cache: Django's cache `predictions`, shared by the workers. Key: (registered model, version, k, sha256 of
the normalised transcript, title and description). A promotion changes the version, so a new model never answers
from an old model's entries, and transcripts that differ only in what normalisation removes (stage markers,
spacing) share one entry. The cache is the per-host file cache by default, Redis with TUBETAGS_CACHE_URL (shared
across hosts); TUBETAGS_PREDICTION_CACHE_TTL_S=0 turns it off. An unreachable cache is logged and skipped: the
model still answers.

An entry also holds the request summary for the drift monitor (words, language, out-of-vocabulary share),
so a cache hit costs no model or tokeniser time at all.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches

from api import prometheus, request_log
from api.model_cache import LoadedModel, get_cache
from tubetags.inputs import PastVideo, history_json
from tubetags.openvocab.evidence import Evidence, Segment, find_evidence, index_segments, segments_from_text
from tubetags.openvocab.language import detect_language
from tubetags.segmentation import is_clause
from tubetags.tags import youtube_tag_string
from tubetags.text import normalise_transcript

log = logging.getLogger("api")

ENTRY_FORMAT = 2  # bump when the cached value's shape changes


@dataclass(frozen=True)
class ScoredTag:
    tag: str
    score: float  # rounded to 4 places
    source: str  # "closed" (the closed-vocabulary model), "transcript" (the video's phrase) or "history" (channel)
    evidence: Evidence | None  # the passage that says it; None for a topic the model inferred


@dataclass(frozen=True)
class TagsResult:
    tags: list[ScoredTag]  # best first
    youtube_tags: str
    language: str
    model: dict[str, str]  # name, version, alias, strategy
    elapsed_ms: float
    cached: bool  # answered from the prediction cache


def tag_transcript(
    transcript: str,
    segments: list[Segment] | None,
    k: int,
    alias: str,
    title: str | None,
    description: str | None,
    started: float,
    channel_history: tuple[PastVideo, ...] = (),
) -> TagsResult:
    """The top-k tags of a transcript (`segments`: its subtitle cues, None for a pasted transcript) by the model
    `alias` serves. `started`: time.perf_counter() when the request came in, for `elapsed_ms`.

    Raises UnknownAlias (400) or ModelUnavailable (503); writes one request line for the drift monitor.
    """
    model = get_cache().get(alias)
    normalised = normalise_transcript(transcript)  # once per request: ~1 ms for 2,000 words
    prediction = predict(model, alias, normalised, k, title, description, channel_history)
    indexed = index_segments(segments or segments_from_text(normalised))
    tags = [
        ScoredTag(tag, round(score, 4), origin, find_evidence(tag, indexed))
        for tag, score, origin in prediction.ranked
        if not is_clause(tag)  # a model never answers a clause: a last guard for scripts without spaces
    ]
    elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    described = model.describe(alias)
    request_log.record(
        described,
        "file" if segments is not None else "json",
        k,
        prediction.summary,
        [(tag.tag, tag.score) for tag in tags],
        prediction.cached,
        elapsed_ms,
    )
    return TagsResult(
        tags,
        youtube_tag_string([tag.tag for tag in tags]),
        prediction.summary["language"],
        described,
        elapsed_ms,
        prediction.cached,
    )


@dataclass(frozen=True)
class Prediction:
    ranked: list[tuple[str, float, str]]  # (tag, score, source: "closed", "transcript" or "history")
    summary: dict  # words, language, oov_share: privacy-safe, never the text
    cached: bool


def cache_key(
    model: LoadedModel,
    k: int,
    normalised: str,
    title: str | None,
    description: str | None,
    channel_history: tuple[PastVideo, ...] = (),
) -> str:
    digest = hashlib.sha256()
    for part in (normalised, title or "", description or "", history_json(channel_history) if channel_history else ""):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\x00")
    return f"tags:{ENTRY_FORMAT}:{model.name}:{model.version}:{k}:{digest.hexdigest()}"


def summarise(model: LoadedModel, normalised: str) -> dict:
    return {
        "words": len(normalised.split()),
        "language": detect_language(normalised),
        "oov_share": model.oov_share(normalised),
    }


def predict(
    model: LoadedModel,
    alias: str,
    normalised: str,
    k: int,
    title: str | None = None,
    description: str | None = None,
    channel_history: tuple[PastVideo, ...] = (),
) -> Prediction:
    """Ranked tags of a transcript already normalised (`normalise_transcript`), from the cache or the model."""
    enabled = settings.TUBETAGS_PREDICTION_CACHE_TTL_S > 0
    key = cache_key(model, k, normalised, title, description, channel_history)
    if enabled:
        try:
            entry = caches["predictions"].get(key)
        except Exception as exc:  # e.g. Redis down: serve from the model
            log.warning("prediction cache unavailable (get): %s", exc)
            entry = None
        if entry is not None:
            prometheus.PREDICTION_CACHE.labels("hit").inc()
            return Prediction([tuple(item) for item in entry["ranked"]], entry["summary"], cached=True)
        prometheus.PREDICTION_CACHE.labels("miss").inc()
    started = time.perf_counter()
    # The model normalises the transcript itself (its own contract): normalising twice changes nothing.
    ranked = model.predict(normalised, k, title, description, channel_history)
    prometheus.PREDICTION_SECONDS.labels(alias).observe(time.perf_counter() - started)
    summary = summarise(model, normalised)
    if enabled:
        try:
            caches["predictions"].set(
                key, {"ranked": ranked, "summary": summary}, timeout=settings.TUBETAGS_PREDICTION_CACHE_TTL_S
            )
        except Exception as exc:
            log.warning("prediction cache unavailable (set): %s", exc)
    return Prediction(ranked, summary, cached=False)
