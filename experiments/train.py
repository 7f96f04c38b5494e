"""train: fit one strategy on the corpus, evaluate it, log everything and register the model.

    python -m experiments.train --strategy baseline [--seed 0] [--param epochs=3 ...]
    mlflow run . -e train_baseline --env-manager local -P seed=1

Parameters come from experiments/configs/<strategy>.yaml, overridden by --param.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from tubetags import settings

CONFIG_DIR = Path(__file__).resolve().parent / "configs"


def load_config(strategy: str, overrides: list[str] | None = None, quick: bool = False) -> dict[str, Any]:
    """The strategy's YAML config (its `quick` section merged in when quick), then KEY=VALUE overrides."""
    config = yaml.safe_load((CONFIG_DIR / f"{strategy}.yaml").read_text()) or {}
    quick_params = config.pop("quick", {}) or {}
    params = dict(config.get("params", {}))
    if quick:
        params.update(quick_params)
    for item in overrides or []:
        key, _, value = item.partition("=")
        params[key] = yaml.safe_load(value)
    return {"dataset": config.get("dataset", "ted"), "params": params}


def train(strategy: str, seed: int = 0, overrides: list[str] | None = None, quick: bool = False,
          corpus_dir: Path | None = None, register: bool = True, parent_run_id: str | None = None) -> dict[str, Any]:
    """Train, evaluate, log and register one model; returns {run_id, metrics, version}."""
    import mlflow

    from experiments.evaluate import evaluate_splits
    from tubetags import registry, tracking
    from tubetags.corpus import Corpus
    from tubetags.strategies import build_predictor

    tracking.configure(os.environ.get("MLFLOW_EXPERIMENT_NAME", "tubetags"))
    config = load_config(strategy, overrides, quick)
    corpus = Corpus.open(corpus_dir or settings.corpus_dir())
    dataset = config["dataset"]
    vocabulary = corpus.vocabulary(dataset)
    predictor = build_predictor(strategy, seed=seed, **config["params"])
    tags = {"strategy": strategy, "seed": str(seed), "dataset": dataset}
    if parent_run_id:
        tags["mlflow.parentRunId"] = parent_run_id
    # A child run lives in its parent's experiment, whatever experiment is selected.
    experiment_id = mlflow.get_run(parent_run_id).info.experiment_id if parent_run_id else None
    with mlflow.start_run(run_name=f"{strategy}-seed{seed}", tags=tags, experiment_id=experiment_id,
                          nested=bool(parent_run_id)) as run:
        tracking.log_new_params({"strategy": strategy, "seed": seed, "dataset": dataset, "quick": quick,
                           "vocabulary_size": len(vocabulary),
                           "corpus_built_at": corpus.manifest.get("built_at", ""),
                           **{f"model.{k}": v for k, v in predictor.params().items()}})
        started = time.perf_counter()
        history = predictor.fit(corpus.split(dataset, "train"), corpus.split(dataset, "valid"), vocabulary)
        fit_seconds = time.perf_counter() - started
        for name, values in (history or {}).items():
            for step, value in enumerate(values):
                mlflow.log_metric(f"curve_{name}", float(value), step=step)
        result = evaluate_splits(predictor, corpus.split(dataset, "valid"), corpus.split(dataset, "test"))
        metrics = {**result["metrics"], "fit_seconds": fit_seconds}
        mlflow.log_metrics(metrics)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "test_predictions.jsonl"
            path.write_text("\n".join(json.dumps(r) for r in result["test_predictions"]))
            mlflow.log_artifact(str(path), artifact_path="evaluation")
            info = registry.log_predictor(predictor, Path(tmp), register=register)
        version = getattr(info, "registered_model_version", None)
        print(f"{strategy} seed={seed}: test P@5={metrics['test_p_at_5']:.3f} nDCG@5={metrics['test_ndcg_at_5']:.3f} "
              f"fit {fit_seconds:.0f}s; run {run.info.run_id}" + (f", registered version {version}" if version else ""))
        return {"run_id": run.info.run_id, "metrics": metrics, "version": version}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strategy", required=True)
    parser.add_argument("--seed", type=float, default=0)
    parser.add_argument("--quick", nargs="?", const="true", default="false", help="quick settings (CI, demo): true|false")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--no-register", action="store_true")
    args = parser.parse_args(argv)
    train(args.strategy, int(args.seed), args.param, args.quick.lower() == "true", args.corpus, register=not args.no_register)


if __name__ == "__main__":
    main()
