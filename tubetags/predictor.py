"""The one interface every tagging strategy implements, and its MLflow pyfunc wrapper.

The comparison, the registry and the web app only ever see `TagPredictor` (in training)
or the pyfunc model (after registration): none of them special-cases a strategy.
"""

from __future__ import annotations

import importlib
import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Sequence

import pandas as pd

from tubetags.corpus import CorpusSplit

Ranked = list[tuple[str, float]]
META_FILE = "predictor.json"


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

    @abstractmethod
    def save_state(self, directory: Path) -> None:
        """Write everything `load_state` needs into `directory`."""

    @classmethod
    @abstractmethod
    def load_state(cls, directory: Path) -> "TagPredictor":
        """Rebuild a predictor written by `save_state`."""

    def params(self) -> dict[str, Any]:
        """Hyper-parameters to log."""
        return {}

    def save(self, directory: Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.save_state(directory)
        meta = {"class": f"{type(self).__module__}.{type(self).__qualname__}", "strategy": self.strategy}
        (directory / META_FILE).write_text(json.dumps(meta))
        return directory


def load_predictor(directory: Path) -> TagPredictor:
    """Load whatever predictor `TagPredictor.save` wrote, whichever strategy it is."""
    meta = json.loads((Path(directory) / META_FILE).read_text())
    module, _, name = meta["class"].rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    return cls.load_state(Path(directory))


def ranked_to_frame(ranked: Sequence[Ranked]) -> pd.DataFrame:
    return pd.DataFrame({"tags": [[t for t, _ in r] for r in ranked],
                         "scores": [[float(s) for _, s in r] for r in ranked]})
