"""Tag rules: normalising human tags, merging spelling variants, and YouTube's tag box."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Sequence

YOUTUBE_TAG_LIMIT = 500  # characters, YouTube's limit on all tags together

_SPACES = re.compile(r"\s+")
# '+' and '#' stay: c++, c# and f# are tags; a leading '#' is a hashtag mark and goes.
_EDGE_PUNCT = re.compile(r"^[^\w+#]+|[^\w+#]+$")
_HASHTAG = re.compile(r"^#+(?=\w)")


def normalise_tag(tag: str) -> str:
    """Case-fold, drop a hashtag mark, trim punctuation at the ends, collapse whitespace."""
    tag = _HASHTAG.sub("", _SPACES.sub(" ", tag.casefold()).strip())
    return _EDGE_PUNCT.sub("", tag)


def tag_key(tag: str) -> str:
    """Spelling-insensitive key: 'Machine-Learning', 'machine learning', 'machinelearning' agree."""
    return re.sub(r"[^\w+#]+|_", "", normalise_tag(tag).replace("&", "and"))


def channel_key(channel: str) -> str:
    """'Tutorix - The Amazing Learning App' and 'tutorix the amazing learning app' agree."""
    return tag_key(channel or "")


@dataclass
class TagRuleReport:
    """How many tag occurrences each rule changed: printed and logged by build_corpus."""

    counts: Counter = field(default_factory=Counter)

    def add(self, rule: str, n: int = 1) -> None:
        if n:
            self.counts[rule] += n

    def as_dict(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))


def canonical_forms(tag_lists: Iterable[Sequence[str]]) -> dict[str, str]:
    """Map each spelling key to its most frequent normalised spelling (ties: shortest, then alphabetical)."""
    spellings: dict[str, Counter] = defaultdict(Counter)
    for tags in tag_lists:
        for tag in tags:
            norm = normalise_tag(tag)
            if norm:
                spellings[tag_key(norm)][norm] += 1
    return {
        key: sorted(forms.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[0][0]
        for key, forms in spellings.items()
        if key
    }


def channel_constant_keys(
    channel_tags: dict[str, list[list[str]]], min_videos: int = 5, min_share: float = 0.8
) -> dict[str, set[str]]:
    """Tag keys that appear on at least `min_share` of a channel's videos.

    Such tags ('tech with tim', 'ted talk') describe the channel, not the video: a model
    that learns them learns to recognise the channel. Channels with fewer than
    `min_videos` videos are too small to tell.
    """
    constant: dict[str, set[str]] = {}
    for channel, videos in channel_tags.items():
        if len(videos) < min_videos:
            continue
        df = Counter(key for tags in videos for key in {tag_key(t) for t in tags})
        constant[channel] = {key for key, n in df.items() if n / len(videos) >= min_share}
    return constant


def clean_tags(
    tags: Sequence[str],
    canonical: dict[str, str],
    report: TagRuleReport,
    *,
    drop_keys: Iterable[str] = (),
    drop_reason: str = "dropped",
) -> list[str]:
    """Normalise, merge spelling variants, drop unwanted keys and duplicates; count each rule."""
    drop_keys = set(drop_keys)
    out: list[str] = []
    seen: set[str] = set()
    for raw in tags:
        norm = normalise_tag(raw)
        if not norm:
            report.add("empty_after_normalisation")
            continue
        if norm != raw:
            report.add("case_or_punctuation_normalised")
        key = tag_key(norm)
        if key in drop_keys:
            report.add(drop_reason)
            continue
        merged = canonical.get(key, norm)
        if merged != norm:
            report.add("spelling_variant_merged")
        if key in seen:
            report.add("duplicate_removed")
            continue
        seen.add(key)
        out.append(merged)
    return out


def youtube_tag_length(tags: Sequence[str]) -> int:
    """Length as YouTube counts it: commas between tags, and quotes around tags with spaces."""
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(len(tags) - 1, 0)


def fit_youtube_tags(ranked_tags: Sequence[str], limit: int = YOUTUBE_TAG_LIMIT) -> list[str]:
    """Keep tags in rank order while they fit into YouTube's tag box; skip any that would overflow."""
    kept: list[str] = []
    seen: set[str] = set()
    for tag in ranked_tags:
        tag = tag.replace(",", " ").strip()
        key = tag_key(tag)
        if not tag or key in seen:
            continue
        if youtube_tag_length([*kept, tag]) <= limit:
            kept.append(tag)
            seen.add(key)
    return kept


def youtube_tag_string(ranked_tags: Sequence[str], limit: int = YOUTUBE_TAG_LIMIT) -> str:
    """Comma-joined tags ready to paste into YouTube's tag box."""
    return ",".join(fit_youtube_tags(ranked_tags, limit))
