"""Ranking and classification metrics shared by every strategy.

Predictions are ranked (tag, score) lists, as a creator sees them; truths are tag lists.
Both are turned into matrices over one label space so that scikit-learn computes what it
has (nDCG, F1, label-ranking average precision); P@k and R@k are one line each.

Why these: a creator reads the top of the list, so P@k (how many of the first k are
right) and nDCG@k (right ones near the top) are the headline; R@k says how much of the
human tag set the list covers; F1 at a threshold judges the cut-off that decides how many
tags to show; LRAP judges the whole ranking.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import f1_score, label_ranking_average_precision_score, ndcg_score

KS = (1, 3, 5, 10)
Ranked = Sequence[tuple[str, float]]


def label_space(predictions: Sequence[Ranked], truths: Sequence[Sequence[str]]) -> list[str]:
    return sorted({t for tags in truths for t in tags} | {t for ranked in predictions for t, _ in ranked})


def to_matrices(
    predictions: Sequence[Ranked], truths: Sequence[Sequence[str]], labels: Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(y_true multi-hot, y_score) over `labels`; unranked labels score below every ranked one."""
    labels = list(labels) if labels is not None else label_space(predictions, truths)
    index = {t: i for i, t in enumerate(labels)}
    y_true = np.zeros((len(truths), len(labels)), dtype=np.int8)
    y_score = np.full((len(truths), len(labels)), -1.0)
    for row, (ranked, truth) in enumerate(zip(predictions, truths)):
        for tag in truth:
            if tag in index:
                y_true[row, index[tag]] = 1
        n = len(ranked)
        for rank, (tag, _) in enumerate(ranked):
            if tag in index:
                # Rank-based scores keep the predictor's order even if its scores tie.
                y_score[row, index[tag]] = max(y_score[row, index[tag]], (n - rank) / n)
    return y_true, y_score


def precision_at_k(predictions: Sequence[Ranked], truths: Sequence[Sequence[str]], k: int) -> float:
    """Share of the first k suggestions that are true tags (k in the denominator even if fewer suggested)."""
    return float(np.mean([len({t for t, _ in p[:k]} & set(y)) / k for p, y in zip(predictions, truths)]))


def recall_at_k(predictions: Sequence[Ranked], truths: Sequence[Sequence[str]], k: int) -> float:
    """Share of each video's true tags found among the first k suggestions."""
    return float(
        np.mean([len({t for t, _ in p[:k]} & set(y)) / max(len(set(y)), 1) for p, y in zip(predictions, truths)])
    )


def f1_from(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def thresholded(predictions: Sequence[Ranked], threshold: float) -> list[list[str]]:
    return [[t for t, s in ranked if s >= threshold] for ranked in predictions]


def best_threshold(
    predictions: Sequence[Ranked], truths: Sequence[Sequence[str]], grid: Sequence[float] | None = None
) -> float:
    """Score cut-off maximising micro-F1; chosen on validation, then applied unchanged to test."""
    scores = sorted({s for ranked in predictions for _, s in ranked})
    candidates: Sequence[float]
    if grid is not None:
        candidates = grid
    else:
        candidates = [float(q) for q in np.quantile(scores, np.linspace(0, 1, 101))] if scores else [0.5]
    best, best_f1 = 0.5, -1.0
    labels = label_space(predictions, truths)
    for threshold in candidates:
        f1 = threshold_f1(predictions, truths, float(threshold), labels)["micro_f1"]
        if f1 > best_f1:
            best, best_f1 = float(threshold), f1
    return best


def threshold_f1(
    predictions: Sequence[Ranked],
    truths: Sequence[Sequence[str]],
    threshold: float,
    labels: Sequence[str] | None = None,
) -> dict[str, float]:
    """Micro- and macro-F1 of the tags scoring at least `threshold` (macro over true labels)."""
    labels = list(labels) if labels is not None else label_space(predictions, truths)
    chosen = thresholded(predictions, threshold)
    y_true, _ = to_matrices([[(t, 1.0) for t in c] for c in chosen], truths, labels)
    y_pred, _ = to_matrices([[(t, 1.0) for t in c] for c in chosen], chosen, labels)
    present = np.flatnonzero(y_true.sum(axis=0))
    return {
        "micro_f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "macro_f1": float(f1_score(y_true[:, present], y_pred[:, present], average="macro", zero_division=0))
        if len(present)
        else 0.0,
    }


def evaluate(
    predictions: Sequence[Ranked],
    truths: Sequence[Sequence[str]],
    threshold: float | None = None,
    ks: Sequence[int] = KS,
) -> dict[str, float]:
    """All metrics for one system on one split. `threshold` None skips the F1-at-threshold pair."""
    if len(predictions) != len(truths):
        raise ValueError(f"{len(predictions)} predictions for {len(truths)} truths")
    labels = label_space(predictions, truths)
    y_true, y_score = to_matrices(predictions, truths, labels)
    # A never-true, never-ranked column: sklearn's nDCG needs two labels at least; no score changes.
    padded_true = np.hstack([y_true, np.zeros((len(y_true), 1), dtype=y_true.dtype)])
    padded_score = np.hstack([y_score, np.full((len(y_score), 1), -2.0)])
    out: dict[str, float] = {}
    for k in ks:
        p, r = precision_at_k(predictions, truths, k), recall_at_k(predictions, truths, k)
        out[f"p_at_{k}"], out[f"r_at_{k}"], out[f"f1_at_{k}"] = p, r, f1_from(p, r)
        out[f"ndcg_at_{k}"] = float(ndcg_score(padded_true, padded_score, k=k))
    has_truth = y_true.sum(axis=1) > 0
    out["lrap"] = (
        float(label_ranking_average_precision_score(y_true[has_truth], y_score[has_truth])) if has_truth.any() else 0.0
    )
    if threshold is not None:
        out.update(threshold_f1(predictions, truths, threshold, labels))
        out["threshold"] = float(threshold)
    return out


def per_item(
    predictions: Sequence[Ranked], truths: Sequence[Sequence[str]], ks: Sequence[int] = KS
) -> dict[str, np.ndarray]:
    """Per-item values of the metrics that are means over items (for bootstraps and error analysis)."""
    labels = label_space(predictions, truths)
    y_true, y_score = to_matrices(predictions, truths, labels)
    padded_true = np.hstack([y_true, np.zeros((len(y_true), 1), dtype=y_true.dtype)])
    padded_score = np.hstack([y_score, np.full((len(y_score), 1), -2.0)])
    out: dict[str, np.ndarray] = {}
    for k in ks:
        out[f"p_at_{k}"] = np.array([len({t for t, _ in p[:k]} & set(y)) / k for p, y in zip(predictions, truths)])
        out[f"r_at_{k}"] = np.array(
            [len({t for t, _ in p[:k]} & set(y)) / max(len(set(y)), 1) for p, y in zip(predictions, truths)]
        )
        out[f"ndcg_at_{k}"] = np.array(
            [ndcg_score(padded_true[i : i + 1], padded_score[i : i + 1], k=k) for i in range(len(truths))]
        )
    return out
