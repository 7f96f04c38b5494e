"""Evidence for a tag: the passage of the transcript that supports it, with its time when known.

Creators are told not to trust tag tools blindly; a passage (and, for subtitles, the moment in the
video) lets them check a suggestion in seconds. Transcripts are cut into segments (subtitle cues,
else sentences grouped to ~40 words); a tag's passage is the segment holding the phrase itself,
else the one with most of its words (plural/singular folded), else none: a closed-vocabulary tag
such as `technology` can be right without being said.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

from tubetags.segmentation import split_han, words_of_text

_WORD = re.compile(r"[^\W_]+(?:[+#]+|(?:['’-][^\W_]+)*)", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])|\n+")
SEGMENT_WORDS = 40
MAX_PASSAGE_CHARS = 240


@dataclass(frozen=True)
class Segment:
    text: str
    start_s: float | None = None  # seconds from the start of the video, for subtitle cues


@dataclass(frozen=True)
class Evidence:
    passage: str
    start_s: float | None


@lru_cache(maxsize=100_000)  # a request folds ~2,000 words, most of them seen before: ~0.5 ms less
def _fold(word: str) -> str:
    """Lower case, a plural 's' dropped: 'Robots' and 'robot' agree."""
    word = word.lower()
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def words(text: str) -> list[str]:
    return [_fold(w) for w in words_of_text(text, _WORD.findall(text))]  # Chinese cut into words


def segments_from_text(text: str, size: int = SEGMENT_WORDS) -> list[Segment]:
    """Sentences grouped into segments of about `size` words (auto-captions without punctuation: windows)."""
    out: list[Segment] = []
    current: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        tokens = sentence.split()
        while len(tokens) > 2 * size:  # no punctuation: cut long runs into windows
            out.append(Segment(" ".join(current + tokens[:size])))
            current, tokens = [], tokens[size:]
        current += tokens
        if len(current) >= size:
            out.append(Segment(" ".join(current)))
            current = []
    if current:
        out.append(Segment(" ".join(current)))
    return out


def _clip(text: str, around: int) -> str:
    if len(text) <= MAX_PASSAGE_CHARS:
        return text
    start = max(0, min(around - MAX_PASSAGE_CHARS // 3, len(text) - MAX_PASSAGE_CHARS))
    clipped = text[start : start + MAX_PASSAGE_CHARS]
    return ("…" if start else "") + clipped.strip() + ("…" if start + MAX_PASSAGE_CHARS < len(text) else "")


@dataclass(frozen=True)
class IndexedSegment:
    """A segment with its folded words, tokenised once for all the tags looked up in it."""

    segment: Segment
    words: frozenset[str]
    joined: str  # ' word word ... ': whole-phrase matches by substring


def index_segments(segments: Sequence[Segment]) -> list[IndexedSegment]:
    out = []
    for segment in segments:
        folded = words(segment.text)
        out.append(IndexedSegment(segment, frozenset(folded), f" {' '.join(folded)} "))
    return out


def find_evidence(tag: str, segments: Sequence[Segment] | Sequence[IndexedSegment]) -> Evidence | None:
    """The segment that best supports `tag` (the whole phrase > most of its words), or None.

    For many tags of one transcript pass `index_segments(segments)`: tokenising every segment again for every
    tag cost ~20 ms of a 2,000-word request's ~45."""
    wanted = words(tag)
    if not wanted:
        return None
    # The sequence is one kind throughout: its first item says which.
    indexed = (
        cast(Sequence[IndexedSegment], segments)
        if segments and isinstance(segments[0], IndexedSegment)
        else index_segments(cast(Sequence[Segment], segments))
    )
    unique, phrase = set(wanted), f" {' '.join(wanted)} "
    best, best_score = None, 0.0
    for item in indexed:
        present = unique & item.words
        if not present:
            continue
        score = len(present) / len(unique) + (1.0 if phrase in item.joined else 0.0)
        if score > best_score:
            best, best_score = item.segment, score
    if best is None or best_score < 0.5:
        return None
    first = next(
        (m.start() for m in _WORD.finditer(best.text) if any(_fold(w) in unique for w in split_han(m.group()))), 0
    )
    return Evidence(_clip(best.text, first), best.start_s)


def format_time(seconds: float | None) -> str | None:
    """'1:02:03' / '4:05' as YouTube shows times; None stays None."""
    if seconds is None:
        return None
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
