"""train: fit one strategy on the corpus, evaluate it, log everything and register the model.

    python -m experiments.train --strategy baseline [--seed 0] [--quick true] [--params epochs=3 ...]
    mlflow run . -e train --env-manager local -P strategy=bilstm -P seed=1

Parameters: experiments/configs/<strategy>.yaml (`params`, and `quick_params` merged in with
--quick true), then --params KEY=VALUE overrides (see tubetags.config).
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Self

from pydantic import Field, field_validator

from tubetags import settings
from tubetags.config import CONFIG_DIR, JobConfig
from tubetags.strategies import STRATEGIES

log = logging.getLogger(__name__)


class TrainConfig(JobConfig):
    job = "train"

    strategy: str = Field(description=f"one of {', '.join(STRATEGIES)}")
    seed: int = Field(0, ge=0, description="random seed of the strategy")
    quick: bool = Field(False, description="quick settings (CI, demo): the YAML's quick_params merged in")
    dataset: str = Field("ted", description="corpus dataset to train and test on")
    params: dict[str, Any] = Field(default_factory=dict, description="the strategy's hyper-parameters")
    quick_params: dict[str, Any] = Field(default_factory=dict, description="params used instead with --quick true")
    corpus: Path | None = Field(None, description="corpus folder (default: data/corpus)")
    register_model: bool = Field(True, description="register the model in the registry")
    parent_run_id: str | None = Field(None, description="log as a child of this MLflow run")

    @field_validator("strategy")
    @classmethod
    def known_strategy(cls, value: str) -> str:
        if value not in STRATEGIES:
            raise ValueError(f"unknown strategy {value!r}; choose one of {sorted(STRATEGIES)}")
        return value

    @classmethod
    def config_path(cls, values: Mapping[str, Any]) -> Path:
        return CONFIG_DIR / f"{values.get('strategy')}.yaml"

    @classmethod
    def load(cls, overrides: Mapping[str, Any] | None = None, path: Path | None = None) -> Self:
        """As JobConfig.load; `params` given here win over the YAML's params and its quick_params."""
        overrides = dict(overrides or {})
        given = overrides.pop("params", None) or {}
        base = super().load(overrides, path)
        params = {**base.params, **(base.quick_params if base.quick else {}), **given}
        return cls.model_validate(base.model_dump() | {"params": params})


def train(config: TrainConfig) -> dict[str, Any]:
    """Train, evaluate, log and register one model; returns {run_id, metrics, version}."""
    import mlflow

    from tubetags import registry, tracking
    from tubetags.corpus import Corpus
    from tubetags.evaluation.predictions import log_predictions
    from tubetags.evaluation.scoring import evaluate_splits
    from tubetags.strategies import build_predictor, predictor_class

    tracking.configure(os.environ.get("MLFLOW_EXPERIMENT_NAME", "tubetags"))
    corpus = Corpus.open(config.corpus or settings.corpus_dir())
    dataset, strategy = config.dataset, config.strategy
    vocabulary = corpus.vocabulary(dataset)
    # A deterministic strategy learns nothing random: it takes no seed.
    seeded = {} if predictor_class(strategy).deterministic else {"seed": config.seed}
    predictor = build_predictor(strategy, **seeded, **config.params)
    tags = {"strategy": strategy, "seed": str(config.seed), "dataset": dataset}
    parent = config.parent_run_id
    if parent:
        tags["mlflow.parentRunId"] = parent
    # A child run lives in its parent's experiment, whatever experiment is selected.
    experiment_id = mlflow.get_run(parent).info.experiment_id if parent else None
    with mlflow.start_run(run_name=f"{strategy}-seed{config.seed}", tags=tags, experiment_id=experiment_id,
                          nested=bool(parent)) as run:
        tracking.log_new_params({"strategy": strategy, "seed": config.seed, "dataset": dataset,
                                 "quick": config.quick, "vocabulary_size": len(vocabulary),
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
        log_predictions(result["test_predictions"])
        with tempfile.TemporaryDirectory() as tmp:
            info = registry.log_predictor(predictor, Path(tmp), register=config.register_model)
        version = getattr(info, "registered_model_version", None)
        log.info("%s seed=%s: test P@5=%.3f nDCG@5=%.3f fit %.0fs; run %s%s", strategy, config.seed,
                 metrics["test_p_at_5"], metrics["test_ndcg_at_5"], fit_seconds, run.info.run_id,
                 f", registered version {version}" if version else "")
        return {"run_id": run.info.run_id, "metrics": metrics, "version": version}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    result = train(TrainConfig.from_cli(argv, __doc__))
    print(f"test P@5 {result['metrics']['test_p_at_5']:.3f}; run {result['run_id']}; version {result['version']}")
    return result


if __name__ == "__main__":
    main()
