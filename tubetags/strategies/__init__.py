"""Tagging strategies, each a `TagPredictor`, named once in `STRATEGIES`.

The table drives everything that names a strategy: the experiment's default list, the registry
aliases the web app serves, the config file each training run reads (`configs/strategies/<name>.yaml`)
and each one's MLproject entry point (`train_<name>`; a test checks MLproject against the table).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass

from tubetags.predictor import TagPredictor


@dataclass(frozen=True)
class Strategy:
    name: str  # also the class's `strategy` and the config file's stem
    target: str  # "module:Class"
    alias: str  # registry alias of its best version
    in_experiment: bool = True  # trained and compared by `make experiment`
    learns: bool = True  # learns from our labels (False: deterministic, nothing to seed)
    summary: str = ""

    @property
    def entry_point(self) -> str | None:
        """Its own MLproject entry point (`mlflow run . -e train_bilstm`); the hybrid has none (open_vocab makes it)."""
        if not self.in_experiment:
            return None
        return f"train_{self.name}" if self.learns else self.name


STRATEGIES: dict[str, Strategy] = {
    s.name: s
    for s in (
        Strategy(
            "baseline",
            "tubetags.strategies.baseline:TfidfLinearTagger",
            "baseline",
            summary="(a) TF-IDF + linear classifiers (scikit-learn)",
        ),
        Strategy(
            "bilstm", "tubetags.strategies.bilstm:BiLSTMTagger", "bilstm", summary="(b) BiLSTM trained from scratch"
        ),
        Strategy(
            "encoder_head",
            "tubetags.strategies.encoder_head:EncoderHeadTagger",
            "encoder-head",
            summary="(c) frozen pretrained encoder + in-house head",
        ),
        Strategy(
            "encoder_head_fast",
            "tubetags.strategies.encoder_head:FastEncoderHeadTagger",
            "encoder-head-fast",
            summary="(c, fast) static vectors distilled from the same encoder + in-house head",
        ),
        Strategy(
            "distilled",
            "tubetags.strategies.distilled:DistilledTagger",
            "distilled",
            summary="(c, distilled) TF-IDF + model2vec student trained on the MiniLM head's soft scores and the labels",
        ),
        Strategy(
            "stacked",
            "tubetags.strategies.stacked:StackedTagger",
            "stacked",
            summary="(e) stacked ensemble of the fast arms, weights fitted on validation",
        ),
        Strategy(
            "zero_shot",
            "tubetags.strategies.zero_shot:ZeroShotTagger",
            "zero-shot",
            learns=False,
            summary="(d) fully pretrained: transcript/tag-name similarity",
        ),
        Strategy(
            "hybrid",
            "tubetags.strategies.hybrid:HybridTagger",
            "open-vocab",
            in_experiment=False,
            summary="production's closed vocabulary merged with transcript keyphrases",
        ),
    )
}
EXPERIMENT_STRATEGIES = tuple(name for name, s in STRATEGIES.items() if s.in_experiment)


def checked_strategies(names: list[str], allowed: Sequence[str]) -> list[str]:
    """A job config's strategy list, if non-empty and each one of `allowed` (the one rule every job's validator
    applies)."""
    unknown = [n for n in names if n not in allowed]
    if unknown or not names:
        raise ValueError(f"unknown strategies {unknown}; choose from {list(allowed)}")
    return names


def strategy(name: str) -> Strategy:
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; choose one of {sorted(STRATEGIES)}")
    return STRATEGIES[name]


def predictor_class(name: str) -> type[TagPredictor]:
    module, _, cls = strategy(name).target.partition(":")
    return getattr(importlib.import_module(module), cls)


def build_predictor(name: str, **params) -> TagPredictor:
    return predictor_class(name)(**params)
