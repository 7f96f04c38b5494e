"""Tag rules: normalising human tags, merging spelling variants, and YouTube's tag box."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

YOUTUBE_TAG_LIMIT = 500  # characters, YouTube's limit on all tags together

_SPACES = re.compile(r"\s+")
# '+' and '#' stay: c++, c# and f# are tags; a leading '#' is a hashtag mark and goes.
_EDGE_PUNCT = re.compile(r"^[^\w+#]+|[^\w+#]+$")
_HASHTAG = re.compile(r"^#+(?=\w)")


def normalise_tag(tag: str) -> str:
    """Case-fold, drop a hashtag mark, trim punctuation at the ends, collapse whitespace."""
    tag = _HASHTAG.sub("", _SPACES.sub(" ", tag.casefold()).strip())
    return _EDGE_PUNCT.sub("", tag)


_KEY_SEPARATORS = re.compile(r"[^\w+#]+|_")


def tag_key(tag: str) -> str:
    """Spelling-insensitive key: 'Machine-Learning', 'machine learning', 'machinelearning' agree."""
    return _KEY_SEPARATORS.sub("", normalise_tag(tag).replace("&", "and"))


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


def number_stem(word: str) -> str:
    """A key that a word and its plural share, never shown to anyone: 'robot'/'robots' -> 'robot',
    'story'/'stories' -> 'stori', 'movie'/'movies' -> 'movi', 'box'/'boxes' -> 'box', 'receita'/'receitas' -> 'receita'.

    Crude on purpose (no dictionary, any language with -s plurals): a final -s goes (not -ss, -us, -is), then a
    final -e, and a final -y becomes -i. Words of 3 letters or fewer ('gas', 'bus', 'ios') and words with digits
    or symbols ('gpt-5') stay as they are.
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("e"):
        word = word[:-1]
    if word.endswith("y"):
        word = word[:-1] + "i"
    return word


def key_parts(text: str) -> list[str]:
    """The pieces a spelling key joins: 'GPT-5 & Node.js' -> ['gpt', '5', 'and', 'node', 'js']."""
    return [w for w in _KEY_SEPARATORS.split(normalise_tag(text).replace("&", "and")) if w]


def variant_key(tag: str) -> str:
    """`tag_key` with the last word's number ignored: 'Robots', 'robot' and 'ROBOT' agree, so do 'video games'
    and 'video-game'. Only the last word: it is the head of an English noun phrase ('sales team' is not 'sale team')."""
    words = key_parts(tag)
    if words:
        words[-1] = number_stem(words[-1])
    return "".join(words)


YOUTUBE_TAG_MAX = 100  # characters, YouTube's limit on one tag
_YOUTUBE_REJECTS = re.compile(r"[<>]")  # YouTube refuses a tag box containing these


def youtube_ready_tag(tag: str) -> str:
    """The tag as YouTube accepts it, or '' when it cannot be used.

    A comma would split the tag in two, so it becomes a space; '<' and '>' are removed. A tag longer than
    100 characters is dropped, not cut: it is a sentence rather than a tag, and its first 100 characters
    are no phrase anybody searches for, while they would take a fifth of the 500-character box.
    """
    tag = _SPACES.sub(" ", _YOUTUBE_REJECTS.sub("", tag.replace(",", " "))).strip()
    if not any(c.isalnum() for c in tag) or len(tag) > YOUTUBE_TAG_MAX:
        return ""
    return tag


def youtube_tag_length(tags: Sequence[str]) -> int:
    """Length as YouTube counts it: a comma between tags, and a tag with a space counts its quotes ("a b")."""
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(len(tags) - 1, 0)


def fit_youtube_tags(ranked_tags: Sequence[str], limit: int = YOUTUBE_TAG_LIMIT) -> list[str]:
    """The tags, best first, that YouTube accepts and that fit into its tag box together.

    1. each tag is made acceptable (`youtube_ready_tag`); unusable and empty ones go;
    2. near-duplicates merge: a tag whose `variant_key` was already seen (a spelling or singular/plural of a
       higher-ranked tag: 'Robots' after 'robot') goes, so the higher-ranked spelling stays;
    3. tags are kept in rank order while the total (`youtube_tag_length`) stays within `limit`; one that would
       overflow is skipped, and shorter ones after it may still fit.
    """
    merged: list[str] = []
    seen: set[str] = set()
    for tag in ranked_tags:
        tag = youtube_ready_tag(tag)
        key = variant_key(tag)
        if tag and key not in seen:
            seen.add(key)
            merged.append(tag)
    kept: list[str] = []
    used = 0  # youtube_tag_length(kept), kept up to date instead of recomputed
    for tag in merged:
        cost = len(tag) + (2 if " " in tag else 0) + (1 if kept else 0)
        if used + cost <= limit:
            kept.append(tag)
            used += cost
    return kept


def youtube_tag_string(ranked_tags: Sequence[str], limit: int = YOUTUBE_TAG_LIMIT) -> str:
    """Comma-joined tags ready to paste into YouTube's tag box. Its length is `youtube_tag_length` of the tags
    minus their quotes: YouTube adds the quotes itself when it counts."""
    return ",".join(fit_youtube_tags(ranked_tags, limit))
