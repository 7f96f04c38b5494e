"""What the small tree models of a request share (the phrase ranker, the learned merge): fitting, a cheap
prediction, and feature-checked persistence.

They are scikit-learn's gradient-boosted trees (`HistGradientBoostingClassifier`, shallow). Predicting a few
dozen rows through scikit-learn costs ~1-2 ms a call (input validation, one Python call per tree, OpenMP threads
that spin-wait between calls: in every gunicorn worker at once they once took ~1 s of CPU per request). A request
needs the same fitted trees, not that machinery: `CompiledTrees` copies them into padded NumPy arrays and walks
all trees for all rows at once, level by level (depth 3: three gathers), with scikit-learn's rules (`x <=
threshold` goes left; a missing value goes where the split sent missing values in training). Same probabilities
(to float rounding; a test compares them), ~0.1 ms for 150 rows and 200 trees, no OpenMP.

Persistence: a model is pickled with the names of the features it was fitted on, and refused at load time when
the code's features differ (a model fitted on other columns would score silently wrong).
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def fit_trees(x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None, seed: int = 0) -> Any:
    """Shallow trees, small steps: a few thousand to ~100k candidates, and they must generalise to new channels."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    if len(set(y.tolist())) < 2:
        raise ValueError("no (or only) true tags among the candidates: cannot learn")
    model = HistGradientBoostingClassifier(max_depth=3, max_iter=200, learning_rate=0.05, random_state=seed)
    x = np.where(np.isnan(x).all(axis=0), 0.0, x)  # a column never filled (no title in this setting): constant
    return model.fit(x, y, sample_weight=None if weights is None else weights / weights.mean())


class CompiledTrees:
    """A fitted binary `HistGradientBoostingClassifier` as NumPy arrays: P(class 1) for a feature matrix."""

    def __init__(self, model: Any):
        trees = [per_class[0].nodes for per_class in model._predictors]
        if any(t["is_categorical"].any() for t in trees):
            raise ValueError("categorical splits are not supported")
        width = max(len(t) for t in trees)
        self.n_trees = len(trees)

        def padded(field: str, fill: float, dtype: Any) -> np.ndarray:
            out = np.full((self.n_trees, width), fill, dtype=dtype)
            for i, nodes in enumerate(trees):
                out[i, : len(nodes)] = nodes[field]
            return out.ravel()

        # Flat arrays over all trees; a tree's node i is at tree * width + i. Padding nodes are leaves worth 0.
        offsets = (np.arange(self.n_trees) * width)[:, None]
        self.feature = padded("feature_idx", 0, np.intp)
        self.threshold = padded("num_threshold", 0.0, np.float64)
        self.missing_left = padded("missing_go_to_left", 0, bool)
        self.value = padded("value", 0.0, np.float64)
        # A leaf's children are itself: a row that reached one stays there for the levels left (no leaf test).
        leaf, own = padded("is_leaf", 1, bool), np.arange(self.n_trees * width)
        self.left = np.where(leaf, own, padded("left", 0, np.intp) + np.repeat(offsets.ravel(), width))
        self.right = np.where(leaf, own, padded("right", 0, np.intp) + np.repeat(offsets.ravel(), width))
        self.roots = offsets
        self.depth = int(max(t["depth"].max() for t in trees))
        self.baseline = float(np.ravel(model._baseline_prediction)[0])

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if not len(x):
            return np.zeros(0)
        node = np.repeat(self.roots, len(x), axis=1)  # [trees, rows]
        rows = np.arange(len(x))[None, :]
        for _ in range(self.depth):
            values = x[rows, self.feature[node]]
            left = np.where(np.isnan(values), self.missing_left[node], values <= self.threshold[node])
            node = np.where(left, self.left[node], self.right[node])
        raw = self.baseline + self.value[node].sum(axis=0)
        return 1.0 / (1.0 + np.exp(-raw))


def save_model(path: Path, features: Sequence[str], model: Any, **state: Any) -> None:
    with Path(path).open("wb") as handle:
        pickle.dump({"features": list(features), "model": model, **state}, handle)


def load_model(path: Path, features: Sequence[str], what: str) -> dict[str, Any]:
    """The saved state ({"model": ..., and what else was saved}); ValueError if fitted on other features."""
    with Path(path).open("rb") as handle:
        state = pickle.load(handle)  # our own artifact, logged with the model
    if state.get("features") != list(features):
        raise ValueError(f"the saved {what} was fitted on other features: refit it")
    return state
