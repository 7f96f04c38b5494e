"""The one interface every tagging strategy implements, and how a predictor is saved and loaded.

The comparison, the registry and the web app only ever see `TagPredictor` (in training)
or the pyfunc model that `tubetags/registry.py` wraps around it (after registration):
none of them special-cases a strategy.

Saving writes the constructor's parameters (`init_params`) next to the learned state, and loading
rebuilds the predictor with them before restoring the state: a reloaded predictor has the
hyper-parameters it was trained with, and no subclass stores or parses them itself.
"""

from __future__ import annotations

import importlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pandas as pd

from tubetags.corpus import CorpusSplit
from tubetags.inputs import Video
from tubetags.text import with_context

Ranked = list[tuple[str, float]]
Sourced = tuple[str, float, str]  # (tag, score, where it came from: "closed" model or "transcript" keyphrase)
META_FILE = "predictor.json"
T = TypeVar("T")
# The validation curve each strategy stops on (or keeps the best epoch of), and which way is better.
STOPPING_CURVES = (("val_p_at_5", max), ("valid_p_at_5", max), ("val_loss", min))


class NotFittedError(RuntimeError):
    """A predictor was asked to predict or save before it was fitted or loaded."""


def fitted(state: T | None, what: str) -> T:
    """`state` (learned by fit or restored by load_state), or NotFittedError naming what is missing."""
    if state is None:
        raise NotFittedError(f"{what} is not fitted: call fit() or load the predictor first")
    return state


def best_epoch(history: Mapping[str, Sequence[float]] | None) -> int | None:
    """The epoch (1-based) whose weights a fit kept, read from the curve it watched; None if it watched none."""
    for name, better in STOPPING_CURVES:
        values = list((history or {}).get(name) or [])
        if values:
            return values.index(better(values)) + 1
    return None


class TagPredictor(ABC):
    """Ranks tags for transcripts. Scores are in [0, 1], higher is more confident."""

    strategy: ClassVar[str]
    # True when training cannot change with the seed (nothing learned from our labels): run once.
    deterministic: ClassVar[bool] = False

    @abstractmethod
    def fit(self, train: CorpusSplit, valid: CorpusSplit | None, vocabulary: Sequence[str]) -> dict[str, list[float]]:
        """Learn from the streamed corpus; return training curves ({name: [value per epoch]}), maybe empty."""

    @abstractmethod
    def predict(self, transcripts: Sequence[str], k: int = 10) -> list[Ranked]:
        """For each transcript, the k best (tag, score) pairs, best first."""

    def rank_split(self, split: CorpusSplit, k: int = 10, batch_size: int = 32) -> Iterator[Ranked]:
        """predict() for every item of a corpus split, in the split's order (evaluation).

        A strategy that caches its encodings per shard overrides this to score the cached vectors
        instead of encoding the transcripts again for every seed."""
        for batch in split.batches(batch_size, columns=("transcript",)):
            yield from self.predict(batch["transcript"], k)

    def predict_with_sources(self, transcripts: Sequence[str], k: int = 10) -> list[list[Sourced]]:
        """predict(), with where each tag came from; a closed-vocabulary model's tags all come from it."""
        return [[(t, s, "closed") for t, s in row] for row in self.predict(transcripts, k)]

    def predict_videos(self, videos: Sequence[Video], k: int = 10) -> list[list[Sourced]]:
        """predict_with_sources() for videos with what else their creator gave (`tubetags.inputs.Video`). A model
        that reads only text gets the title and the description's opening before the transcript; the channel
        history is for models that use it (the hybrid)."""
        return self.predict_with_sources([with_context(v.transcript, v.title, v.description) for v in videos], k)

    @abstractmethod
    def init_params(self) -> dict[str, Any]:
        """The constructor's keyword arguments (JSON values): `type(self)(**init_params())` is this predictor
        before training."""

    @abstractmethod
    def save_state(self, directory: Path) -> None:
        """Write the learned state (not the constructor parameters) into `directory`."""

    @abstractmethod
    def load_state(self, directory: Path) -> None:
        """Restore the state `save_state` wrote into this predictor, built from its saved `init_params`."""

    def params(self) -> dict[str, Any]:
        """Hyper-parameters to log: the constructor's, plus descriptive keys a strategy may add."""
        return self.init_params()

    def refit_params(self, kept_epoch: int | None) -> dict[str, Any]:
        """Constructor params to train this fitted model again on more data, with nothing held out to stop on
        (experiments/refit.py): its own, with `epochs` = the epoch its early stopping kept (`kept_epoch`, read
        from its training curves). A strategy that chose more on validation (a teacher's epochs, ensemble
        weights) adds what it chose, so the refit repeats the held-out run's choices instead of guessing."""
        params = self.init_params()
        if kept_epoch and "epochs" in params:
            params["epochs"] = int(kept_epoch)
        return params

    def save(self, directory: Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.save_state(directory)
        meta = {
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "strategy": self.strategy,
            "params": self.init_params(),
        }
        (directory / META_FILE).write_text(json.dumps(meta))
        return directory


def load_predictor(directory: Path) -> TagPredictor:
    """Load whatever predictor `TagPredictor.save` wrote, whichever strategy it is, with its parameters."""
    directory = Path(directory)
    meta = json.loads((directory / META_FILE).read_text())
    if "params" not in meta:
        # Defaults would silently change the model: refuse instead.
        raise ValueError(f"{directory / META_FILE} has no constructor params (saved by an older version): retrain it")
    module, _, name = meta["class"].rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    predictor = cls(**meta["params"])
    predictor.load_state(directory)
    return predictor


def sourced_to_frame(rows: Sequence[Sequence[Sourced]]) -> pd.DataFrame:
    """The pyfunc output: per transcript, ranked `tags`, their `scores` and `sources`."""
    return pd.DataFrame(
        {
            "tags": [[t for t, _, _ in r] for r in rows],
            "scores": [[float(s) for _, s, _ in r] for r in rows],
            "sources": [[src for _, _, src in r] for r in rows],
        }
    )
