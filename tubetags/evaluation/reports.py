"""The comparison as people read it: Markdown tables, the chart, the error analysis, the costs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from tubetags.evaluation.costs import ram_needed_gib, recommend_vm
from tubetags.evaluation.errors import ERROR_K, HEAD_SHARE, failure_sentences
from tubetags.evaluation.intervals import METRICS

LABELS = {
    "p_at_1": "P@1",
    "p_at_3": "P@3",
    "p_at_5": "P@5",
    "p_at_10": "P@10",
    "r_at_5": "R@5",
    "r_at_10": "R@10",
    "ndcg_at_5": "nDCG@5",
    "ndcg_at_10": "nDCG@10",
    "lrap": "LRAP",
    "micro_f1": "micro-F1",
    "macro_f1": "macro-F1",
}
PLOT_METRICS = ("p_at_1", "p_at_3", "p_at_5", "p_at_10", "ndcg_at_5")
METHOD_TEXT = {"t": "Student t over seeds", "bootstrap": "bootstrap over test talks", "none": "single run, no CI"}


def cell(stat: dict[str, Any]) -> str:
    if stat["method"] == "none":
        return f"{stat['mean']:.3f} (no CI)"
    half = max(stat["high"] - stat["mean"], stat["mean"] - stat["low"])
    return f"{stat['mean']:.3f} ± {half:.3f} [{stat['low']:.3f}, {stat['high']:.3f}]"


def metrics_table(summary: Mapping[str, Any], metrics: tuple[str, ...] | list[str]) -> str:
    head = "| strategy | n | " + " | ".join(LABELS[m] for m in metrics) + " |"
    lines = [head, "|" + "---|" * (len(metrics) + 2)]
    for strategy, entry in summary.items():
        stats = entry["metrics"]
        some = next(iter(stats.values()))
        n = f"{some['n']} ({METHOD_TEXT[some['method']]})"
        lines.append(
            f"| {strategy} | {n} | "
            + " | ".join(cell(stats[f"test_{m}"]) if f"test_{m}" in stats else "–" for m in metrics)
            + " |"
        )
    return "\n".join(lines)


def results_markdown(summary: Mapping[str, Any], winner: str, reason: str, budget_ms: float, parent_run_id: str) -> str:
    ranking = [m for m in METRICS if m.startswith(("p_at", "r_at", "ndcg"))]
    whole = [m for m in METRICS if m not in ranking]
    latency = ["| strategy | best version | single-transcript p50 (ms) | within budget |", "|---|---|---|---|"]
    for strategy, entry in summary.items():
        p50 = entry.get("latency_p50_ms")
        latency.append(
            f"| {strategy} | {entry.get('version', '–')} | {'–' if p50 is None else f'{p50:.0f}'} | "
            f"{'–' if p50 is None else ('yes' if p50 <= budget_ms else 'no')} |"
        )
    return f"""# Strategy comparison

Experiment run `{parent_run_id}`; test split. Cells: mean ± 95% CI half-width [low, high].

## Production: {winner}

Rule: the best mean test P@5 among the strategies whose single-transcript p50 latency is within
{budget_ms:.0f} ms (tie: the faster); if none fits, the fastest.

{reason}

{chr(10).join(latency)}

## Ranking metrics (top of the list)

{metrics_table(summary, ranking)}

## Whole ranking and thresholded tags

{metrics_table(summary, whole)}

n: runs (seeds). With n ≥ 2 the CI is a Student t interval over seeds (training randomness); a
deterministic strategy runs once and its CI is a bootstrap over test talks (test-set sampling),
so the two kinds of interval measure different things. Chart: comparison.png.
"""


def plot_comparison(summary: Mapping[str, Any], path: Path, title: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    strategies = list(summary)
    width = 0.8 / max(len(strategies), 1)
    x = np.arange(len(PLOT_METRICS))
    fig, ax = plt.subplots(figsize=(10, 5.5), dpi=120)
    top = 0.0
    for i, strategy in enumerate(strategies):
        stats = [summary[strategy]["metrics"][f"test_{m}"] for m in PLOT_METRICS]
        means = np.array([s["mean"] for s in stats])
        errors = np.array(
            [[max(s["mean"] - s["low"], 0) for s in stats], [max(s["high"] - s["mean"], 0) for s in stats]]
        )
        n, method = stats[0]["n"], METHOD_TEXT[stats[0]["method"]]
        bars = ax.bar(
            x + (i - (len(strategies) - 1) / 2) * width,
            means,
            width * 0.95,
            yerr=errors,
            capsize=4,
            label=f"{strategy} (n={n}, {method})",
        )
        ax.bar_label(bars, labels=[f"{m:.2f}" for m in means], padding=2, fontsize=8, label_type="edge")
        top = max(top, float((means + errors[1]).max()))
    ax.set_xticks(x, [LABELS[m] for m in PLOT_METRICS], fontsize=11)
    ax.set_ylabel("test score (mean, 95% CI)", fontsize=11)
    ax.set_ylim(0, min(1.0, top * 1.2 + 0.02))
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(fontsize=9, loc="upper right")
    ax.set_title(title or "Test metrics by strategy", fontsize=12)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def error_analysis_markdown(analyses: Mapping[str, Mapping[str, Any]]) -> str:
    parts = [
        "# Error analysis",
        "",
        f"Per strategy, its best run's test predictions (evaluation/test_predictions.jsonl); errors are counted "
        f"in the top {ERROR_K} suggestions. Head tags: the {HEAD_SHARE:.0%} most frequent in train.",
    ]
    for strategy, a in analyses.items():
        k = a["k"]
        parts += [
            "",
            f"## {strategy} (run `{a['run_id']}`, mean P@{k} {a['mean_p_at_k']:.3f})",
            "",
            "Typical failures:",
            "",
        ] + [f"- {s}" for s in failure_sentences(strategy, a)]
        parts += [
            "",
            "| most frequent false positives | talks | share of talks | precision when suggested |",
            "|---|---|---|---|",
        ]
        parts += [
            f"| {f['tag']} | {f['talks']} | {f['share_of_talks']:.0%} | {f['precision_when_suggested']:.0%} |"
            for f in a["false_positives"]
        ]
        parts += [
            "",
            "| most frequent false negatives | missed | talks with the tag | missed share |",
            "|---|---|---|---|",
        ]
        parts += [
            f"| {f['tag']} | {f['missed']} | {f['talks_with_tag']} | {f['missed_share']:.0%} |"
            for f in a["false_negatives"]
        ]
        parts += [
            "",
            f"Worst 5 talks (by P@{k}, then nDCG@{k}):",
            "",
            f"| video | words | P@{k} | nDCG@{k} | predicted top {k} | true tags |",
            "|---|---|---|---|---|---|",
        ]
        parts += [
            f"| {w['video_id']} | {w['words']} | {w['p_at_k']:.2f} | {w['ndcg_at_k']:.2f} | "
            f"{', '.join(w['predicted'])} | {', '.join(w['true'][:12])}{' …' if len(w['true']) > 12 else ''} |"
            for w in a["worst"]
        ]
        parts += [
            "",
            f"By transcript length (quartiles of words): P@{k}",
            "",
            "| quartile | words | talks | P@k |",
            "|---|---|---|---|",
        ]
        parts += [
            f"| Q{b['quartile']} | {b['words_from']}–{b['words_to']} | {b['talks']} | {b['p_at_k']:.3f} |"
            for b in a["by_length"]
        ]
        freq = a.get("by_frequency")
        if freq:
            parts += [
                "",
                f"By tag frequency: recall@{k} of true tags",
                "",
                "| group | true-tag occurrences | recall |",
                "|---|---|---|",
                f"| head (≥ {freq['threshold']} train examples) | {freq['head_occurrences']} | "
                f"{_fmt(freq['head_recall'])} |",
                f"| tail (< {freq['threshold']}) | {freq['tail_occurrences']} | {_fmt(freq['tail_recall'])} |",
            ]
    return "\n".join(parts) + "\n"


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def costs_markdown(
    summary: Mapping[str, Any],
    winner: str,
    prices: Mapping[str, Any],
    budget_ms: float,
    served_default: Mapping[str, Any] | None = None,
) -> str:
    """`served_default`: {"version", "cost"} of the hybrid open_vocab registers (what production serves once it
    promotes it), a row of its own below the strategies."""
    sizing = prices["sizing"]
    lines = [
        "# Inference cost per strategy",
        "",
        "Best version of each strategy, each measured in a fresh process by scripts/bench_inference.py, loaded "
        "as a gunicorn worker loads it (tubetags.registry.load_served_model): one "
        "~2,000-word test transcript (2 warm-up calls, then timed single calls) and a batch of 32. CPU: the "
        "process's CPU time per call on different ~2,000-word test transcripts (new texts: no cache helps).",
        "",
        "| strategy | version | artifacts (MB) | + package weights (MB) | RSS of model (MB) "
        "| RSS after load (MB) | load (s) | p50 (ms) | p95 (ms) | CPU per new transcript (ms) | batch of 32 (talks/s) "
        f"| RAM for {sizing['workers']} workers (GiB) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    host: dict[str, Any] = {}
    measured = dict(summary)
    if served_default:
        measured["served default (hybrid)"] = served_default
    for strategy, entry in measured.items():
        c = entry.get("cost") or {}
        if "latency_p50_ms" not in c:
            why = c.get("error", ["skipped"])[-1]
            lines.append(f"| {strategy} | {entry.get('version', '–')} | not measured: {why} " + "| " * 10 + "|")
            continue
        host = c
        cpu = c.get("cpu_ms_new_transcript_p50")
        lines.append(
            f"| {strategy} | {entry['version']} | {c['artifact_mb']:.1f} | {c['external_weights_mb']:.1f} | "
            f"{c['rss_model_mb']:.0f} | {c['rss_after_mb']:.0f} | {c['load_seconds']:.1f} | "
            f"{c['latency_p50_ms']:.0f} | {c['latency_p95_ms']:.0f} | {'–' if cpu is None else f'{cpu:.1f}'} | "
            f"{c['batch_throughput_per_s']:.1f} | {ram_needed_gib(c['rss_after_mb'], sizing):.1f} |"
        )
    if host:
        lines += [
            "",
            f"Transcript: {host['transcript_words']} words. Host: {host['cpu_count']} {host['machine']} "
            f"cores, 1-minute load average {host['load_average_1m']:.1f} during the run (other jobs inflate "
            "latencies). Package weights: encoder weights loaded from an installed package "
            "(MiniLM), not from the model's artifacts, but needed on the server.",
        ]
    lines += ["", "## Where to run it", ""]
    cost = summary[winner].get("cost") or {}
    if "rss_after_mb" not in cost:
        return "\n".join(lines + ["The production model was not benchmarked: no recommendation."]) + "\n"
    rows, choice, reason = recommend_vm(cost["rss_after_mb"], prices)
    need = ram_needed_gib(cost["rss_after_mb"], sizing)
    lines += [
        f"Production ({winner}) needs {sizing['workers']} gunicorn workers × {cost['rss_after_mb']:.0f} MB RSS "
        f"× {1 + sizing['headroom']:.2f} headroom + {sizing['os_reserve_gib']} GiB for the OS "
        f"= {need:.1f} GiB RAM. "
        f"Prices: {prices['prices_taken']}; on-demand Linux, us-east-1, {prices['hours_per_month']} h/month.",
        "",
        "| VM | arch | vCPU | RAM (GiB) | $/month | fits RAM | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['name']} | {r['arch']} | {r['vcpus']} | {r['ram_gib']} | {r['usd_per_month']:.2f} | "
        f"{'yes' if r['fits'] else 'no'} | {r['notes']} |"
        for r in rows
    ]
    p50 = cost["latency_p50_ms"]
    lines += [
        "",
        f"**Choice: {choice.get('name', 'none')}.** {reason}",
        "",
        f"Latency: p50 {p50:.0f} ms / p95 {cost['latency_p95_ms']:.0f} ms per ~2,000-word transcript here "
        f"(budget {budget_ms:.0f} ms), on {cost['cpu_count']} shared {cost['machine']} cores; a 2-vCPU "
        "x86 VM should be roughly the same (its 2 vCPU may be 1 core with 2 threads: allow some margin). "
        "Arm VMs (Ampere, Graviton) are different silicon and burstable t-instances drop to their baseline "
        "share of CPU under sustained load: re-run "
        "`python -m scripts.bench_inference --model-uri models:/tubetags@production` on the VM "
        "before committing.",
    ]
    return "\n".join(lines) + "\n"
