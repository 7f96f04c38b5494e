"""A learned ranker for a transcript's keyphrases: which of its phrases would an uploader use as tags?

TF-IDF alone ranks what a video says often and others rarely. Uploaders' tags also follow other patterns: names
and products (capitalised inside), phrases said early (the intro says what the video is about) and throughout,
two-word phrases more than single words, and phrases that are tags on many channels (`python`, `machine
learning`). Per candidate (the `TOP` best by TF-IDF of one transcript), the features are:

frequency, TF-IDF, background rarity (idf and document frequency), first position and spread in the
transcript, n-gram length, share of capitalised words and of occurrences away from a sentence's start, the
tag prior (how many *other* channels use the phrase as a tag), the TF-IDF rank, whether the transcript is
English, and the phrase's rate per 1,000 words.

The tag prior is counted over the training channels' uploader tags (plus TED's editorial tags as one more
channel). While training, a video's own channel is left out of its phrases' prior: a prior counted over the
same channel's videos leaks the channel's recurring tags (`tech with tim` on every video) and the ranker
learns the channel instead of the content. The model is scikit-learn's gradient-boosted trees, fitted on
the YouTube training channels; `experiments/open_vocab.py` validates it grouped by channel.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tubetags.openvocab.tree_models import load_model, save_model, single_openmp_thread
from tubetags.tags import tag_key

TOP = 150  # candidates of one transcript the ranker scores (by TF-IDF first): the rest never reach the top 20
FEATURES = (
    "log_count",
    "tfidf",
    "idf",
    "log_doc_freq",
    "first_position",
    "spread",
    "words",
    "capitalised",
    "inside_sentence",
    "log_tag_prior",
    "tfidf_reciprocal_rank",
    "english",
    "per_1000_words",
)


@dataclass(frozen=True)
class Scored:
    """One candidate of one transcript, with what the ranker reads."""

    key: str  # tag_key of its display form: what it is compared with uploader tags by
    display: str
    tfidf: float
    features: tuple[float, ...]


@dataclass(frozen=True)
class LabelledVideo:
    """A training video: its candidates (`PhraseRanker.candidates`) and the uploader's tags."""

    candidates: list[Scored]
    tags: Sequence[str]
    channel: str


class PhraseRanker:
    def __init__(self, model: Any = None, prior: dict[str, frozenset[str]] | None = None):
        self.model = model
        self.prior = prior or {}  # tag key -> channels that use it as a tag

    @staticmethod
    def tag_prior(videos: Iterable[tuple[str, Sequence[str]]]) -> dict[str, frozenset[str]]:
        """(channel, tags) per video -> tag key -> the channels that used it."""
        channels: dict[str, set[str]] = {}
        for channel, tags in videos:
            for tag in tags:
                channels.setdefault(tag_key(tag), set()).add(channel.casefold())
        return {key: frozenset(found) for key, found in channels.items()}

    def candidates(
        self, found: dict, words: int, english: bool, idf, doc_freq: dict[str, int], channel: str | None = None
    ) -> list[Scored]:
        """The `TOP` candidates by TF-IDF of one transcript (`KeyphraseSuggester.candidates` after
        `drop_subsumed`), with features; `channel`: leave that channel out of the tag prior (training)."""
        scored = sorted(((c.count * idf(key), key, c) for key, c in found.items()), key=lambda t: (-t[0], t[1]))[:TOP]
        own = channel.casefold() if channel else None
        out = []
        for rank, (tfidf, key, c) in enumerate(scored):
            display = c.display()
            n = len(c.words)
            prior = self.prior.get(tag_key(display), frozenset())
            prior_count = len(prior - {own}) if own else len(prior)
            capitalised = sum(1 for w in display.split() if any(ch.isupper() for ch in w)) / max(n, 1)
            features = (
                math.log1p(c.count),
                tfidf,
                idf(key),
                math.log1p(doc_freq.get(key, 0)),
                c.first / max(words, 1),
                (c.last - c.first) / max(words, 1),
                float(n),
                capitalised,
                sum(c.surfaces.values()) / max(c.count, 1),
                math.log1p(prior_count),
                1.0 / (rank + 1),
                float(english),
                1000.0 * c.count / max(words, 1),
            )
            out.append(Scored(tag_key(display), display, tfidf, features))
        return out

    def fit(self, videos: Sequence[LabelledVideo], seed: int = 0) -> PhraseRanker:
        from sklearn.ensemble import HistGradientBoostingClassifier

        rows = [v for v in videos if v.candidates]
        x = np.array([c.features for v in rows for c in v.candidates], dtype=float)
        y = np.array([c.key in {tag_key(t) for t in v.tags} for v in rows for c in v.candidates], dtype=int)
        if len(set(y)) < 2:
            raise ValueError("no (or only) uploader tags among the candidates: cannot learn a ranker")
        # Shallow trees, small steps: ~50k candidates from ~20 channels, and it must generalise to new ones.
        self.model = HistGradientBoostingClassifier(
            max_depth=3, max_iter=200, learning_rate=0.05, random_state=seed
        ).fit(x, y)
        return self

    def rank(self, candidates: Sequence[Scored], k: int) -> list[tuple[str, float]]:
        """The k most probable tags (display form, probability), best first; ties keep the TF-IDF order."""
        if not candidates:
            return []
        x = np.array([c.features for c in candidates], dtype=float)
        with single_openmp_thread():
            probs = self.model.predict_proba(x)[:, 1]
        order = np.argsort(-probs, kind="stable")[:k]
        return [(candidates[i].display, float(probs[i])) for i in order]

    def save(self, path: Path) -> None:
        save_model(path, FEATURES, self.model, prior={k: sorted(v) for k, v in self.prior.items()})

    @classmethod
    def load(cls, path: Path) -> PhraseRanker:
        state = load_model(path, FEATURES, "phrase ranker")
        return cls(state["model"], {k: frozenset(v) for k, v in state["prior"].items()})
