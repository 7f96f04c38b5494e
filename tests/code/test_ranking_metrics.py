import math

import pytest

from tubetags.ranking_metrics import best_threshold, evaluate, precision_at_k, recall_at_k, threshold_f1

PRED = [[("a", 0.9), ("b", 0.8), ("c", 0.3)], [("x", 0.7), ("a", 0.6), ("y", 0.1)]]
TRUE = [["a", "c", "d"], ["y"]]


def test_precision_and_recall_at_k_by_hand():
    # item 1: top1 {a} hit; top3 {a,b,c} 2 hits. item 2: top1 {x} miss; top3 hits y.
    assert precision_at_k(PRED, TRUE, 1) == pytest.approx((1 + 0) / 2)
    assert precision_at_k(PRED, TRUE, 3) == pytest.approx((2 / 3 + 1 / 3) / 2)
    assert recall_at_k(PRED, TRUE, 3) == pytest.approx((2 / 3 + 1) / 2)
    assert precision_at_k(PRED, TRUE, 5) == pytest.approx((2 / 5 + 1 / 5) / 2)  # k stays the denominator


def test_ndcg_by_hand():
    m = evaluate(PRED, TRUE, ks=(3,))
    dcg1 = 1 + 1 / math.log2(4)
    idcg1 = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    dcg2 = 1 / math.log2(4)
    assert m["ndcg_at_3"] == pytest.approx((dcg1 / idcg1 + dcg2 / 1) / 2)
    assert m["f1_at_3"] == pytest.approx(2 * m["p_at_3"] * m["r_at_3"] / (m["p_at_3"] + m["r_at_3"]))


def test_lrap_by_hand():
    # Label space {a,b,c,d,x,y}. Item 1: a rank 1 -> 1/1; c rank 3 -> 2/3; d unranked ties with
    # x, y at the bottom, so rank 6 with 3 true at or above -> 3/6. Item 2: y rank 3 -> 1/3.
    m = evaluate(PRED, TRUE, ks=(1,))
    assert m["lrap"] == pytest.approx(((1 + 2 / 3 + 1 / 2) / 3 + 1 / 3) / 2)
    perfect = evaluate([[("a", 1.0)]], [["a"]], ks=(1,))
    assert perfect["lrap"] == 1.0 and perfect["p_at_1"] == 1.0 and perfect["ndcg_at_1"] == 1.0


def test_threshold_f1_by_hand():
    # threshold 0.5: item1 {a,b}, item2 {x,a}; true {a,c,d},{y}: TP=1 FP=3 FN=3
    f = threshold_f1(PRED, TRUE, 0.5)
    assert f["micro_f1"] == pytest.approx(2 * 1 / (2 * 1 + 3 + 3))
    # macro over true labels a,c,d,y: only a has F1 = 2/(2+1+0) = 2/3
    assert f["macro_f1"] == pytest.approx((2 / 3) / 4)


def test_best_threshold_picks_the_cut_that_maximises_micro_f1():
    preds = [[("a", 0.9), ("b", 0.2)], [("c", 0.8), ("d", 0.1)]]
    truths = [["a"], ["c"]]
    t = best_threshold(preds, truths)
    assert 0.2 < t <= 0.8
    assert threshold_f1(preds, truths, t)["micro_f1"] == 1.0


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError):
        evaluate(PRED, TRUE[:1])
