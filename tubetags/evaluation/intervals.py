"""Confidence intervals for comparing systems, and the per-strategy summary built from them.

- Over repeated training runs (seeds): Student t interval of the mean, because 5 seeds are
  too few for a normal approximation.
- For a deterministic system (one run, e.g. zero-shot): a bootstrap over test items, which
  measures how much the score depends on which videos happened to be in the test set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats


def t_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high). With one value the interval is that value (no spread can be measured)."""
    array = np.asarray(values, dtype=float)
    mean = float(array.mean())
    if len(array) < 2:
        return mean, mean, mean
    sem = stats.sem(array)
    if sem == 0:
        return mean, mean, mean
    low, high = stats.t.interval(confidence, len(values) - 1, loc=mean, scale=sem)
    return mean, float(low), float(high)


def bootstrap_interval(
    per_item: Sequence[float] | np.ndarray, confidence: float = 0.95, n_resamples: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """(mean, low, high) of the mean of per-item values, percentile bootstrap over items."""
    values = np.asarray(per_item, dtype=float)
    mean = float(values.mean())
    if len(values) < 2 or np.all(values == values[0]):
        return mean, mean, mean
    result = stats.bootstrap(
        (values,),
        np.mean,
        confidence_level=confidence,
        n_resamples=n_resamples,
        method="percentile",
        random_state=np.random.default_rng(seed),
    )
    return mean, float(result.confidence_interval.low), float(result.confidence_interval.high)


def cluster_bootstrap_interval(
    per_item: Sequence[float],
    groups: Sequence[str],
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """(mean, low, high) of the mean of per-item values, percentile bootstrap over *groups* of items.

    Items of one group (videos of one channel) are not independent: a channel is drawn with all its videos, so
    the interval says how much the mean depends on which channels happened to be held out. With one group
    the interval is the mean itself (nothing to resample)."""
    values = np.asarray(per_item, dtype=float)
    mean = float(values.mean())
    names = sorted(set(groups))
    if len(names) < 2:
        return mean, mean, mean
    index = {name: i for i, name in enumerate(names)}
    codes = np.array([index[g] for g in groups])
    sums = np.bincount(codes, weights=values, minlength=len(names))
    counts = np.bincount(codes, minlength=len(names))
    draws = np.random.default_rng(seed).integers(0, len(names), size=(n_resamples, len(names)))
    means = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    alpha = (1 - confidence) / 2
    return mean, float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


# Test metrics a comparison reports (logged by every training run as test_<name>).
METRICS = (
    "p_at_1",
    "p_at_3",
    "p_at_5",
    "p_at_10",
    "r_at_5",
    "r_at_10",
    "ndcg_at_5",
    "ndcg_at_10",
    "lrap",
    "micro_f1",
    "macro_f1",
)
# Per-item metrics a deterministic strategy's single run gets a bootstrap CI for.
BOOTSTRAP_METRICS = ("p_at_1", "p_at_3", "p_at_5", "p_at_10", "r_at_5", "r_at_10", "ndcg_at_5", "ndcg_at_10")
HEADLINE = "test_p_at_5"


def bootstrap_metrics(per_item_values: Mapping[str, Sequence[float] | np.ndarray]) -> dict[str, float]:
    """test_<metric>_ci_low/_ci_high for each bootstrapped metric, from per-item values."""
    out = {}
    for name in BOOTSTRAP_METRICS:
        _, low, high = bootstrap_interval(per_item_values[name])
        out[f"test_{name}_ci_low"], out[f"test_{name}_ci_high"] = low, high
    return out


def interval(values: Sequence[float], logged: Mapping[str, float], key: str) -> dict[str, Any]:
    """mean/low/high/n/method of one metric over a strategy's runs.

    Two runs or more: Student t over seeds. One run: the bootstrap CI it logged, if any.
    """
    n = len(values)
    if n >= 2:
        mean, low, high = t_interval(values)
        method = "t"
    elif f"{key}_ci_low" in logged and f"{key}_ci_high" in logged:
        mean, low, high, method = values[0], logged[f"{key}_ci_low"], logged[f"{key}_ci_high"], "bootstrap"
    else:
        mean, low, high, method = values[0], values[0], values[0], "none"
    return {"mean": float(mean), "low": float(low), "high": float(high), "n": n, "method": method}


def summarize(runs: Sequence[Mapping[str, Any]], metrics: Sequence[str] = METRICS) -> dict[str, dict[str, Any]]:
    """Per strategy: the CI of each test metric over its runs, and its best run (highest test P@5).

    `runs`: [{"strategy", "run_id", "dataset", "metrics": {name: value}}] (tubetags.tracking.child_runs).
    """
    summary: dict[str, dict[str, Any]] = {}
    for strategy in sorted({r["strategy"] for r in runs}):
        group = [r for r in runs if r["strategy"] == strategy]
        best = max(group, key=lambda r: r["metrics"].get(HEADLINE, -1.0))
        stats_by_metric = {}
        for name in metrics:
            key = f"test_{name}"
            values = [r["metrics"][key] for r in group if key in r["metrics"]]
            if values:
                stats_by_metric[key] = interval(values, group[0]["metrics"], key)
        summary[strategy] = {
            "metrics": stats_by_metric,
            "n_runs": len(group),
            "best_run_id": best["run_id"],
            "dataset": best.get("dataset", "ted"),
        }
    return summary
