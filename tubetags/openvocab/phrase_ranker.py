"""A learned ranker for a video's own phrases: which of them would its uploader use as tags?

Candidates come from every text a creator has at upload time: the transcript's keyphrases (its `TOP` best by
TF-IDF), and every candidate phrase of the title, of the description's opening lines, and the hashtags. One
phrase said in several places is one candidate (by variant key: `GPT-5`, `gpt 5` and `GPT5`; `robot` and
`robots`), shown in its best spelling: the one other channels use as a tag, else the one the video uses most.

Everything the ranker reads must mean the same on a channel it never saw, so no feature names a channel or a
word; per candidate (`FEATURE_GROUPS`, each group ablated in `experiments/open_vocab.py`):

- transcript: frequency, TF-IDF and its rank, background rarity, first position and spread, share of
  occurrences away from a sentence's start, rate per 1,000 words (missing when only the title or description
  says it);
- quality: n-gram length, capitalised words, capitals inside a word (acronyms, names: `LangChain`, `iPhone`), a
  version number (`GPT 5`, `iPhone 17 Pro`), length in characters;
- tag-likeness: how many *other* channels use the phrase as a tag (TED's editors count as one more), whether
  TED's editors do, how many other channels' tags end in its last word (a noun-phrase head that tags have:
  `review`, `tutorial`), the share of its words other channels' tags use;
- semantic: cosine of the phrase to the transcript's content words (static MiniLM vectors,
  `tubetags.openvocab.static_vectors`), its gap to the video's most central candidate, cosine to the title;
- title: in the title, where (its first word's position), what share of the title it is;
- description: in the description's opening lines, a hashtag (in the description or the title);
- video: English or not, log length of the transcript.

"Other channels": while training, a video's own channel is left out of every tag-likeness count — counted over
its own channel, the counts leak that channel's recurring tags (`tech with tim`) and the ranker learns the
channel instead of the content. One model per input setting (`transcript`, `title`, `description`: which texts
the video came with), each a scikit-learn gradient-boosted tree model predicted in NumPy
(`tubetags.openvocab.tree_models.CompiledTrees`); `experiments/open_vocab.py` fits them on the YouTube training
channels and validates them grouped by channel.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import repeat
from operator import attrgetter
from pathlib import Path
from typing import Any

import numpy as np

from tubetags.openvocab.static_vectors import StaticVectors, unit_rows
from tubetags.openvocab.tree_models import CompiledTrees, fit_trees, load_model, save_model
from tubetags.tags import key_parts, normalise_tag, number_stem, tag_key, variant_key

NEGATIVES = 0.3  # share of the non-tag candidates the ranker is fitted on (`training_rows`)
# Transcript candidates the ranker scores (by TF-IDF first). 60 vs 150 on the served default: test P@5 0.561 vs
# 0.560 (TED), 0.250 vs 0.252 (YouTube's held-out channels), 3.5 ms less CPU per new transcript (docs/benchmarks.md).
TOP = 60
SETTINGS = ("transcript", "title", "description")  # tubetags.inputs.Video.setting
TED_EDITORS = "ted-editors"  # TED's editorial tags: one more channel of the tag vocabulary
CONTEXT_CHANNELS = 2  # a tag used by this many channels gets a context prototype
CONTEXT_TOP = 10  # context tags closest to a transcript that become candidates even when not said
FEATURE_GROUPS: dict[str, tuple[str, ...]] = {
    "transcript": (
        "log_count",
        "tfidf",
        "idf",
        "log_doc_freq",
        "first_position",
        "spread",
        "inside_sentence",
        "tfidf_reciprocal_rank",
        "per_1000_words",
    ),
    "quality": ("words", "capitalised", "inner_capital", "version", "chars"),
    "tag_likeness": ("log_tag_prior", "ted_tag", "log_head_prior", "word_tag_share"),
    "semantic": ("centrality", "centrality_gap", "title_similarity"),
    "context": ("context_similarity", "context_gap", "in_context"),
    "title": ("in_title", "title_position", "title_share"),
    "description": ("in_description", "hashtag"),
    "video": ("english", "log_words"),
}
FEATURES = tuple(name for group in FEATURE_GROUPS.values() for name in group)
# What a ranker saved before the title, description, context and history features read, in its order.
LEGACY_FEATURES = (
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
_MISSING = float("nan")  # a feature that does not apply (not said in the transcript: no position)
_DIGIT = re.compile(r"\d")


def _idf(keys: Sequence[str], doc_freq: Mapping[str, int], n_docs: int) -> np.ndarray:
    """`KeyphraseSuggester.idf` of many keys at once."""
    df = np.fromiter(map(doc_freq.get, keys, repeat(0)), float, len(keys))  # looked up in C
    return np.log((n_docs + 1) / (df + 1)) + 1


def _words_of_tag(tag: str) -> list[str]:
    return [tag_key(w) for w in normalise_tag(tag).split() if tag_key(w)]


@lru_cache(maxsize=100_000)
def cached_tag_key(spelling: str) -> str:
    """`tag_key`, remembered: a request looks up ~150 spellings, most of them seen before."""
    return tag_key(spelling)


@dataclass
class TagVocabulary:
    """What uploaders tag, by the channels that do (TED's editors as one more): by tag spelling key, by a tag's
    last word (number folded), and by any word of a tag; and per variant key, the tags' spellings."""

    tags: dict[str, frozenset[str]] = field(default_factory=dict)
    heads: dict[str, frozenset[str]] = field(default_factory=dict)
    words: dict[str, frozenset[str]] = field(default_factory=dict)
    spellings: dict[str, dict[str, str]] = field(default_factory=dict)  # variant key -> {tag key: a spelling}
    # Tags of at least CONTEXT_CHANNELS channels: per channel, the unit mean vector of its videos with the tag.
    context: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # context tag key -> its most frequent spelling
    _matrices: dict[str | None, tuple[list[str], np.ndarray]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(
        cls, videos: Iterable[tuple[str, Sequence[str]]], vectors: Iterable[np.ndarray | None] | None = None
    ) -> TagVocabulary:
        """From (channel, tags) per video, and the videos' transcript vectors for the context prototypes;
        channel spellings fold together (`Tech With Tim` = `tech with tim`)."""
        tags: dict[str, set[str]] = {}
        heads: dict[str, set[str]] = {}
        words: dict[str, set[str]] = {}
        spellings: dict[str, dict[str, dict[str, int]]] = {}
        sums: dict[str, dict[str, np.ndarray]] = {}
        for (channel, video_tags), vector in zip(videos, vectors if vectors is not None else repeat(None)):
            own = tag_key(channel or "unknown")
            if vector is not None:
                for key in {tag_key(t) for t in video_tags} - {""}:
                    by_channel = sums.setdefault(key, {})
                    by_channel[own] = by_channel.get(own, 0.0) + vector
            for tag in video_tags:
                key, parts = tag_key(tag), key_parts(tag)
                if not key:
                    continue
                tags.setdefault(key, set()).add(own)
                heads.setdefault(number_stem(parts[-1]), set()).add(own)
                for word in _words_of_tag(tag):
                    words.setdefault(word, set()).add(own)
                counts = spellings.setdefault(variant_key(tag), {}).setdefault(key, {})
                norm = normalise_tag(tag)
                counts[norm] = counts.get(norm, 0) + 1
        names = {k: max(c.items(), key=lambda kv: kv[1])[0] for by in spellings.values() for k, c in by.items()}
        context = {
            key: {c: unit_rows(v[None, :])[0].astype(np.float32) for c, v in by.items()}
            for key, by in sums.items()
            if len(by) >= CONTEXT_CHANNELS
        }
        return cls(
            {k: frozenset(v) for k, v in tags.items()},
            {k: frozenset(v) for k, v in heads.items()},
            {k: frozenset(v) for k, v in words.items()},
            {vk: {k: names[k] for k in by} for vk, by in spellings.items()},
            context,
            {key: names[key] for key in context},
        )

    def context_similarity(self, doc: np.ndarray, own: str | None) -> dict[str, float]:
        """Per context tag, the cosine of a transcript's vector to the videos other channels gave that tag (the
        mean over those channels of each one's mean video vector)."""
        if own not in self._matrices:
            keys, rows = [], []
            for key, by_channel in self.context.items():
                others = [v for c, v in by_channel.items() if c != own]
                if others:
                    keys.append(key)
                    rows.append(np.mean(others, axis=0))
            matrix = unit_rows(np.array(rows, np.float32)) if rows else np.zeros((0, len(doc)), np.float32)
            self._matrices[own] = (keys, matrix)
        keys, matrix = self._matrices[own]
        return dict(zip(keys, (matrix @ doc).tolist()))

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_matrices"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _matrices={})

    @staticmethod
    def count(table: Mapping[str, frozenset[str]], key: str, own: str | None) -> int:
        """Channels using `key` in `table`, `own` left out."""
        found = table.get(key)
        if not found:
            return 0
        return len(found) - (1 if own is not None and own in found else 0)

    def best_spelling(self, variant: str, shown: Sequence[str], own: str | None) -> str:
        """Of the video's spellings (most used first) and the spellings tags give this variant, the one most
        other channels use as a tag; the video's own first one when none is a tag elsewhere."""
        if variant not in self.spellings:
            return shown[0]
        options: dict[str, str] = {}
        for spelling in shown:
            options.setdefault(cached_tag_key(spelling), spelling)
        first = next(iter(options))
        for key, spelling in self.spellings.get(variant, {}).items():
            options.setdefault(key, spelling)
        best = max(options, key=lambda key: (self.count(self.tags, key, own), key == first))
        return options[best]


@dataclass(frozen=True)
class PhraseSources:
    """One video's candidates by variant key, per source (`tubetags.openvocab.keyphrases.Candidate`), and what
    the features need to know about the video."""

    transcript: Mapping[str, Any]  # after drop_subsumed
    title: Mapping[str, Any]
    description: Mapping[str, Any]
    hashtags: Mapping[str, Any]
    context: Mapping[str, Any]  # other channels' tags whose videos are closest to this one (CONTEXT_TOP)
    context_similarity: Mapping[str, float]  # tag key -> cosine of this transcript to that tag's videos
    words: int  # in the transcript
    english: bool
    title_words: int
    doc_vector: np.ndarray | None = None  # unit vector of the transcript's content words
    title_vector: np.ndarray | None = None


@dataclass(frozen=True)
class Candidates:
    """One video's candidates with their features, in TF-IDF order (transcript first, then the other sources)."""

    keys: list[str]  # tag_key of the spelling shown: what is compared with uploader tags
    displays: list[str]
    tfidf: np.ndarray
    features: np.ndarray  # [candidates, len(FEATURES)]

    def __len__(self) -> int:
        return len(self.keys)

    def tfidf_ranking(self, k: int) -> list[tuple[str, float]]:
        """The transcript's candidates by TF-IDF alone (the reference ranking), scores relative to the best."""
        said = [i for i in np.argsort(-self.tfidf, kind="stable") if self.tfidf[i] > 0][:k]
        best = float(self.tfidf[said[0]]) if said else 1.0
        return [(self.displays[i], float(self.tfidf[i]) / best) for i in said]


@dataclass(frozen=True)
class LabelledVideo:
    """A training video: its candidates and the uploader's tags."""

    candidates: Candidates
    tags: Sequence[str]
    channel: str

    def labels(self) -> np.ndarray:
        truth = {tag_key(t) for t in self.tags}
        return np.array([k in truth for k in self.candidates.keys], dtype=int)


def training_rows(
    videos: Sequence[LabelledVideo], columns: Sequence[int] | None = None, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, labels, weights) of the videos' candidates: every uploader tag, and a random `NEGATIVES` share
    of the other candidates weighted up by its inverse (3x faster to fit; grouped-CV P@5 0.147 vs 0.145 with all
    of them)."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for video in videos:
        if not len(video.candidates):
            continue
        y = video.labels()
        keep = (y == 1) | (rng.random(len(y)) < NEGATIVES)
        features = video.candidates.features[keep]
        xs.append(features if columns is None else features[:, columns])
        ys.append(y[keep])
    x, y = np.vstack(xs), np.concatenate(ys)
    return x, y, np.where(y == 1, 1.0, 1.0 / NEGATIVES)


class PhraseRanker:
    def __init__(
        self,
        models: dict[str, Any] | None = None,
        vocabulary: TagVocabulary | None = None,
        columns: Sequence[str] = FEATURES,
    ):
        self.models = models or {}  # input setting -> fitted trees
        self.vocabulary = vocabulary or TagVocabulary()
        self.columns = tuple(columns)  # the features the trees read (LEGACY_FEATURES: a ranker saved before)
        self._index = [FEATURES.index(f) for f in self.columns]
        self._compiled: dict[str, CompiledTrees] = {}

    @property
    def legacy(self) -> bool:
        """Saved before the title, description and history were inputs: it reads transcripts (with the title
        prepended) only."""
        return self.columns != FEATURES

    # --- features -----------------------------------------------------------------------------------------

    def candidates(
        self,
        sources: PhraseSources,
        doc_freq: Mapping[str, int],
        n_docs: int,
        vectors: StaticVectors | None,
        channel: str | None = None,
    ) -> Candidates:
        """The features of one video's candidates (`doc_freq`, `n_docs`: the keyphrases' background);
        `channel`: leave it out of the tag-likeness counts."""
        own = tag_key(channel) if channel else None
        transcript = sources.transcript
        said: list[str] = []
        if transcript:
            said_keys = list(transcript)
            counts = np.fromiter(map(attrgetter("count"), transcript.values()), float, len(said_keys))
            scores = counts * _idf(said_keys, doc_freq, n_docs)
            said = [said_keys[i] for i in np.lexsort((np.array(said_keys), -scores))[:TOP]]  # by TF-IDF, then key
        keys = list(said)
        known = set(keys)
        for source in (sources.title, sources.description, sources.hashtags, sources.context):
            for key in source:
                if key not in known:
                    known.add(key)
                    keys.append(key)
        if not keys:
            return Candidates([], [], np.zeros(0), np.zeros((0, len(FEATURES))))
        rank = {key: i for i, key in enumerate(said)}
        idfs = _idf(keys, doc_freq, n_docs)
        vocab = self.vocabulary
        best_context = max(sources.context_similarity.values(), default=0.0)
        rows, displays, tfidfs = [], [], []
        phrases = []  # each candidate's words (case-folded), for its vector
        words = max(sources.words, 1)
        title_words = max(sources.title_words, 1)
        video = [float(sources.english), math.log1p(sources.words)]
        for key, idf in zip(keys, idfs.tolist()):
            c, t = transcript.get(key), sources.title.get(key)
            d, h, v = sources.description.get(key), sources.hashtags.get(key), sources.context.get(key)
            any_c = c or t or d or h or v
            assert any_c is not None  # every key comes from one of the sources
            display = vocab.best_spelling(key, [x.display() for x in (c, t, d, h, v) if x is not None], own)
            shown_key = cached_tag_key(display)
            display_words = display.split()
            infos = any_c.infos
            n = len(infos)
            tfidf = c.count * idf if c else 0.0
            tfidfs.append(tfidf)
            displays.append(display)
            phrases.append(any_c.words)
            context = sources.context_similarity.get(shown_key, _MISSING)
            transcript_columns = (
                [
                    math.log1p(c.count),
                    tfidf,
                    idf,
                    math.log1p(doc_freq.get(key, 0)),
                    c.first / words,
                    (c.last - c.first) / words,
                    sum(c.surfaces.values()) / c.count,
                    1.0 / (rank[key] + 1) if key in rank else 0.0,
                    1000.0 * c.count / words,
                ]
                if c
                else [0.0, 0.0, idf, math.log1p(doc_freq.get(key, 0)), _MISSING, _MISSING, _MISSING, 0.0, 0.0]
            )
            rows.append(
                [
                    *transcript_columns,
                    # quality
                    float(n),
                    sum(w != w.lower() for w in display_words) / max(len(display_words), 1),
                    float(any(w[1:] != w[1:].lower() for w in display_words)),
                    float(any(info.number for info in infos[1:]) or _DIGIT.search(display) is not None),
                    float(len(display)),
                    # tag-likeness
                    math.log1p(vocab.count(vocab.tags, shown_key, own)),
                    float(TED_EDITORS in vocab.tags.get(shown_key, ())),
                    math.log1p(vocab.count(vocab.heads, infos[-1].tail, own)),
                    sum(vocab.count(vocab.words, info.body, own) > 0 for info in infos) / n,
                    # semantic: filled below
                    0.0,
                    0.0,
                    0.0,
                    # context
                    context,
                    context - best_context,
                    float(v is not None),
                    # title
                    float(t is not None),
                    t.first / title_words if t else _MISSING,
                    n / title_words if t else 0.0,
                    # description
                    float(d is not None),
                    float(h is not None),
                    *video,
                ]
            )
        features = np.array(rows, dtype=float)
        if vectors is not None and sources.doc_vector is not None:
            self._semantic(features, phrases, sources, vectors)
        return Candidates([cached_tag_key(d) for d in displays], displays, np.array(tfidfs), features)

    @staticmethod
    def _semantic(features: np.ndarray, phrases: list[tuple[str, ...]], sources: PhraseSources, vectors) -> None:
        """Centrality (cosine to the transcript's content words), its gap to the best, cosine to the title."""
        vocabulary = list(dict.fromkeys(w for p in phrases for w in p))
        index = {w: i for i, w in enumerate(vocabulary)}
        unit_words = unit_rows(vectors.word_vectors(vocabulary))
        starts = np.cumsum([0] + [len(p) for p in phrases[:-1]])
        phrase_vectors = unit_rows(np.add.reduceat(unit_words[[index[w] for p in phrases for w in p]], starts, axis=0))
        column = FEATURES.index("centrality")
        features[:, column] = phrase_vectors @ sources.doc_vector
        features[:, column + 1] = features[:, column] - features[:, column].max()
        if sources.title_vector is not None:
            features[:, column + 2] = phrase_vectors @ sources.title_vector

    # --- learning and ranking -----------------------------------------------------------------------------

    def fit(self, videos: Sequence[LabelledVideo], setting: str = "transcript", seed: int = 0) -> PhraseRanker:
        self.models[setting] = fit_trees(*training_rows(videos, seed=seed), seed=seed)
        self._compiled.pop(setting, None)
        return self

    def model_for(self, setting: str) -> CompiledTrees:
        """The trees of `setting`, else of the closest setting fitted (a description falls back to the title)."""
        order = SETTINGS[: SETTINGS.index(setting) + 1][::-1] if setting in SETTINGS else SETTINGS
        name = next((s for s in order if s in self.models), None) or next(iter(self.models))
        if name not in self._compiled:
            self._compiled[name] = CompiledTrees(self.models[name])
        return self._compiled[name]

    def probabilities(self, candidates: Candidates, setting: str = "transcript") -> np.ndarray:
        features = candidates.features if not self.legacy else candidates.features[:, self._index]
        return self.model_for(setting).probabilities(features)

    def rank(self, candidates: Candidates, k: int, setting: str = "transcript") -> list[tuple[str, float]]:
        """The k most probable tags (display form, probability), best first; ties keep the TF-IDF order."""
        if not len(candidates):
            return []
        probs = self.probabilities(candidates, setting)
        order = np.argsort(-probs, kind="stable")[:k]
        return [(candidates.displays[i], float(probs[i])) for i in order]

    def save(self, path: Path) -> None:
        save_model(path, FEATURES, self.models, vocabulary=self.vocabulary)

    @classmethod
    def load(cls, path: Path) -> PhraseRanker:
        """A saved ranker; one saved before this version (one model over LEGACY_FEATURES, a tag prior) still
        ranks as it did: its features are columns of today's."""
        try:
            state = load_model(path, FEATURES, "phrase ranker")
        except ValueError:
            state = load_model(path, LEGACY_FEATURES, "phrase ranker")
            return cls({"transcript": state["model"]}, TagVocabulary(state["prior"]), LEGACY_FEATURES)
        return cls(state["model"], state["vocabulary"])
