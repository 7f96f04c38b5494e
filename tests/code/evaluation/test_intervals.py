import numpy as np
import pytest
from scipy import stats as scipy_stats

from tubetags.evaluation.intervals import bootstrap_interval, t_interval
from tubetags.ranking_metrics import evaluate, per_item


def test_t_interval_matches_the_textbook_formula():
    values = [0.50, 0.52, 0.49, 0.51, 0.53]
    mean, low, high = t_interval(values)
    half = scipy_stats.t.ppf(0.975, 4) * np.std(values, ddof=1) / np.sqrt(5)
    assert mean == pytest.approx(0.51)
    assert (low, high) == pytest.approx((0.51 - half, 0.51 + half))


def test_intervals_degenerate_gracefully():
    assert t_interval([0.4]) == (0.4, 0.4, 0.4)
    assert bootstrap_interval([1.0, 1.0, 1.0]) == (1.0, 1.0, 1.0)


def test_bootstrap_interval_contains_the_mean_and_narrows_with_more_items():
    rng = np.random.default_rng(0)
    small = rng.binomial(1, 0.5, 50).astype(float)
    large = rng.binomial(1, 0.5, 2000).astype(float)
    m1, l1, h1 = bootstrap_interval(small)
    m2, l2, h2 = bootstrap_interval(large)
    assert l1 <= m1 <= h1 and l2 <= m2 <= h2
    assert (h2 - l2) < (h1 - l1)


def test_per_item_metrics_average_to_the_corpus_metrics():
    preds = [[("a", 0.9), ("b", 0.8), ("c", 0.3)], [("x", 0.7), ("a", 0.6), ("y", 0.1)]]
    truths = [["a", "c", "d"], ["y"]]
    items = per_item(preds, truths, ks=(1, 3))
    overall = evaluate(preds, truths, ks=(1, 3))
    for key in ("p_at_1", "p_at_3", "r_at_3", "ndcg_at_3"):
        assert items[key].mean() == pytest.approx(overall[key])
