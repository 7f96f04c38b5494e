"""Which strategy becomes `production`: pure logic over a comparison summary (no MLflow here).

Rule:
1. Eligible: strategies whose measured single-transcript p50 latency is within the budget.
2. Among them, the highest mean test P@5 wins; an exact tie goes to the faster one (then by name,
   so the choice is reproducible).
3. If no strategy fits the budget, the fastest wins (a slow model is better than none), and the
   reason says it is over budget.
4. A strategy without a latency measurement is not eligible (it cannot be shown to fit), unless
   none was measured at all (benchmark skipped): then P@5 alone decides.

`summary` maps strategy -> {"metrics": {"test_p_at_5": {"mean", "low", "high", ...}, ...},
"latency_p50_ms": float | None, ...}: a strategy summary (tubetags.evaluation.intervals.summarize)
with the measured p50 latency of its best version added.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

METRIC = "test_p_at_5"


def _p5(entry: Mapping[str, Any]) -> dict[str, float]:
    return entry["metrics"][METRIC]


def _latency(entry: Mapping[str, Any]) -> float | None:
    value = entry.get("latency_p50_ms")
    return None if value is None else float(value)


def _describe(name: str, entry: Mapping[str, Any]) -> str:
    p5, latency = _p5(entry), _latency(entry)
    timing = "latency not measured" if latency is None else f"p50 {latency:.0f} ms"
    return f"{name} (P@5 {p5['mean']:.3f} [{p5['low']:.3f}, {p5['high']:.3f}], {timing})"


def choose_production(summary: Mapping[str, Mapping[str, Any]], latency_budget_ms: float) -> tuple[str, str]:
    """(strategy, reason) per the module's rule; the reason also says why each other strategy lost."""
    if not summary:
        raise ValueError("no strategies to choose from")
    latencies = {s: latency for s, e in summary.items() if (latency := _latency(e)) is not None}
    measured = {s: summary[s] for s in latencies}
    eligible = {s: e for s, e in measured.items() if latencies[s] <= latency_budget_ms}
    if not measured:
        eligible = dict(summary)
    if eligible:
        winner = sorted(eligible, key=lambda s: (-_p5(eligible[s])["mean"], _latency(eligible[s]) or 0.0, s))[0]
        why = (
            "no latency was measured, so P@5 alone decides"
            if not measured
            else f"it has the best mean test P@5 among the strategies within the {latency_budget_ms:.0f} ms p50 budget"
        )
    else:
        winner = sorted(measured, key=lambda s: (latencies[s], s))[0]
        why = (
            f"no strategy meets the {latency_budget_ms:.0f} ms p50 budget, so the fastest is chosen; it is OVER BUDGET"
        )
    best = _p5(summary[winner])
    lines = [f"{_describe(winner, summary[winner])} is production: {why}."]
    for name in sorted(summary, key=lambda s: -_p5(summary[s])["mean"]):
        if name == winner:
            continue
        entry, p5, latency = summary[name], _p5(summary[name]), _latency(summary[name])
        if measured and latency is None:
            lost = "its latency was not measured"
        elif measured and latency is not None and latency > latency_budget_ms and eligible:
            lost = f"over the latency budget ({latency:.0f} ms > {latency_budget_ms:.0f} ms)"
        elif not eligible:
            lost = f"slower ({latency:.0f} ms)"
        elif p5["mean"] < best["mean"]:
            overlap = p5["high"] >= best["low"]  # overlapping 95% CIs: the gap may be noise
            lost = "lower P@5" + (" (95% CIs overlap: the difference is not clear-cut)" if overlap else "")
        else:
            lost = "same P@5 but slower" if measured else "same P@5; ties are broken by name"
        lines.append(f"- {_describe(name, entry)} lost: {lost}.")
    return winner, "\n".join(lines)


def challenger_wins(
    challenger: Mapping[str, Any],
    incumbent: Mapping[str, Any],
    latency_budget_ms: float,
    min_gain: float = 0.0,
    names: tuple[str, str] = ("retrained", "production"),
) -> tuple[bool, str]:
    """Whether a retrained model replaces the served one, both scored on the same newest talks: the rule above for
    two candidates, except that a tie goes to the challenger (it has seen newer data). A challenger over the latency
    budget never replaces an incumbent within it; otherwise its mean P@5 must reach the incumbent's + `min_gain`
    (0: not worse). Returns (promote, reason)."""
    challenger_p5, incumbent_p5 = _p5(challenger)["mean"], _p5(incumbent)["mean"]
    described = f"{_describe(names[0], challenger)} vs {_describe(names[1], incumbent)}"
    latency, served_latency = _latency(challenger), _latency(incumbent)
    if latency is not None and latency > latency_budget_ms and (served_latency or 0.0) <= latency_budget_ms:
        return False, f"refused: {described}; the {names[0]} model is over the {latency_budget_ms:.0f} ms budget."
    overlap = _p5(challenger)["high"] >= _p5(incumbent)["low"] and _p5(incumbent)["high"] >= _p5(challenger)["low"]
    note = " (95% CIs overlap: the difference is not clear-cut)" if overlap else ""
    if challenger_p5 >= incumbent_p5 + min_gain:
        gain = challenger_p5 - incumbent_p5
        return True, f"promoted: {described}; P@5 {gain:+.3f}, at least the required {min_gain:+.3f}{note}."
    return False, (
        f"refused: {described}; P@5 {challenger_p5 - incumbent_p5:+.3f} is below the required {min_gain:+.3f}{note}."
    )
