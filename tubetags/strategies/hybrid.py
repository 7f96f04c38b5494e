"""Closed-vocabulary ranking merged with the video's own phrases and its channel's tags: the default for any creator.

The closed model knows the tags people use (`education`, `technology`); the keyphrases know the specifics of this
video (`sourdough starter`, `raspberry pi`), from its transcript, title and description
(`tubetags.openvocab.phrase_ranker`); a channel's history knows the tags its creator reuses
(`tubetags.openvocab.history`). Their scores do not compare (probabilities vs similarities vs shares), and how far
to trust each depends on the video: a TED-like talk where the closed model is confident vs a coding tutorial full
of names it never saw.

Two merges:
- `rrf` (reciprocal rank fusion): score = sum over lists of weight / (RRF_K + rank), scaled to [0, 1].
  Needs no training; the fallback.
- `learned` (the default once fitted): gradient-boosted trees over the candidates of the lists, with features
  of each candidate (score and reciprocal rank in each list, in both lists, words) and of the video (the closed
  model's top score, the keyphrases' top score, the talk style); with a channel history, also the candidate's
  history features (`HISTORY_FEATURES`). One model per input setting (which texts the video came with, and
  whether a history): fitted on videos the closed model never saw, of both datasets (each weighted equally), its
  output is the probability that the candidate is a tag the uploader would use, so one scale ranks the lists.
  Without a history, the model fitted without history features answers: a history only ever adds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from typing_extensions import override

from tubetags.corpus import CorpusSplit
from tubetags.inputs import Video
from tubetags.openvocab.history import HISTORY_FEATURES, ChannelProfile, channel_profile, video_vector
from tubetags.openvocab.keyphrases import KeyphraseSuggester
from tubetags.openvocab.language import detect_language, stop_words
from tubetags.openvocab.phrase_ranker import SETTINGS, cached_tag_key
from tubetags.openvocab.talk_style import TalkStyle
from tubetags.openvocab.tree_models import CompiledTrees, fit_trees, load_model, save_model
from tubetags.predictor import Ranked, Sourced, TagPredictor, fitted, load_predictor
from tubetags.tags import tag_key
from tubetags.text import with_context

RRF_K = 10  # small: the first few ranks of each list matter most
STYLE_FILE = "talk_style.pkl"
CLOSED, TRANSCRIPT, HISTORY = "closed", "transcript", "history"  # where a suggested tag came from
HISTORY_SUFFIX = "+history"
FEATURES = (
    "closed_score",
    "closed_reciprocal_rank",
    "open_score",
    "open_reciprocal_rank",
    "in_closed",
    "in_open",
    "in_both",
    "closed_top_score",
    "open_x_closed_top",
    "words",
    "talk_style",
    "open_top_score",
)
ALL_FEATURES = FEATURES + HISTORY_FEATURES


@dataclass
class MergeInputs:
    """What the merge reads for a list of videos: per video, the closed model's ranking, the keyphrases, the
    talk style, its input setting, its channel profile (None: no history), and (for fitting) the true tags."""

    closed: list[Ranked]
    opened: list[Ranked]
    styles: list[float]
    truths: list[Sequence[str]] = field(default_factory=list)
    settings: list[str] = field(default_factory=list)
    profiles: list[ChannelProfile | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.settings = self.settings or [SETTINGS[0]] * len(self.closed)
        self.profiles = self.profiles or [None] * len(self.closed)

    def with_truths(self, truths: Sequence[Sequence[str]]) -> MergeInputs:
        return MergeInputs(self.closed, self.opened, self.styles, list(truths), self.settings, self.profiles)

    def subset(self, index: Sequence[int]) -> MergeInputs:
        pick = [int(i) for i in index]
        return MergeInputs(
            *(
                [getattr(self, name)[i] for i in pick] if getattr(self, name) else []
                for name in ("closed", "opened", "styles", "truths", "settings", "profiles")
            )
        )

    @staticmethod
    def concat(parts: Sequence[MergeInputs]) -> MergeInputs:
        fields = ("closed", "opened", "styles", "truths", "settings", "profiles")
        return MergeInputs(*([x for p in parts for x in getattr(p, name)] for name in fields))


def reciprocal_rank_fusion(lists: Sequence[Ranked], weights: Sequence[float], k: int) -> Ranked:
    scores: dict[str, float] = {}
    names: dict[str, str] = {}
    for ranked, weight in zip(lists, weights):
        for rank, (tag, _) in enumerate(ranked):
            key = tag_key(tag)
            names.setdefault(key, tag)
            scores[key] = scores.get(key, 0.0) + weight / (RRF_K + rank + 1)
    best = sum(w / (RRF_K + 1) for w in weights)
    merged = sorted(scores.items(), key=lambda kv: -kv[1])[:k]
    return [(names[key], score / best) for key, score in merged]


def candidates(
    closed: Ranked, opened: Ranked, talk_style: float = 0.5, profile: ChannelProfile | None = None
) -> tuple[list[str], list[str], list[str], np.ndarray]:
    """(keys, display names, sources, feature matrix) of the union of the lists, by spelling key; `talk_style`:
    the video's P(talk) (tubetags.openvocab.talk_style); with a `profile`, its tags join and the matrix has the
    HISTORY_FEATURES columns too."""
    rows: dict[str, dict[str, float]] = {}
    names: dict[str, str] = {}
    closed_top = float(closed[0][1]) if closed else 0.0
    open_top = float(opened[0][1]) if opened else 0.0
    for which, ranked in (("closed", closed), ("open", opened)):
        for rank, (tag, score) in enumerate(ranked):
            key = cached_tag_key(tag)
            if not key or f"in_{which}" in rows.get(key, {}):
                continue
            names.setdefault(key, tag)
            row = rows.setdefault(key, {"words": float(len(tag.split()))})
            row.update(
                {f"{which}_score": float(score), f"{which}_reciprocal_rank": 1.0 / (rank + 1), f"in_{which}": 1.0}
            )
    reused = profile.candidates() if profile is not None else []
    for tag, _ in reused:
        key = tag_key(tag)
        if key and key not in rows:
            names[key] = tag
            rows[key] = {"words": float(len(tag.split()))}
    keys = list(rows)
    for row in rows.values():
        row["in_both"] = row.get("in_closed", 0.0) * row.get("in_open", 0.0)
        row["closed_top_score"] = closed_top
        row["open_x_closed_top"] = row.get("open_score", 0.0) * closed_top
        row["talk_style"], row["open_top_score"] = float(talk_style), open_top
    matrix = np.array([[rows[k].get(f, 0.0) for f in FEATURES] for k in keys], dtype=float).reshape(-1, len(FEATURES))
    sources = [CLOSED if rows[k].get("in_closed") else TRANSCRIPT if rows[k].get("in_open") else HISTORY for k in keys]
    if profile is not None:
        reuse_rank = {tag_key(tag): i for i, (tag, _) in enumerate(reused)}
        history = np.array([profile.features(k, reuse_rank) for k in keys], dtype=float)
        history = history.reshape(-1, len(HISTORY_FEATURES))
        matrix = np.hstack([matrix, history])
    return keys, [names[k] for k in keys], sources, matrix


def merge_name(setting: str, history: bool) -> str:
    return setting + (HISTORY_SUFFIX if history else "")


class LearnedMerge:
    """Gradient-boosted trees over merge candidates (scikit-learn), one model per input setting: they learn the
    interactions a linear merge cannot, such as "trust the keyphrases when the closed model is unsure", and
    output a probability. Predicted in NumPy (tubetags.openvocab.tree_models.CompiledTrees)."""

    def __init__(self, models: dict[str, Any]):
        self.models = models  # merge_name(setting, history) -> fitted trees
        self._compiled: dict[str, CompiledTrees] = {}

    @classmethod
    def fit(cls, groups: Sequence[MergeInputs], seed: int = 0) -> LearnedMerge:
        """`groups`: per dataset, its videos' merge inputs with their true tags; each dataset weighs the same.
        One model per (setting, history or not) present in the videos."""
        by_name: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
        for group in groups:
            n = max(len(group.closed), 1)
            for c, o, style, truth, setting, profile in zip(
                group.closed, group.opened, group.styles, group.truths, group.settings, group.profiles
            ):
                keys, _, _, matrix = candidates(c, o, style, profile)
                truth_keys = {tag_key(t) for t in truth}
                y = np.array([k in truth_keys for k in keys], dtype=int)
                by_name.setdefault(merge_name(setting, profile is not None), []).append(
                    (matrix, y, np.full(len(keys), 1.0 / n))
                )
        models = {}
        for name, rows in by_name.items():
            x, y, w = (np.concatenate([r[i] for r in rows]) for i in range(3))
            models[name] = fit_trees(x, y, w, seed=seed)
        return cls(models)

    def model_for(self, setting: str, history: bool) -> tuple[str, CompiledTrees]:
        """The model of this input setting, else the closest fitted one (a description falls back to the title)."""
        order = SETTINGS[: SETTINGS.index(setting) + 1][::-1] if setting in SETTINGS else SETTINGS
        names = [merge_name(s, history) for s in order] + [merge_name(s, False) for s in order]
        name = next((n for n in names if n in self.models), None) or next(iter(self.models))
        if name not in self._compiled:
            self._compiled[name] = CompiledTrees(self.models[name])
        return name, self._compiled[name]

    def merge(
        self,
        closed: Ranked,
        opened: Ranked,
        k: int,
        talk_style: float = 0.5,
        setting: str = SETTINGS[0],
        profile: ChannelProfile | None = None,
    ) -> list[Sourced]:
        name, trees = self.model_for(setting, profile is not None)
        keys, names, sources, matrix = candidates(
            closed, opened, talk_style, profile if name.endswith(HISTORY_SUFFIX) else None
        )
        if not keys:
            return []
        probs = trees.probabilities(matrix)
        order = np.argsort(-probs, kind="stable")[:k]
        return [(names[i], float(probs[i]), sources[i]) for i in order]

    def save(self, path: Path) -> None:
        save_model(path, ALL_FEATURES, self.models)

    @classmethod
    def load(cls, path: Path) -> LearnedMerge:
        """A saved merge; one saved before this version (one model over FEATURES) serves every setting."""
        try:
            return cls(load_model(path, ALL_FEATURES, "merge")["model"])
        except ValueError:
            return cls({SETTINGS[0]: load_model(path, FEATURES, "merge")["model"]})


class HybridTagger(TagPredictor):
    strategy = "hybrid"
    deterministic = True  # the closed model comes trained; the merge is fitted by the open_vocab job

    def __init__(
        self,
        closed: TagPredictor | None = None,
        keyphrases: KeyphraseSuggester | None = None,
        closed_weight: float = 1.0,
        open_weight: float = 1.0,
        depth: int = 20,
    ):
        self.closed = closed
        self.keyphrases = keyphrases or KeyphraseSuggester()
        self.closed_weight, self.open_weight, self.depth = closed_weight, open_weight, depth
        self.merge: LearnedMerge | None = None  # None: reciprocal rank fusion
        self.style = TalkStyle()  # unfitted: no opinion (0.5) for every video

    def init_params(self) -> dict[str, Any]:
        # The closed model and the suggester are objects: saved as state (load_state), not as parameters.
        return {"closed_weight": self.closed_weight, "open_weight": self.open_weight, "depth": self.depth}

    def params(self) -> dict[str, Any]:
        return self.init_params() | {
            "closed_strategy": getattr(self.closed, "strategy", None),
            "rrf_k": RRF_K,
            "merge": "learned" if self.merge else "rrf",
            **{f"keyphrase_{k}": v for k, v in self.keyphrases.params().items()},
        }

    @override
    def fit(self, train: CorpusSplit, valid: CorpusSplit | None, vocabulary: Sequence[str]):
        # The closed model is trained already; the keyphrases learn which phrases are common (their background).
        # The merge is fitted with fit_merge, on both datasets' validation splits.
        return self.keyphrases.fit(train)

    def parts(self, videos: Sequence[Video | str]) -> MergeInputs:
        """The merge's input per video: closed ranking and keyphrases (each `depth` long), the talk style, the
        input setting and the channel profile (with a history). The closed model reads the title and the
        description's opening before the transcript, as it always has; the keyphrases read each on its own."""
        given = [Video(v) if isinstance(v, str) else v for v in videos]
        texts = [with_context(v.transcript, v.title, v.description) for v in given]
        if self.keyphrases.ranker is not None and self.keyphrases.ranker.legacy:
            given = [Video(text) for text in texts]  # saved before other inputs: the text as it read it
        closed = self.closed.predict(texts, self.depth) if self.closed else [[] for _ in given]
        opened, styles, profiles = [], [], []
        for video in given:
            language = detect_language(video.transcript)
            sources = self.keyphrases.sources(video, language)
            opened.append(self.keyphrases.rank_sources(sources, self.depth, video.setting))
            styles.append(self.style.of(sources.doc_vector, video.transcript))
            profile = None
            if video.history:
                vector = sources.doc_vector
                this = video_vector(vector, sources.title_vector) if vector is not None else None
                profile = channel_profile(video.history, this, self.keyphrases.vectors, stop_words(language))
            profiles.append(profile)
        return MergeInputs(closed, opened, styles, [], [v.setting for v in given], profiles)

    def fit_merge(self, groups: Sequence[MergeInputs]):
        """Fit the learned merge on the inputs (with truths) of videos the closed model never saw, per dataset."""
        self.merge = LearnedMerge.fit(groups)
        return self.merge

    def merge_parts(self, inputs: MergeInputs, k: int, method: str | None = None) -> list[list[Sourced]]:
        method = method or ("learned" if self.merge else "rrf")
        if method == "learned":
            merge = fitted(self.merge, "the learned merge")
            return [
                merge.merge(c, o, k, style, setting, profile)
                for c, o, style, setting, profile in zip(
                    inputs.closed, inputs.opened, inputs.styles, inputs.settings, inputs.profiles
                )
            ]
        out = []
        for c, o in zip(inputs.closed, inputs.opened):
            closed_keys = {tag_key(t) for t, _ in c}
            fused = reciprocal_rank_fusion([c, o], [self.closed_weight, self.open_weight], k)
            out.append([(t, s, CLOSED if tag_key(t) in closed_keys else TRANSCRIPT) for t, s in fused])
        return out

    @override
    def predict_videos(self, videos: Sequence[Video], k: int = 10) -> list[list[Sourced]]:
        return self.merge_parts(self.parts(videos), k)

    def predict_with_sources(self, transcripts: Sequence[str], k: int = 10) -> list[list[Sourced]]:
        return self.predict_videos([Video(t) for t in transcripts], k)

    def predict(self, transcripts: Sequence[str], k: int = 10) -> list[Ranked]:
        return [[(t, s) for t, s, _ in row] for row in self.predict_with_sources(transcripts, k)]

    def save_state(self, directory: Path) -> None:
        fitted(self.closed, "the closed model").save(directory / "closed")
        self.keyphrases.save(directory / "keyphrases")
        (directory / "hybrid.json").write_text(
            json.dumps(
                {
                    "keyphrases": self.keyphrases.params(),
                    "merge": "merge.pkl" if self.merge else None,
                    "style": STYLE_FILE if self.style.model is not None else None,
                }
            )
        )
        if self.merge:
            self.merge.save(directory / "merge.pkl")
        if self.style.model is not None:
            self.style.save(directory / STYLE_FILE)

    def load_state(self, directory: Path) -> None:
        meta = json.loads((directory / "hybrid.json").read_text())
        self.closed = load_predictor(directory / "closed")
        # Versions saved by the KeyBERT suggester carry its parameters (diversity...): only today's are passed on.
        known = KeyphraseSuggester().params()
        params = {k: v for k, v in meta["keyphrases"].items() if k in known}
        params.setdefault("versions", False)  # saved before numbers could be part of a phrase
        self.keyphrases = KeyphraseSuggester(**params)
        if (directory / "keyphrases").exists():
            self.keyphrases.load(directory / "keyphrases")
        # A merge saved in an older form (not a file name) is not loaded: the model then merges by rank fusion.
        merge = meta.get("merge")
        self.merge = LearnedMerge.load(directory / merge) if isinstance(merge, str) else None
        self.style = TalkStyle.load(directory / meta["style"]) if meta.get("style") else TalkStyle()
