"""tubetags.evaluation pure parts: CIs per strategy, error analysis, VM choice, reports (no MLflow)."""

from __future__ import annotations

import yaml

from tubetags.evaluation import costs, errors, intervals, reports
from tubetags.evaluation.prediction_log import PredictionRow


def runs():
    seeds = [
        {"strategy": "baseline", "run_id": f"b{i}", "metrics": {"test_p_at_5": p, "test_lrap": p + 0.1}}
        for i, p in enumerate([0.30, 0.32, 0.34])
    ]
    zero = {
        "strategy": "zero_shot",
        "run_id": "z",
        "metrics": {"test_p_at_5": 0.20, "test_p_at_5_ci_low": 0.15, "test_p_at_5_ci_high": 0.26, "test_lrap": 0.3},
    }
    return seeds + [zero]


def test_summary_t_interval_over_seeds_and_logged_bootstrap_for_one_run():
    summary = intervals.summarize(runs())
    base = summary["baseline"]["metrics"]["test_p_at_5"]
    assert base["method"] == "t" and base["n"] == 3
    assert base["low"] < base["mean"] == 0.32 < base["high"]
    assert summary["baseline"]["best_run_id"] == "b2"
    zero = summary["zero_shot"]["metrics"]
    p5 = zero["test_p_at_5"]
    assert (p5["low"], p5["high"], p5["method"]) == (0.15, 0.26, "bootstrap")
    assert zero["test_lrap"]["method"] == "none" and zero["test_lrap"]["low"] == zero["test_lrap"]["high"] == 0.3
    assert "test_p_at_1" not in zero  # not logged: left out, not invented


ROWS = [
    PredictionRow.model_validate(r)
    for r in [  # 4 talks; 'culture' is always suggested, right once
        {"video_id": "v1", "words": 100, "tags": ["culture", "art"], "predicted": [["culture", 0.9], ["art", 0.8]]},
        {"video_id": "v2", "words": 200, "tags": ["science"], "predicted": [["culture", 0.9], ["science", 0.8]]},
        {"video_id": "v3", "words": 300, "tags": ["rare"], "predicted": [["culture", 0.9], ["art", 0.8]]},
        {
            "video_id": "v4",
            "words": 400,
            "tags": ["science", "rare"],
            "predicted": [["culture", 0.9], ["science", 0.7]],
        },
    ]
]
FREQ = {"culture": 100, "science": 90, "art": 50, "rare": 3, "t5": 2}  # head (top 20% of 5 = 1 tag): >= 100


def test_error_analysis_counts():
    a = errors.error_analysis(ROWS, FREQ, k=5)
    assert a["false_positives"][0] == {
        "tag": "culture",
        "talks": 3,
        "share_of_talks": 0.75,
        "precision_when_suggested": 0.25,
    }
    assert a["false_negatives"][0]["tag"] == "rare" and a["false_negatives"][0]["missed"] == 2
    assert [w["video_id"] for w in a["worst"]][0] == "v3" and a["no_hit_talks"] == 1
    assert [b["talks"] for b in a["by_length"]] == [1, 1, 1, 1]
    freq = a["by_frequency"]
    assert freq["threshold"] == 100 and freq["head_recall"] == 1.0 and freq["tail_recall"] == 3 / 5
    sentences = " ".join(errors.failure_sentences("baseline", a))
    assert "over-predicts the tag 'culture'" in sentences and "< 100 train examples" in sentences
    md = reports.error_analysis_markdown({"baseline": {"run_id": "r", **a}})
    assert "| culture | 3 | 75% | 25% |" in md


def test_vm_choice_is_the_cheapest_that_fits():
    prices = yaml.safe_load(costs.VM_PRICES.read_text())
    rows, choice, reason = costs.recommend_vm(700, prices)  # 2 x 0.7 GB x 1.25 + 0.6 > 2 GiB: not t4g.small
    assert choice["provider"] == "oracle" and "cheapest AWS fit is t4g.medium" in reason
    assert not next(r for r in rows if r["name"] == "t4g.small")["fits"]
    prices["vms"] = [vm for vm in prices["vms"] if vm["provider"] == "aws"]
    assert costs.recommend_vm(200, prices)[1]["name"] == "t4g.small"
    assert costs.recommend_vm(10**6, prices)[1] == {}


def test_reports_render(tmp_path):
    summary = intervals.summarize(runs())
    for entry, p50 in zip(summary.values(), (20.0, 900.0)):
        entry.update(version="1", latency_p50_ms=p50)
        entry["metrics"].update({f"test_{m}": entry["metrics"]["test_p_at_5"] for m in reports.PLOT_METRICS})
    md = reports.results_markdown(summary, "baseline", "because", 1000, "parent")
    assert "## Production: baseline" in md and "| zero_shot | 1 (bootstrap over test talks) |" in md
    assert "0.320 ±" in md
    png = reports.plot_comparison(summary, tmp_path / "c.png")
    assert png.stat().st_size > 10_000


def test_costs_report_with_one_strategy_unmeasured():
    prices = yaml.safe_load(costs.VM_PRICES.read_text())
    cost = {
        "artifact_mb": 7.0,
        "external_weights_mb": 0.0,
        "rss_model_mb": 135,
        "rss_after_mb": 380,
        "load_seconds": 1.9,
        "latency_p50_ms": 11,
        "latency_p95_ms": 12,
        "batch_throughput_per_s": 340,
        "transcript_words": 2000,
        "cpu_count": 2,
        "machine": "x86_64",
        "load_average_1m": 1.0,
    }
    summary = {
        "baseline": {"version": "2", "cost": cost},
        "zero_shot": {"version": "3", "cost": {"error": ["MemoryError"]}},
    }
    md = reports.costs_markdown(summary, "baseline", prices, 1000)
    assert "| baseline | 2 | 7.0 |" in md and "not measured: MemoryError" in md
    assert "| 11 | 12 | – | 340.0 |" in md  # a cost measured before the CPU column: no CPU figure
    hybrid = {"version": "9", "cost": cost | {"cpu_ms_new_transcript_p50": 14.25, "artifact_mb": 40.0}}
    md = reports.costs_markdown(summary, "baseline", prices, 1000, hybrid)
    assert "| served default (hybrid) | 9 | 40.0 |" in md and "| 11 | 12 | 14.2 | 340.0 |" in md
    assert "**Choice: Oracle Always Free" in md and "list prices" in md


def test_predictions_artifact_round_trips(tmp_path):
    from tubetags.evaluation.prediction_log import read_predictions, write_predictions

    path = write_predictions(ROWS, tmp_path / "p.jsonl")
    assert read_predictions(path) == ROWS
    assert read_predictions(path)[1].predicted[1] == ("science", 0.8)
