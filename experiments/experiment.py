"""experiment: every strategy, N seeds each, under one MLflow parent run.

    tubetags experiment [--seeds 5] [--strategies baseline,bilstm,encoder_head,zero_shot] [--quick true]
    mlflow run . -e experiment --env-manager local -P seeds=5

Seeds run in this one process so that encoder caches and imported frameworks are shared.
A deterministic strategy (zero-shot: nothing learned) runs once; its uncertainty is a bootstrap
over test items, logged on its run as <metric>_ci_low / _ci_high. At the end the parent run gets the
comparison's headline (`log_summary`): each strategy's mean test P@5 and 95% CI, the best one, the chart.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from experiments.train import TrainConfig, train
from tubetags.config import JobConfig, comma_list
from tubetags.jobs import Job
from tubetags.strategies import EXPERIMENT_STRATEGIES, STRATEGIES, checked_strategies, predictor_class

log = logging.getLogger(__name__)


class ExperimentConfig(JobConfig):
    job = "experiment"

    seeds: int = Field(5, ge=1, description="seeds per trained strategy (0..seeds-1)")
    strategies: list[str] = Field(list(EXPERIMENT_STRATEGIES), description="comma-separated strategies")
    quick: bool = Field(False, description="quick settings (CI, demo)")
    corpus: Path | None = Field(None, description="corpus folder (default: data/corpus)")
    resume: str | None = Field(
        None, description="an experiment run to add these runs to (e.g. one interrupted, or run in parts)"
    )

    @field_validator("strategies", mode="before")
    @classmethod
    def split_commas(cls, value: Any) -> Any:
        return comma_list(value)

    @field_validator("strategies")
    @classmethod
    def known_strategies(cls, value: list[str]) -> list[str]:
        return checked_strategies(value, tuple(STRATEGIES))


def log_bootstrap(run_id: str) -> dict[str, float]:
    """Bootstrap CIs over a finished run's test items, computed from its predictions artifact, logged on it."""
    import mlflow

    from tubetags.evaluation.intervals import bootstrap_metrics
    from tubetags.evaluation.prediction_log import load_predictions, ranked, truths
    from tubetags.ranking_metrics import per_item

    rows = load_predictions(run_id)
    out = bootstrap_metrics(per_item(ranked(rows), truths(rows)))
    now = int(time.time() * 1000)
    mlflow.MlflowClient().log_batch(run_id, metrics=[mlflow.entities.Metric(k, v, now, 0) for k, v in out.items()])
    return out


def run_experiment(config: ExperimentConfig) -> dict[str, Any]:
    import mlflow

    from tubetags import tracking

    tracking.configure(os.environ.get("MLFLOW_EXPERIMENT_NAME", "tubetags"))
    started = time.perf_counter()
    results: dict[str, list[dict]] = {}
    if config.resume:
        started_run = mlflow.start_run(run_id=config.resume)  # compare reads one run's children: add to it
    else:
        started_run = mlflow.start_run(run_name="experiment", tags={"tubetags.kind": "experiment"})
    with started_run as parent:
        tracking.log_new_params(
            {"seeds": config.seeds, "strategies": ",".join(config.strategies), "quick": config.quick}
        )
        for strategy in config.strategies:
            strategy_started = time.perf_counter()
            runs = 1 if predictor_class(strategy).deterministic else config.seeds
            for seed in range(runs):
                result = train(
                    TrainConfig.load(
                        {
                            "strategy": strategy,
                            "seed": seed,
                            "quick": config.quick,
                            "corpus": config.corpus,
                            "parent_run_id": parent.info.run_id,
                        }
                    )
                )
                if runs == 1:
                    result["metrics"].update(log_bootstrap(result["run_id"]))
                results.setdefault(strategy, []).append(result)
                _clear_keras()
            mlflow.log_metric(f"wall_seconds_{strategy}", time.perf_counter() - strategy_started)
        summary = log_summary(parent)
        total = time.perf_counter() - started
        mlflow.log_metric("wall_seconds_total", total)
    log.info("experiment %s: %d runs in %.1f min", parent.info.run_id, sum(map(len, results.values())), total / 60)
    return {"parent_run_id": parent.info.run_id, "results": results, "summary": summary, "wall_seconds": total}


def log_summary(parent) -> dict[str, Any]:
    """On the parent run, so that its row in the MLflow UI says which strategy won: per strategy the mean test
    P@5 over its runs and its 95% CI (`<strategy>_test_p_at_5`, `_ci_low`, `_ci_high`), the comparison chart
    (reports/comparison.png) and the tag `best_strategy` (the highest mean test P@5; `compare` then also weighs
    latency and tags `production_strategy` here). The summary is compare's (tubetags.evaluation.intervals)."""
    import mlflow

    from tubetags import tracking
    from tubetags.evaluation.intervals import HEADLINE, summarize
    from tubetags.evaluation.promotion import choose_production
    from tubetags.evaluation.reports import plot_comparison

    summary = summarize(tracking.child_runs(parent))
    if not summary:
        return summary
    metrics: dict[str, float] = {}
    for strategy, entry in summary.items():
        stat = entry["metrics"][HEADLINE]
        metrics |= {
            f"{strategy}_{HEADLINE}": stat["mean"],
            f"{strategy}_{HEADLINE}_ci_low": stat["low"],
            f"{strategy}_{HEADLINE}_ci_high": stat["high"],
        }
    mlflow.log_metrics(metrics)
    best, _ = choose_production(summary, latency_budget_ms=float("inf"))  # no latency measured: P@5 decides
    mlflow.set_tag("best_strategy", best)
    with tempfile.TemporaryDirectory() as tmp:
        chart = plot_comparison(
            summary,
            Path(tmp) / "comparison.png",
            f"Test metrics by strategy (experiment {parent.info.run_id[:8]}, 95% CI)",
        )
        mlflow.log_artifact(str(chart), artifact_path="reports")
    return summary


def _clear_keras() -> None:
    """Free the graph of the last Keras model before the next seed (memory grows otherwise)."""
    if "keras" in sys.modules:
        sys.modules["keras"].backend.clear_session()


def report(_config: ExperimentConfig, out: dict[str, Any]) -> list[str]:
    lines = [f"experiment {out['parent_run_id']}: {out['wall_seconds'] / 60:.1f} min"]
    for strategy, runs in out["results"].items():
        p5 = [r["metrics"]["test_p_at_5"] for r in runs]
        lines.append(f"  {strategy:13s} test P@5 {sum(p5) / len(p5):.3f} over {len(p5)} run(s)")
    return lines


JOB = Job(
    "experiment",
    ExperimentConfig,
    run_experiment,
    report=report,
    summary="every strategy over several seeds under one MLflow parent run",
)
