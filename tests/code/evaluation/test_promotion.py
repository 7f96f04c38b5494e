"""The promotion rule (tubetags.evaluation.promotion: choose_production, and challenger_wins for a retrained
model against the served one) on hand-made summaries."""

from __future__ import annotations

import pytest

from tubetags.evaluation.promotion import challenger_wins, choose_production


def entry(p5: float, p50: float | None, half: float = 0.01) -> dict:
    return {
        "metrics": {"test_p_at_5": {"mean": p5, "low": p5 - half, "high": p5 + half, "n": 5}},
        "latency_p50_ms": p50,
    }


def test_best_p5_within_budget_wins_and_others_are_explained():
    summary = {"baseline": entry(0.30, 20), "encoder_head": entry(0.40, 300), "zero_shot": entry(0.50, 2500)}
    winner, reason = choose_production(summary, 1000)
    assert winner == "encoder_head"
    assert "zero_shot" in reason and "over the latency budget" in reason
    assert "baseline" in reason and "lower P@5" in reason


def test_budget_is_inclusive():
    assert choose_production({"a": entry(0.5, 1000), "b": entry(0.4, 10)}, 1000)[0] == "a"


def test_tie_goes_to_the_faster_then_to_the_name():
    assert choose_production({"slow": entry(0.4, 500), "fast": entry(0.4, 50)}, 1000)[0] == "fast"
    assert choose_production({"b": entry(0.4, 50), "a": entry(0.4, 50)}, 1000)[0] == "a"


def test_all_over_budget_picks_the_fastest_and_says_so():
    winner, reason = choose_production({"a": entry(0.5, 3000), "b": entry(0.3, 1500)}, 1000)
    assert winner == "b" and "OVER BUDGET" in reason


def test_unmeasured_strategy_is_not_eligible():
    winner, reason = choose_production({"a": entry(0.6, None), "b": entry(0.3, 100)}, 1000)
    assert winner == "b" and "not measured" in reason


def test_no_latency_at_all_falls_back_to_p5():
    assert choose_production({"a": entry(0.6, None), "b": entry(0.3, None)}, 1000)[0] == "a"


def test_overlapping_cis_are_flagged():
    _, reason = choose_production({"a": entry(0.41, 10, half=0.05), "b": entry(0.40, 10, half=0.05)}, 1000)
    assert "CIs overlap" in reason
    _, reason = choose_production({"a": entry(0.60, 10), "b": entry(0.30, 10)}, 1000)
    assert "CIs overlap" not in reason


def test_empty_summary_is_an_error():
    with pytest.raises(ValueError):
        choose_production({}, 1000)


def test_a_retrained_model_replaces_production_only_if_not_worse():
    promote, reason = challenger_wins(entry(0.50, 10), entry(0.50, 10), 50)
    assert promote and reason.startswith("promoted") and "+0.000" in reason  # a tie: it has seen newer data
    promote, reason = challenger_wins(entry(0.48, 10, half=0.005), entry(0.52, 10, half=0.005), 50)
    assert not promote and reason.startswith("refused") and "-0.040" in reason and "overlap" not in reason
    promote, reason = challenger_wins(entry(0.51, 10, half=0.05), entry(0.52, 10, half=0.05), 50, min_gain=-0.02)
    assert promote and "95% CIs overlap" in reason


def test_a_retrained_model_must_beat_production_by_the_required_gain():
    promote, reason = challenger_wins(entry(0.53, 10), entry(0.52, 10), 50, min_gain=0.02)
    assert not promote and "below the required +0.020" in reason


def test_a_retrained_model_over_the_budget_never_replaces_one_within_it():
    promote, reason = challenger_wins(entry(0.70, 80), entry(0.50, 10), 50)
    assert not promote and "over the 50 ms budget" in reason
    assert challenger_wins(entry(0.70, 80), entry(0.50, 90), 50)[0]  # both over: quality decides
