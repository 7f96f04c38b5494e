"""Closed-vocabulary ranking merged with open-vocabulary keyphrases: the default for any creator.

The closed model knows the tags people use (`education`, `technology`); the keyphrases know
the specifics of this video (`sourdough starter`, `raspberry pi`). Their scores do not compare
(probabilities vs similarities), and how far to trust each depends on the video: a TED-like talk
where the closed model is confident vs a coding tutorial full of names it never saw.

Two merges:
- `rrf` (reciprocal rank fusion): score = sum over lists of weight / (RRF_K + rank), scaled to [0, 1].
  Needs no training; the fallback.
- `learned` (the default once fitted): gradient-boosted trees over the candidates of both lists, with
  features of each candidate (score and reciprocal rank in each list, in both lists, words) and of the
  video (the closed model's top score: how TED-like it is). Fitted on videos the closed model never saw
  of both datasets (each weighted equally), its output is the probability that the candidate is a tag
  the uploader would use, so one scale ranks both lists.
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
from tubetags.openvocab.keyphrases import KeyphraseSuggester
from tubetags.openvocab.talk_style import TalkStyle
from tubetags.openvocab.tree_models import load_model, save_model, single_openmp_thread
from tubetags.predictor import Ranked, Sourced, TagPredictor, fitted, load_predictor
from tubetags.tags import tag_key

RRF_K = 10  # small: the first few ranks of each list matter most
STYLE_FILE = "talk_style.pkl"
CLOSED, TRANSCRIPT = "closed", "transcript"
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


@dataclass
class MergeInputs:
    """What the merge reads for a list of videos: per video, the closed model's ranking, the keyphrases, the
    talk style, and (for fitting) the true tags."""

    closed: list[Ranked]
    opened: list[Ranked]
    styles: list[float]
    truths: list[Sequence[str]] = field(default_factory=list)

    def with_truths(self, truths: Sequence[Sequence[str]]) -> MergeInputs:
        return MergeInputs(self.closed, self.opened, self.styles, list(truths))

    @staticmethod
    def concat(parts: Sequence[MergeInputs]) -> MergeInputs:
        fields = ("closed", "opened", "styles", "truths")
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
    closed: Ranked, opened: Ranked, talk_style: float = 0.5
) -> tuple[list[str], list[str], list[str], np.ndarray]:
    """(keys, display names, sources, feature matrix) of the union of both lists, by spelling key; `talk_style`:
    the video's P(talk) (tubetags.openvocab.talk_style)."""
    rows: dict[str, dict[str, float]] = {}
    names: dict[str, str] = {}
    closed_top = float(closed[0][1]) if closed else 0.0
    open_top = float(opened[0][1]) if opened else 0.0
    for which, ranked in (("closed", closed), ("open", opened)):
        for rank, (tag, score) in enumerate(ranked):
            key = tag_key(tag)
            if not key or f"in_{which}" in rows.get(key, {}):
                continue
            names.setdefault(key, tag)
            row = rows.setdefault(key, {"words": float(len(tag.split()))})
            row.update(
                {f"{which}_score": float(score), f"{which}_reciprocal_rank": 1.0 / (rank + 1), f"in_{which}": 1.0}
            )
    keys = list(rows)
    for row in rows.values():
        row["in_both"] = row.get("in_closed", 0.0) * row.get("in_open", 0.0)
        row["closed_top_score"] = closed_top
        row["open_x_closed_top"] = row.get("open_score", 0.0) * closed_top
        row["talk_style"], row["open_top_score"] = float(talk_style), open_top
    matrix = np.array([[rows[k].get(f, 0.0) for f in FEATURES] for k in keys], dtype=float).reshape(-1, len(FEATURES))
    sources = [CLOSED if rows[k].get("in_closed") else TRANSCRIPT for k in keys]
    return keys, [names[k] for k in keys], sources, matrix


class LearnedMerge:
    """Gradient-boosted trees over merge candidates (scikit-learn): they learn the interactions a linear merge
    cannot, such as "trust the keyphrases when the closed model is unsure", and output a probability."""

    def __init__(self, model: Any):
        self.model = model

    @classmethod
    def fit(cls, groups: Sequence[MergeInputs], seed: int = 0) -> LearnedMerge:
        """`groups`: per dataset, its videos' merge inputs with their true tags; each dataset weighs the same."""
        from sklearn.ensemble import HistGradientBoostingClassifier

        xs, ys, ws = [], [], []
        for group in groups:
            for closed, opened, style, truth in zip(group.closed, group.opened, group.styles, group.truths):
                keys, _, _, matrix = candidates(closed, opened, style)
                truth_keys = {tag_key(t) for t in truth}
                xs.append(matrix)
                ys.append(np.array([k in truth_keys for k in keys], dtype=int))
                ws.append(np.full(len(keys), 1.0 / max(len(group.closed), 1)))
        x, y, w = np.vstack(xs), np.concatenate(ys), np.concatenate(ws)
        if len(set(y)) < 2:
            raise ValueError("the training data has no (or only) true tags among the candidates: cannot learn")
        # Shallow trees, small steps: a few thousand candidates per dataset, and it must generalise to new channels.
        model = HistGradientBoostingClassifier(max_depth=3, max_iter=200, learning_rate=0.05, random_state=seed)
        return cls(model.fit(x, y, sample_weight=w / w.mean()))

    def probabilities(self, matrix: np.ndarray) -> np.ndarray:
        with single_openmp_thread():  # a few dozen candidates: one thread (tubetags.openvocab.tree_models)
            return self.model.predict_proba(matrix)[:, 1]

    def merge(self, closed: Ranked, opened: Ranked, k: int, talk_style: float = 0.5) -> list[Sourced]:
        keys, names, sources, matrix = candidates(closed, opened, talk_style)
        if not keys:
            return []
        probs = self.probabilities(matrix)
        order = np.argsort(-probs, kind="stable")[:k]
        return [(names[i], float(probs[i]), sources[i]) for i in order]

    def save(self, path: Path) -> None:
        save_model(path, FEATURES, self.model)

    @classmethod
    def load(cls, path: Path) -> LearnedMerge:
        return cls(load_model(path, FEATURES, "merge")["model"])


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

    def parts(self, transcripts: Sequence[str]) -> MergeInputs:
        """The merge's input: closed ranking and keyphrases (each `depth` long) and the talk style, per transcript."""
        closed = self.closed.predict(transcripts, self.depth) if self.closed else [[] for _ in transcripts]
        opened = self.keyphrases.suggest(transcripts, self.depth)
        return MergeInputs(closed, opened, [float(p) for p in self.style.probability(transcripts)])

    def fit_merge(self, groups: Sequence[MergeInputs]):
        """Fit the learned merge on the inputs (with truths) of videos the closed model never saw, per dataset."""
        self.merge = LearnedMerge.fit(groups)
        return self.merge

    def merge_parts(self, inputs: MergeInputs, k: int, method: str | None = None) -> list[list[Sourced]]:
        method = method or ("learned" if self.merge else "rrf")
        if method == "learned":
            merge = fitted(self.merge, "the learned merge")
            return [merge.merge(c, o, k, style) for c, o, style in zip(inputs.closed, inputs.opened, inputs.styles)]
        out = []
        for c, o in zip(inputs.closed, inputs.opened):
            closed_keys = {tag_key(t) for t, _ in c}
            fused = reciprocal_rank_fusion([c, o], [self.closed_weight, self.open_weight], k)
            out.append([(t, s, CLOSED if tag_key(t) in closed_keys else TRANSCRIPT) for t, s in fused])
        return out

    def predict_with_sources(self, transcripts: Sequence[str], k: int = 10) -> list[list[Sourced]]:
        return self.merge_parts(self.parts(transcripts), k)

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
        self.keyphrases = KeyphraseSuggester(**{k: v for k, v in meta["keyphrases"].items() if k in known})
        if (directory / "keyphrases").exists():
            self.keyphrases.load(directory / "keyphrases")
        # A merge saved in an older form (not a file name) is not loaded: the model then merges by rank fusion.
        merge = meta.get("merge")
        self.merge = LearnedMerge.load(directory / merge) if isinstance(merge, str) else None
        self.style = TalkStyle.load(directory / meta["style"]) if meta.get("style") else TalkStyle()
