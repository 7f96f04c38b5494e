"""Confidence intervals for comparing systems.

- Over repeated training runs (seeds): Student t interval of the mean, because 5 seeds are
  too few for a normal approximation.
- For a deterministic system (one run, e.g. zero-shot): a bootstrap over test items, which
  measures how much the score depends on which videos happened to be in the test set.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import stats


def t_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high). With one value the interval is that value (no spread can be measured)."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, mean, mean
    sem = stats.sem(values)
    if sem == 0:
        return mean, mean, mean
    low, high = stats.t.interval(confidence, len(values) - 1, loc=mean, scale=sem)
    return mean, float(low), float(high)


def bootstrap_interval(per_item: Sequence[float], confidence: float = 0.95, n_resamples: int = 2000,
                       seed: int = 0) -> tuple[float, float, float]:
    """(mean, low, high) of the mean of per-item values, percentile bootstrap over items."""
    values = np.asarray(per_item, dtype=float)
    mean = float(values.mean())
    if len(values) < 2 or np.all(values == values[0]):
        return mean, mean, mean
    result = stats.bootstrap((values,), np.mean, confidence_level=confidence, n_resamples=n_resamples,
                             method="percentile", random_state=np.random.default_rng(seed))
    return mean, float(result.confidence_interval.low), float(result.confidence_interval.high)
