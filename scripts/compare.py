"""compare: the strategies of one experiment, side by side, and which one becomes `production`.

    python -m scripts.compare [--experiment tubetags] [--parent-run-id ID] [--latency-budget-ms 1000] [--out reports]
    mlflow run . -e compare --env-manager local -P latency_budget_ms=1000

Reads everything from MLflow (default: the child runs of the latest finished run tagged
tubetags.kind=experiment) and writes to --out:
- results.md / results.json: mean and 95% CI per strategy and metric (Student t over seeds; a
  deterministic strategy's single run uses its logged bootstrap CI), and why production won;
- comparison.png: grouped bars with CI error bars;
- error_analysis.md: false positives/negatives, worst talks, length and tag-frequency effects;
- costs.md: size, memory, latency and throughput of each strategy's best version (measured by
  scripts/bench_inference.py in a fresh process each), and where to run it (scripts/vm_prices.yaml).
Then it points registry aliases at each strategy's best version and `production` at the winner,
and logs the reports as artifacts of its own run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from tubetags import settings
from tubetags.metrics import per_item
from tubetags.promotion import choose_production
from tubetags.stats import t_interval

METRICS = ("p_at_1", "p_at_3", "p_at_5", "p_at_10", "r_at_5", "r_at_10", "ndcg_at_5", "ndcg_at_10",
           "lrap", "micro_f1", "macro_f1")
LABELS = {"p_at_1": "P@1", "p_at_3": "P@3", "p_at_5": "P@5", "p_at_10": "P@10", "r_at_5": "R@5",
          "r_at_10": "R@10", "ndcg_at_5": "nDCG@5", "ndcg_at_10": "nDCG@10", "lrap": "LRAP",
          "micro_f1": "micro-F1", "macro_f1": "macro-F1"}
PLOT_METRICS = ("p_at_1", "p_at_3", "p_at_5", "p_at_10", "ndcg_at_5")
ERROR_K = 5  # a creator reads the first few suggestions: errors are counted in the top 5
HEAD_SHARE = 0.2  # head tags: the 20% most frequent in train
VM_PRICES = Path(__file__).resolve().parent / "vm_prices.yaml"


# ----------------------------------------------------------------------------- runs from MLflow
def find_parent(client, experiment: str, parent_run_id: str | None = None):
    if parent_run_id:
        return client.get_run(parent_run_id)
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        raise SystemExit(f"no MLflow experiment {experiment!r} at {settings.tracking_uri()}: "
                         "run `make experiment` first")
    runs = client.search_runs([exp.experiment_id],
                              "tags.`tubetags.kind` = 'experiment' and attributes.status = 'FINISHED'",
                              order_by=["attributes.start_time DESC"], max_results=1)
    if not runs:
        raise SystemExit(f"no finished experiment run (tag tubetags.kind=experiment) in {experiment!r}")
    return runs[0]


def child_runs(client, parent) -> list[dict[str, Any]]:
    runs = client.search_runs([parent.info.experiment_id],
                              f"tags.mlflow.parentRunId = '{parent.info.run_id}' and attributes.status = 'FINISHED'",
                              max_results=1000)
    return [{"strategy": r.data.tags.get("strategy") or r.data.params["strategy"], "run_id": r.info.run_id,
             "dataset": r.data.tags.get("dataset", "ted"), "metrics": dict(r.data.metrics)} for r in runs]


# ----------------------------------------------------------------------------- statistics
def interval(values: list[float], logged: dict[str, float], key: str) -> dict[str, Any]:
    """mean/low/high/n/method for one metric of one strategy."""
    n = len(values)
    if n >= 2:
        mean, low, high = t_interval(values)
        method = "t"
    elif f"{key}_ci_low" in logged and f"{key}_ci_high" in logged:
        mean, low, high, method = values[0], logged[f"{key}_ci_low"], logged[f"{key}_ci_high"], "bootstrap"
    else:
        mean, low, high, method = values[0], values[0], values[0], "none"
    return {"mean": float(mean), "low": float(low), "high": float(high), "n": n, "method": method}


def summarize(runs: list[dict[str, Any]], metrics=METRICS) -> dict[str, dict[str, Any]]:
    """Per strategy: CI of each test metric over its runs, and its best run (highest test P@5)."""
    summary: dict[str, dict[str, Any]] = {}
    for strategy in sorted({r["strategy"] for r in runs}):
        group = [r for r in runs if r["strategy"] == strategy]
        best = max(group, key=lambda r: r["metrics"].get("test_p_at_5", -1.0))
        stats = {}
        for name in metrics:
            key = f"test_{name}"
            values = [r["metrics"][key] for r in group if key in r["metrics"]]
            if values:
                stats[key] = interval(values, group[0]["metrics"], key)
        summary[strategy] = {"metrics": stats, "n_runs": len(group), "best_run_id": best["run_id"],
                             "dataset": best.get("dataset", "ted")}
    return summary


def cell(stat: dict[str, Any]) -> str:
    if stat["method"] == "none":
        return f"{stat['mean']:.3f} (no CI)"
    half = max(stat["high"] - stat["mean"], stat["mean"] - stat["low"])
    return f"{stat['mean']:.3f} ± {half:.3f} [{stat['low']:.3f}, {stat['high']:.3f}]"


METHOD_TEXT = {"t": "Student t over seeds", "bootstrap": "bootstrap over test talks", "none": "single run, no CI"}


def metrics_table(summary: dict, metrics) -> str:
    head = "| strategy | n | " + " | ".join(LABELS[m] for m in metrics) + " |"
    lines = [head, "|" + "---|" * (len(metrics) + 2)]
    for strategy, entry in summary.items():
        stats = entry["metrics"]
        some = next(iter(stats.values()))
        n = f"{some['n']} ({METHOD_TEXT[some['method']]})"
        lines.append(f"| {strategy} | {n} | " + " | ".join(cell(stats[f"test_{m}"]) if f"test_{m}" in stats else "–"
                                                         for m in metrics) + " |")
    return "\n".join(lines)


def results_markdown(summary: dict, winner: str, reason: str, budget_ms: float, parent_run_id: str) -> str:
    ranking = [m for m in METRICS if m.startswith(("p_at", "r_at", "ndcg"))]
    whole = [m for m in METRICS if m not in ranking]
    latency = ["| strategy | best version | single-transcript p50 (ms) | within budget |", "|---|---|---|---|"]
    for strategy, entry in summary.items():
        p50 = entry.get("latency_p50_ms")
        latency.append(f"| {strategy} | {entry.get('version', '–')} | {'–' if p50 is None else f'{p50:.0f}'} | "
                       f"{'–' if p50 is None else ('yes' if p50 <= budget_ms else 'no')} |")
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


def plot_comparison(summary: dict, path: Path, title: str = "") -> Path:
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
        errors = np.array([[max(s["mean"] - s["low"], 0) for s in stats],
                           [max(s["high"] - s["mean"], 0) for s in stats]])
        n, method = stats[0]["n"], METHOD_TEXT[stats[0]["method"]]
        bars = ax.bar(x + (i - (len(strategies) - 1) / 2) * width, means, width * 0.95, yerr=errors, capsize=4,
                      label=f"{strategy} (n={n}, {method})")
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


# ----------------------------------------------------------------------------- error analysis
def load_predictions(run_id: str) -> list[dict]:
    import mlflow

    path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="evaluation/test_predictions.jsonl")
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def error_analysis(rows: list[dict], tag_train_frequency: dict[str, int] | None, k: int = ERROR_K) -> dict[str, Any]:
    """Statistics of one system's test predictions (top-k suggestions against the true tags)."""
    ranked = [[(t, s) for t, s in r["predicted"]] for r in rows]
    truths = [list(r["tags"]) for r in rows]
    items = per_item(ranked, truths)
    n = len(rows)
    suggested, false_pos, false_neg, carried = Counter(), Counter(), Counter(), Counter()
    for pred, truth in zip(ranked, truths):
        top = [t for t, _ in pred[:k]]
        suggested.update(top)
        false_pos.update(t for t in top if t not in truth)
        false_neg.update(t for t in set(truth) if t not in top)
        carried.update(set(truth))
    fps = [{"tag": t, "talks": c, "share_of_talks": c / n, "precision_when_suggested": 1 - c / suggested[t]}
           for t, c in false_pos.most_common(10)]
    fns = [{"tag": t, "missed": c, "talks_with_tag": carried[t], "missed_share": c / carried[t]}
           for t, c in false_neg.most_common(10)]
    order = sorted(range(n), key=lambda i: (items[f"p_at_{k}"][i], items[f"ndcg_at_{k}"][i], rows[i]["video_id"]))
    worst = [{"video_id": rows[i]["video_id"], "words": rows[i]["words"], "p_at_k": float(items[f"p_at_{k}"][i]),
              "ndcg_at_k": float(items[f"ndcg_at_{k}"][i]), "predicted": [t for t, _ in ranked[i][:k]],
              "true": truths[i]} for i in order[:5]]
    words = np.array([r["words"] for r in rows], dtype=float)
    edges = np.quantile(words, [0, 0.25, 0.5, 0.75, 1.0])
    bucket = np.searchsorted(edges[1:-1], words, side="right")  # 0..3: quartile of length
    by_length = [{"quartile": q + 1, "words_from": int(words[bucket == q].min()),
                  "words_to": int(words[bucket == q].max()), "talks": int((bucket == q).sum()),
                  "p_at_k": float(items[f"p_at_{k}"][bucket == q].mean())}
                 for q in range(4) if (bucket == q).any()]
    out = {"k": k, "talks": n, "false_positives": fps, "false_negatives": fns, "worst": worst, "by_length": by_length,
           "no_hit_talks": int((items[f"p_at_{k}"] == 0).sum()), "mean_p_at_k": float(items[f"p_at_{k}"].mean())}
    if tag_train_frequency:
        out["by_frequency"] = frequency_recall(ranked, truths, tag_train_frequency, k)
    return out


def frequency_recall(ranked, truths, tag_train_frequency: dict[str, int], k: int) -> dict[str, Any]:
    """Recall@k of true tags, head (top 20% by train frequency) vs tail; micro over tag occurrences."""
    by_freq = sorted(tag_train_frequency.values(), reverse=True)
    threshold = by_freq[max(math.ceil(HEAD_SHARE * len(by_freq)), 1) - 1]  # head: >= this many train examples
    hits = {"head": [0, 0], "tail": [0, 0]}
    for pred, truth in zip(ranked, truths):
        top = {t for t, _ in pred[:k]}
        for tag in set(truth):
            if tag in tag_train_frequency:
                group = "head" if tag_train_frequency[tag] >= threshold else "tail"
                hits[group][0] += tag in top
                hits[group][1] += 1
    return {"threshold": int(threshold),
            **{f"{g}_recall": (h / t if t else None) for g, (h, t) in hits.items()},
            **{f"{g}_occurrences": t for g, (_, t) in hits.items()}}


def failure_sentences(strategy: str, a: dict[str, Any]) -> list[str]:
    """A few typical failures in words, generated from the statistics."""
    k, out = a["k"], []
    if a["false_positives"]:
        fp = a["false_positives"][0]
        out.append(f"{strategy} over-predicts the tag '{fp['tag']}': a false positive in {fp['share_of_talks']:.0%} "
                   f"of test talks (right only {fp['precision_when_suggested']:.0%} of the times it is in the "
                   f"top {k}).")
    if a["false_negatives"]:
        fn = a["false_negatives"][0]
        out.append(f"'{fn['tag']}' is the most missed true tag: absent from the top {k} in {fn['missed']} of the "
                   f"{fn['talks_with_tag']} talks that carry it.")
    freq = a.get("by_frequency")
    if freq and freq["head_recall"] is not None and freq["tail_recall"] is not None:
        gap = freq["head_recall"] - freq["tail_recall"]
        verdict = "the model favours frequent tags" if gap > 0.05 else "rare tags are not clearly disadvantaged"
        out.append(f"Tail tags (< {freq['threshold']} train examples) are recalled at {freq['tail_recall']:.2f} vs "
                   f"{freq['head_recall']:.2f} for head tags in the top {k}: {verdict}.")
    if len(a["by_length"]) >= 2:
        short, long_ = a["by_length"][0], a["by_length"][-1]
        diff = long_["p_at_k"] - short["p_at_k"]
        trend = "longer talks are easier" if diff > 0.05 else "shorter talks are easier" if diff < -0.05 else \
            "length makes little difference"
        out.append(f"P@{k} is {short['p_at_k']:.2f} on the shortest quarter "
                   f"({short['words_from']}–{short['words_to']} words) vs {long_['p_at_k']:.2f} on the longest "
                   f"({long_['words_from']}–{long_['words_to']}): {trend}.")
    out.append(f"{a['no_hit_talks']} of {a['talks']} test talks get no correct tag in the top {k}.")
    return out


def error_analysis_markdown(analyses: dict[str, dict[str, Any]]) -> str:
    parts = ["# Error analysis", "",
             f"Per strategy, its best run's test predictions (evaluation/test_predictions.jsonl); errors are counted "
             f"in the top {ERROR_K} suggestions. Head tags: the {HEAD_SHARE:.0%} most frequent in train."]
    for strategy, a in analyses.items():
        k = a["k"]
        parts += ["", f"## {strategy} (run `{a['run_id']}`, mean P@{k} {a['mean_p_at_k']:.3f})", "",
                  "Typical failures:", ""] + [f"- {s}" for s in failure_sentences(strategy, a)]
        parts += ["", "| most frequent false positives | talks | share of talks | precision when suggested |",
                  "|---|---|---|---|"]
        parts += [f"| {f['tag']} | {f['talks']} | {f['share_of_talks']:.0%} | {f['precision_when_suggested']:.0%} |"
                  for f in a["false_positives"]]
        parts += ["", "| most frequent false negatives | missed | talks with the tag | missed share |",
                  "|---|---|---|---|"]
        parts += [f"| {f['tag']} | {f['missed']} | {f['talks_with_tag']} | {f['missed_share']:.0%} |"
                  for f in a["false_negatives"]]
        parts += ["", f"Worst 5 talks (by P@{k}, then nDCG@{k}):", "",
                  f"| video | words | P@{k} | nDCG@{k} | predicted top {k} | true tags |", "|---|---|---|---|---|---|"]
        parts += [f"| {w['video_id']} | {w['words']} | {w['p_at_k']:.2f} | {w['ndcg_at_k']:.2f} | "
                  f"{', '.join(w['predicted'])} | {', '.join(w['true'][:12])}{' …' if len(w['true']) > 12 else ''} |"
                  for w in a["worst"]]
        parts += ["", f"By transcript length (quartiles of words): P@{k}", "", "| quartile | words | talks | P@k |",
                  "|---|---|---|---|"]
        parts += [f"| Q{b['quartile']} | {b['words_from']}–{b['words_to']} | {b['talks']} | {b['p_at_k']:.3f} |"
                  for b in a["by_length"]]
        freq = a.get("by_frequency")
        if freq:
            parts += ["", f"By tag frequency: recall@{k} of true tags", "", "| group | true-tag occurrences | recall |",
                      "|---|---|---|",
                      f"| head (≥ {freq['threshold']} train examples) | {freq['head_occurrences']} | "
                      f"{_fmt(freq['head_recall'])} |",
                      f"| tail (< {freq['threshold']}) | {freq['tail_occurrences']} | {_fmt(freq['tail_recall'])} |"]
    return "\n".join(parts) + "\n"


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


# ----------------------------------------------------------------------------- inference cost
def run_bench(model_uri: str, tracking_uri: str, corpus_dir: Path | None, latency_runs: int) -> dict[str, Any]:
    """scripts/bench_inference.py in a fresh interpreter: no imports or caches shared between models."""
    cmd = [sys.executable, "-m", "scripts.bench_inference", "--model-uri", model_uri, "--tracking-uri", tracking_uri,
           "--latency-runs", str(latency_runs)] + (["--corpus", str(corpus_dir)] if corpus_dir else [])
    done = subprocess.run(cmd, cwd=settings.REPO_ROOT, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        print(f"bench of {model_uri} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return {"model_uri": model_uri, "error": done.stderr.strip().splitlines()[-1:] or ["no output"]}
    return json.loads(lines[-1])


def ram_needed_gib(rss_mb: float, sizing: dict[str, Any]) -> float:
    return sizing["workers"] * rss_mb / 1024 * (1 + sizing["headroom"]) + sizing["os_reserve_gib"]


def recommend_vm(rss_mb: float, prices: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any], str]:
    """(every VM with its monthly price and fit, the choice, why): the cheapest VM whose RAM fits."""
    need = ram_needed_gib(rss_mb, prices["sizing"])
    rows = [{**vm, "usd_per_month": vm["usd_per_hour"] * prices["hours_per_month"], "fits": vm["ram_gib"] >= need}
            for vm in prices["vms"]]
    fitting = sorted((r for r in rows if r["fits"]), key=lambda r: (r["usd_per_month"], -r["ram_gib"]))
    if not fitting:
        return rows, {}, f"no listed VM has the {need:.1f} GiB needed: add bigger ones to scripts/vm_prices.yaml"
    choice = fitting[0]
    reason = (f"{choice['name']} is the cheapest listed VM with the {need:.1f} GiB needed "
              f"(${choice['usd_per_month']:.2f}/month).")
    aws = [r for r in fitting if r["provider"] == "aws"]
    if choice["provider"] != "aws" and aws:
        reason += (f" If it cannot be had (free A1 capacity is often exhausted), the cheapest AWS fit is "
                   f"{aws[0]['name']} (${aws[0]['usd_per_month']:.2f}/month; {aws[0]['notes']}).")
    return rows, choice, reason


def costs_markdown(summary: dict, winner: str, prices: dict[str, Any], budget_ms: float) -> str:
    sizing = prices["sizing"]
    lines = ["# Inference cost per strategy", "",
             "Best version of each strategy, each measured in a fresh process by scripts/bench_inference.py: one "
             "~2,000-word test transcript (2 warm-up calls, then timed single calls) and a batch of 32.", "",
             "| strategy | version | artifacts (MB) | + package weights (MB) | RSS of model (MB) "
             "| RSS after load (MB) | load (s) | p50 (ms) | p95 (ms) | batch of 32 (talks/s) "
             f"| RAM for {sizing['workers']} workers (GiB) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    host = {}
    for strategy, entry in summary.items():
        c = entry.get("cost") or {}
        if "latency_p50_ms" not in c:
            why = c.get("error", ["skipped"])[-1]
            lines.append(f"| {strategy} | {entry.get('version', '–')} | not measured: {why} " + "| " * 9 + "|")
            continue
        host = c
        lines.append(f"| {strategy} | {entry['version']} | {c['artifact_mb']:.1f} | {c['external_weights_mb']:.1f} | "
                     f"{c['rss_model_mb']:.0f} | {c['rss_after_mb']:.0f} | {c['load_seconds']:.1f} | "
                     f"{c['latency_p50_ms']:.0f} | {c['latency_p95_ms']:.0f} | {c['batch_throughput_per_s']:.1f} | "
                     f"{ram_needed_gib(c['rss_after_mb'], sizing):.1f} |")
    if host:
        lines += ["", f"Transcript: {host['transcript_words']} words. Host: {host['cpu_count']} {host['machine']} "
                  f"cores, 1-minute load average {host['load_average_1m']:.1f} during the run (other jobs inflate "
                  "latencies). Package weights: encoder weights loaded from an installed package "
                  "(MiniLM), not from the model's artifacts, but needed on the server."]
    lines += ["", "## Where to run it", ""]
    cost = summary[winner].get("cost") or {}
    if "rss_after_mb" not in cost:
        return "\n".join(lines + ["The production model was not benchmarked: no recommendation."]) + "\n"
    rows, choice, reason = recommend_vm(cost["rss_after_mb"], prices)
    need = ram_needed_gib(cost["rss_after_mb"], sizing)
    lines += [f"Production ({winner}) needs {sizing['workers']} gunicorn workers × {cost['rss_after_mb']:.0f} MB RSS "
              f"× {1 + sizing['headroom']:.2f} headroom + {sizing['os_reserve_gib']} GiB for the OS "
              f"= {need:.1f} GiB RAM. "
              f"Prices: {prices['prices_taken']}; on-demand Linux, us-east-1, {prices['hours_per_month']} h/month.", "",
              "| VM | arch | vCPU | RAM (GiB) | $/month | fits RAM | notes |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['name']} | {r['arch']} | {r['vcpus']} | {r['ram_gib']} | {r['usd_per_month']:.2f} | "
              f"{'yes' if r['fits'] else 'no'} | {r['notes']} |" for r in rows]
    p50 = cost["latency_p50_ms"]
    lines += ["", f"**Choice: {choice.get('name', 'none')}.** {reason}", "",
              f"Latency: p50 {p50:.0f} ms / p95 {cost['latency_p95_ms']:.0f} ms per ~2,000-word transcript here "
              f"(budget {budget_ms:.0f} ms), on {cost['cpu_count']} shared {cost['machine']} cores; a 2-vCPU "
              "x86 VM should be roughly the same (its 2 vCPU may be 1 core with 2 threads: allow some margin). "
              "Arm VMs (Ampere, Graviton) are different silicon and burstable t-instances drop to their baseline "
              "share of CPU under sustained load: re-run "
              "`python -m scripts.bench_inference --model-uri models:/tubetags@production` on the VM "
              "before committing."]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- registry
def versions_by_run(client) -> dict[str, str]:
    """run_id -> registered version of `tubetags` (highest, if a run registered more than one)."""
    out: dict[str, str] = {}
    for v in client.search_model_versions(f"name = '{settings.REGISTERED_MODEL}'"):
        if v.run_id and int(v.version) > int(out.get(v.run_id, 0)):
            out[v.run_id] = v.version
    return out


def set_aliases(client, summary: dict, winner: str) -> None:
    from tubetags.registry import PRODUCTION, STRATEGY_ALIASES

    for strategy, entry in summary.items():
        if entry.get("version") and strategy in STRATEGY_ALIASES:
            client.set_registered_model_alias(settings.REGISTERED_MODEL, STRATEGY_ALIASES[strategy], entry["version"])
    client.set_registered_model_alias(settings.REGISTERED_MODEL, PRODUCTION, summary[winner]["version"])


# ----------------------------------------------------------------------------- main
def compare(experiment: str = "tubetags", parent_run_id: str | None = None, latency_budget_ms: float = 1000,
            out: Path = Path("reports"), latency_runs: int = 10, corpus_dir: Path | None = None,
            compare_experiment: str = "tubetags-compare", bench: bool = True) -> dict[str, Any]:
    import mlflow

    from tubetags import tracking
    from tubetags.corpus import Corpus

    # Inside `mlflow run` the compare run exists already (MLFLOW_RUN_ID): start_run() resumes it.
    resumed = bool(os.environ.get("MLFLOW_RUN_ID"))
    tracking.configure(None if resumed else compare_experiment)
    client = mlflow.MlflowClient()
    parent = find_parent(client, experiment, parent_run_id)
    runs = child_runs(client, parent)
    if not runs:
        raise SystemExit(f"experiment run {parent.info.run_id} has no finished child runs")
    summary = summarize(runs)
    versions = versions_by_run(client)
    for entry in summary.values():
        entry["version"] = versions.get(entry["best_run_id"])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    with mlflow.start_run(**({} if resumed else {"run_name": "compare"})) as run:
        # log_new_params: `mlflow run` already logged latency_budget_ms as the string it was given.
        tracking.log_new_params({"experiment": experiment, "parent_run_id": parent.info.run_id,
                                 "latency_budget_ms": latency_budget_ms, "latency_runs": latency_runs})
        for strategy, entry in summary.items():
            uri = f"models:/{settings.REGISTERED_MODEL}/{entry['version']}"
            entry["cost"] = (run_bench(uri, mlflow.get_tracking_uri(), corpus_dir, latency_runs)
                             if bench and entry["version"] else {})
            entry["latency_p50_ms"] = entry["cost"].get("latency_p50_ms")
            print(f"{strategy}: version {entry['version']}, cost {json.dumps(entry['cost'])}")
        winner, reason = choose_production(summary, latency_budget_ms)
        print(reason)
        if summary[winner]["version"]:
            set_aliases(client, summary, winner)

        try:
            corpus = Corpus.open(corpus_dir or settings.corpus_dir())
        except FileNotFoundError:
            corpus = None  # error analysis goes without the head/tail split
        analyses = {}
        for strategy, entry in summary.items():
            frequency = corpus.manifest["datasets"][entry["dataset"]].get("tag_train_frequency") if corpus else None
            analyses[strategy] = {"run_id": entry["best_run_id"],
                                  **error_analysis(load_predictions(entry["best_run_id"]), frequency)}

        prices = yaml.safe_load(VM_PRICES.read_text())
        (out / "results.md").write_text(results_markdown(summary, winner, reason, latency_budget_ms,
                                                         parent.info.run_id))
        (out / "error_analysis.md").write_text(error_analysis_markdown(analyses))
        (out / "costs.md").write_text(costs_markdown(summary, winner, prices, latency_budget_ms))
        plot_comparison(summary, out / "comparison.png",
                        f"Test metrics by strategy (experiment {parent.info.run_id[:8]}, 95% CI)")
        result = {"experiment": experiment, "parent_run_id": parent.info.run_id, "latency_budget_ms": latency_budget_ms,
                  "production": {"strategy": winner, "version": summary[winner]["version"], "reason": reason},
                  "strategies": summary, "error_analysis": analyses}
        (out / "results.json").write_text(json.dumps(result, indent=2, default=str))

        mlflow.set_tags({"production_strategy": winner, "production_version": str(summary[winner]["version"])})
        mlflow.log_metrics({f"{s}_test_p_at_5": e["metrics"]["test_p_at_5"]["mean"] for s, e in summary.items()} |
                           {f"{s}_latency_p50_ms": e["latency_p50_ms"] for s, e in summary.items()
                            if e["latency_p50_ms"] is not None})
        for name in ("results.md", "results.json", "comparison.png", "error_analysis.md", "costs.md"):
            mlflow.log_artifact(str(out / name), artifact_path="reports")
        result["compare_run_id"] = run.info.run_id
    print(f"production: {winner} (version {summary[winner]['version']}); reports in {out}")
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiment", default="tubetags", help="where the experiment runs are")
    parser.add_argument("--parent-run-id", default=None, help="default: the latest finished experiment run")
    parser.add_argument("--latency-budget-ms", type=float, default=1000)
    parser.add_argument("--latency-runs", type=int, default=10, help="timed single-transcript calls per model")
    parser.add_argument("--out", type=Path, default=Path("reports"))
    parser.add_argument("--corpus", type=Path, default=None, help="for tag frequencies and benchmark transcripts")
    parser.add_argument("--compare-experiment", default="tubetags-compare",
                        help="where this run is logged (standalone)")
    parser.add_argument("--no-bench", action="store_true", help="skip inference benchmarks (P@5 alone decides)")
    args = parser.parse_args(argv)
    compare(args.experiment, args.parent_run_id, args.latency_budget_ms, args.out, args.latency_runs, args.corpus,
            args.compare_experiment, bench=not args.no_bench)


if __name__ == "__main__":
    main()
