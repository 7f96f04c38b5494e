"""Turning a score matrix over a tag vocabulary into ranked (tag, score) lists."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def top_k(scores: np.ndarray, vocabulary: Sequence[str], k: int) -> list[list[tuple[str, float]]]:
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    out = []
    for row, idx in zip(scores, top):
        idx = idx[np.argsort(-row[idx], kind="stable")]
        out.append([(vocabulary[i], float(row[i])) for i in idx])
    return out


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))
