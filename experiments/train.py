"""train: fit one strategy on the corpus, evaluate it, log everything and register the model.

    tubetags train --strategy baseline [--seed 0] [--quick true] [--params epochs=3 ...]
    mlflow run . -e train_bilstm --env-manager local -P seed=1      (one entry point per strategy)
    mlflow run . -e train --env-manager local -P strategy=bilstm -P seed=1

Parameters: configs/strategies/<strategy>.yaml (`params`, and `quick_params` merged in with
--quick true), then --params KEY=VALUE overrides (see tubetags.config).
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

from pydantic import Field, field_validator

from tubetags import settings
from tubetags.config import STRATEGY_CONFIG_DIR, JobConfig, comma_list
from tubetags.jobs import Job
from tubetags.predictor import best_epoch
from tubetags.strategies import STRATEGIES

log = logging.getLogger(__name__)
# What a model may be trained on. Held-out (the experiment): train, stopped on valid, scored on test. The refit
# (experiments/refit.py): more data with the held-out run's settings and number of epochs, nothing to stop on.
FIT_SPLITS = (["train"], ["train", "valid"], ["train", "valid", "test"])


class TrainConfig(JobConfig):
    job = "train"

    strategy: str = Field(description=f"one of {', '.join(STRATEGIES)}")
    seed: int = Field(0, ge=0, description="random seed of the strategy")
    quick: bool = Field(False, description="quick settings (CI, demo): the YAML's quick_params merged in")
    dataset: str = Field("ted", description="corpus dataset to train and test on")
    params: dict[str, Any] = Field(default_factory=dict, description="the strategy's hyper-parameters")
    quick_params: dict[str, Any] = Field(default_factory=dict, description="params used instead with --quick true")
    corpus: Path | None = Field(None, description="corpus folder (default: data/corpus)")
    fit_splits: list[str] = Field(
        ["train"],
        description="splits trained on: train (valid stops early, test scores); "
        "train,valid (test scores); train,valid,test (the production refit: no score)",
    )
    register_model: bool = Field(True, description="register the model in the registry")
    parent_run_id: str | None = Field(None, description="log as a child of this MLflow run")

    @field_validator("strategy")
    @classmethod
    def known_strategy(cls, value: str) -> str:
        if value not in STRATEGIES:
            raise ValueError(f"unknown strategy {value!r}; choose one of {sorted(STRATEGIES)}")
        return value

    @field_validator("fit_splits", mode="before")
    @classmethod
    def split_commas(cls, value: Any) -> Any:
        return comma_list(value)

    @field_validator("fit_splits")
    @classmethod
    def known_fit_splits(cls, value: list[str]) -> list[str]:
        if value not in FIT_SPLITS:
            raise ValueError(f"fit_splits {value} is not one of {[','.join(v) for v in FIT_SPLITS]}")
        return value

    @classmethod
    def config_path(cls, values: Mapping[str, Any]) -> Path:
        return STRATEGY_CONFIG_DIR / f"{values.get('strategy') or '<strategy>'}.yaml"

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
    from tubetags.evaluation.prediction_log import log_predictions, ranked, truths
    from tubetags.evaluation.scoring import evaluate_splits, predict_split
    from tubetags.ranking_metrics import evaluate
    from tubetags.strategies import build_predictor, predictor_class

    tracking.configure(os.environ.get("MLFLOW_EXPERIMENT_NAME", "tubetags"))
    corpus = Corpus.open(config.corpus or settings.corpus_dir())
    dataset, strategy = config.dataset, config.strategy
    vocabulary = corpus.vocabulary(dataset)
    # A deterministic strategy learns nothing random: it takes no seed.
    seeded = {} if predictor_class(strategy).deterministic else {"seed": config.seed}
    predictor = build_predictor(strategy, **seeded, **config.params)
    tags = {"strategy": strategy, "seed": str(config.seed), "dataset": dataset}
    with tracking.start_run(f"{strategy}-seed{config.seed}", config.parent_run_id, tags) as run:
        tracking.log_new_params(
            {
                "strategy": strategy,
                "seed": config.seed,
                "dataset": dataset,
                "quick": config.quick,
                "vocabulary_size": len(vocabulary),
                "corpus_built_at": corpus.manifest.get("built_at", ""),
                **{f"model.{k}": v for k, v in predictor.params().items()},
            }
        )
        mlflow.set_tag("fit_splits", "+".join(config.fit_splits))
        # Which data: the UI's Dataset column and run page show each split's name and checksum.
        tracking.log_corpus_inputs(corpus, dataset, config.fit_splits)
        held_out = config.fit_splits == ["train"]  # else valid is trained on: no early stopping, epochs as given
        started = time.perf_counter()
        history = predictor.fit(
            corpus.splits(dataset, config.fit_splits), corpus.split(dataset, "valid") if held_out else None, vocabulary
        )
        fit_seconds = time.perf_counter() - started
        for name, values in (history or {}).items():
            for step, value in enumerate(values):
                mlflow.log_metric(f"curve_{name}", float(value), step=step)
        metrics = {"fit_seconds": fit_seconds}
        kept_epoch = best_epoch(history)
        if kept_epoch is not None:
            metrics["best_epoch"] = kept_epoch
        if held_out:
            result = evaluate_splits(predictor, corpus.split(dataset, "valid"), corpus.split(dataset, "test"))
            metrics |= result["metrics"]
            log_predictions(result["test_predictions"])
        elif "test" not in config.fit_splits:
            rows = predict_split(predictor, corpus.split(dataset, "test"))
            metrics |= {f"test_{k}": v for k, v in evaluate(ranked(rows), truths(rows)).items()}
            log_predictions(rows)
        mlflow.log_metrics(metrics)
        with tempfile.TemporaryDirectory() as tmp:
            info = registry.log_predictor(predictor, Path(tmp), register=config.register_model)
        version = getattr(info, "registered_model_version", None)
        scored = f"test P@5={metrics['test_p_at_5']:.3f}" if "test_p_at_5" in metrics else "trained on test: no score"
        log.info(
            "%s seed=%s on %s: %s, fit %.0fs; run %s%s",
            strategy,
            config.seed,
            "+".join(config.fit_splits),
            scored,
            fit_seconds,
            run.info.run_id,
            f", registered version {version}" if version else "",
        )
        return {"run_id": run.info.run_id, "metrics": metrics, "version": version}


def report(_config: TrainConfig, result: dict[str, Any]) -> list[str]:
    p5 = result["metrics"].get("test_p_at_5")
    return [f"test P@5 {'-' if p5 is None else f'{p5:.3f}'}; run {result['run_id']}; version {result['version']}"]


JOB = Job(
    "train",
    TrainConfig,
    train,
    report=report,
    summary="fit one strategy (one seed), evaluate it, log it to MLflow and register the model",
)
