import pytest

from tubetags.strategies.hybrid import RRF_K, reciprocal_rank_fusion


def test_rrf_merges_by_rank_and_spelling_key():
    closed = [("technology", 0.9), ("science", 0.5)]
    opened = [("raspberry pi", 0.7), ("Technology", 0.6)]
    merged = reciprocal_rank_fusion([closed, opened], [1.0, 1.0], k=5)
    assert [t for t, _ in merged] == ["technology", "raspberry pi", "science"]
    assert merged[0][1] == pytest.approx((1 / (RRF_K + 1) + 1 / (RRF_K + 2)) / (2 / (RRF_K + 1)))
    assert all(0 <= s <= 1 for _, s in merged)


def test_rrf_respects_k_and_weights():
    merged = reciprocal_rank_fusion([[("a", 1.0)], [("b", 1.0)]], [1.0, 2.0], k=1)
    assert merged == [("b", pytest.approx(2 / 3))]
