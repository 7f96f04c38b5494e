"""experiment: every strategy, N seeds each, under one MLflow parent run.

    python -m experiments.experiment [--seeds 5] [--strategies baseline,bilstm,encoder_head,zero_shot] [--quick]
    mlflow run . -e experiment --env-manager local -P seeds=5

Seeds run in this one process so that encoder caches and imported frameworks are shared.
A deterministic strategy (zero-shot: nothing learned) runs once; its uncertainty is a bootstrap
over test items, logged on its run as <metric>_ci_low / _ci_high.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from tubetags.strategies import STRATEGIES, predictor_class

BOOTSTRAP_METRICS = ("p_at_1", "p_at_3", "p_at_5", "p_at_10", "r_at_5", "r_at_10", "ndcg_at_5", "ndcg_at_10")


def log_bootstrap(run_id: str) -> dict[str, float]:
    """Bootstrap CIs over the run's test items, from its logged predictions."""
    import mlflow

    from tubetags.metrics import per_item
    from tubetags.stats import bootstrap_interval

    path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="evaluation/test_predictions.jsonl")
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line]
    items = per_item([[(t, s) for t, s in r["predicted"]] for r in rows], [r["tags"] for r in rows])
    out = {}
    for name in BOOTSTRAP_METRICS:
        _, low, high = bootstrap_interval(items[name])
        out[f"test_{name}_ci_low"], out[f"test_{name}_ci_high"] = low, high
    mlflow.MlflowClient().log_batch(run_id, metrics=[
        mlflow.entities.Metric(k, v, int(time.time() * 1000), 0) for k, v in out.items()])
    return out


def run_experiment(seeds: int, strategies: list[str], quick: bool = False, corpus_dir: Path | None = None) -> dict:
    import mlflow

    from experiments.train import train
    from tubetags import tracking

    tracking.configure(os.environ.get("MLFLOW_EXPERIMENT_NAME", "tubetags"))
    started = time.perf_counter()
    results: dict[str, list[dict]] = {}
    with mlflow.start_run(run_name="experiment", tags={"tubetags.kind": "experiment"}) as parent:
        tracking.log_new_params({"seeds": seeds, "strategies": ",".join(strategies), "quick": quick})
        for strategy in strategies:
            strategy_started = time.perf_counter()
            runs = 1 if predictor_class(strategy).deterministic else seeds
            for seed in range(runs):
                result = train(strategy, seed=seed, quick=quick, corpus_dir=corpus_dir,
                               parent_run_id=parent.info.run_id)
                if runs == 1:
                    result["metrics"].update(log_bootstrap(result["run_id"]))
                results.setdefault(strategy, []).append(result)
                _clear_keras()
            mlflow.log_metric(f"wall_seconds_{strategy}", time.perf_counter() - strategy_started)
        total = time.perf_counter() - started
        mlflow.log_metric("wall_seconds_total", total)
        print(f"experiment {parent.info.run_id}: {sum(map(len, results.values()))} runs in {total / 60:.1f} min")
        for strategy, rs in results.items():
            p5 = [r["metrics"]["test_p_at_5"] for r in rs]
            print(f"  {strategy:13s} test P@5 {sum(p5) / len(p5):.3f} over {len(p5)} run(s)")
    return {"parent_run_id": parent.info.run_id, "results": results, "wall_seconds": total}


def _clear_keras() -> None:
    """Free the graph of the last Keras model before the next seed (memory grows otherwise)."""
    import sys

    if "keras" in sys.modules:
        sys.modules["keras"].backend.clear_session()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=float, default=5)
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--quick", nargs="?", const="true", default="false")
    parser.add_argument("--corpus", type=Path, default=None)
    args = parser.parse_args(argv)
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    for s in strategies:
        predictor_class(s)  # fail fast on a typo
    run_experiment(int(args.seeds), strategies, args.quick.lower() == "true", args.corpus)


if __name__ == "__main__":
    main()
