"""refit: every arm trained again, with its held-out settings, on more data; production chosen among the refits.

    tubetags refit [--strategies baseline,bilstm,...] [--measure true] [--promote true]
    mlflow run . -e refit --env-manager local

`compare` ranks the strategies on the held-out test split, from models trained on the oldest 80% of talks only.
TED's tagging drifts (newer talks carry tags older ones never had), so the served model should also learn from the
newest talks, and how much they help differs per strategy. For each strategy, the version `compare` chose (its
registry alias), with its constructor params and what its held-out run chose on validation (the epochs its early
stopping kept, `TagPredictor.refit_params`), is trained:
1. (`measure`) on train + valid and scored on test, with a bootstrap CI over the test talks: what the newer data is
   worth for that strategy, against its held-out run trained on train only;
2. on train + valid + test, registered and tagged `refit_of` = the held-out version. Nothing is left to score it on.
A strategy that learns nothing from the labels (zero-shot) is its own refit: it is not trained again.

Then production is chosen **among the refit models** by the promotion rule (tubetags.evaluation.promotion: the
best mean test P@5 among the strategies within the latency budget): each strategy's P@5 is its train+valid refit's
(the closest model to the served one that can still be scored on unseen talks), its latency the p50 `compare`
measured for the held-out version (same architecture and size). `production` points at the winner's
train+valid+test version. Writes reports/refit.md.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from experiments.train import TrainConfig, train
from tubetags import registry, tracking
from tubetags.config import JobConfig, comma_list
from tubetags.evaluation.promotion import choose_production
from tubetags.jobs import Job, JobError
from tubetags.strategies import EXPERIMENT_STRATEGIES, STRATEGIES, checked_strategies

log = logging.getLogger(__name__)
HELD_OUT_METRIC = "test_p_at_5"


class RefitError(JobError):
    """The alias does not point at a model this job can refit."""


class RefitConfig(JobConfig):
    job = "refit"

    strategies: list[str] = Field(list(EXPERIMENT_STRATEGIES), description="the arms to refit (comma-separated)")
    measure: bool = Field(True, description="first train on train+valid and score on test (what newer data is worth)")
    promote: bool = Field(True, description="point production at the refit the promotion rule chooses")
    latency_budget_ms: float = Field(50, gt=0, description="single-transcript p50 a production model must meet")
    compare_experiment: str = Field("tubetags-compare", description="MLflow experiment of compare's runs (latencies)")
    corpus: Path | None = Field(None, description="corpus folder (default: data/corpus)")
    out: Path = Field(Path("reports"), description="folder for refit.md")

    @field_validator("strategies", mode="before")
    @classmethod
    def split_commas(cls, value: Any) -> Any:
        return comma_list(value)

    @field_validator("strategies")
    @classmethod
    def known_strategies(cls, value: list[str]) -> list[str]:
        return checked_strategies(value, EXPERIMENT_STRATEGIES)


def refit_settings(version: str) -> dict[str, Any]:
    """strategy, seed, params to refit with, and held-out metrics of a registered held-out version."""
    import mlflow

    predictor = registry.load_version_predictor(version)
    if predictor.strategy not in STRATEGIES or not STRATEGIES[predictor.strategy].in_experiment:
        raise RefitError(
            f"version {version} is a {predictor.strategy!r} model, not one the experiment trains; "
            "run compare first (it points production at the chosen strategy's held-out version)"
        )
    model_version = mlflow.MlflowClient().get_model_version(registry.registered_model(), version)
    if not model_version.run_id:
        raise RefitError(f"version {version} has no run: no held-out settings to refit with")
    run = mlflow.get_run(model_version.run_id)
    if run.data.tags.get("fit_splits", "train") != "train":
        raise RefitError(f"version {version} was not trained on train only: no held-out settings to refit with")
    best = run.data.metrics.get("best_epoch")
    params = predictor.refit_params(int(best) if best else None)
    params.pop("seed", None)  # train takes it as the run's seed
    return {
        "strategy": predictor.strategy,
        "deterministic": predictor.deterministic,
        "seed": int(run.data.tags.get("seed", 0)),
        "params": params,
        "run_id": run.info.run_id,
        "metrics": run.data.metrics,
        "dataset": run.data.tags.get("dataset", "ted"),
    }


def compare_measurements(experiment: str) -> dict[str, dict[str, float]]:
    """Per strategy, what the latest compare run measured: `latency_p50_ms` and the mean held-out `test_p_at_5`
    over seeds ({} when compare has not run or logged no latencies)."""
    import mlflow

    client = mlflow.MlflowClient()
    found = client.get_experiment_by_name(experiment)
    runs = (
        client.search_runs(
            [found.experiment_id],
            "attributes.status = 'FINISHED' and tags.production_strategy != ''",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
        if found
        else []
    )
    if not runs:
        return {}
    metrics = runs[0].data.metrics
    out: dict[str, dict[str, float]] = {}
    for name in STRATEGIES:
        for key in ("latency_p50_ms", HELD_OUT_METRIC):
            if f"{name}_{key}" in metrics:
                out.setdefault(name, {})[key] = metrics[f"{name}_{key}"]
    return out


def train_refits(
    settings: dict[str, Any], corpus: Path | None, parent_run_id: str, measure: bool, register: bool = True
) -> dict[str, Any]:
    """Train one held-out version's settings on train+valid (scored on test, bootstrap CI; if `measure`) and on
    train+valid+test (registered, tagged `refit_of`). Returns {"train_valid": ..., "refit": ...}."""
    from experiments.experiment import log_bootstrap

    base = {
        "strategy": settings["strategy"],
        "seed": settings["seed"],
        "dataset": settings["dataset"],
        "params": settings["params"],
        "corpus": corpus,
        "parent_run_id": parent_run_id,
    }
    out: dict[str, Any] = {}
    if measure:
        measured = train(TrainConfig.load(base | {"fit_splits": ["train", "valid"], "register_model": False}))
        ci = log_bootstrap(measured["run_id"])
        out["train_valid"] = {
            "fit_splits": "train+valid",
            "run_id": measured["run_id"],
            HELD_OUT_METRIC: measured["metrics"][HELD_OUT_METRIC],
            "ci": (ci[f"{HELD_OUT_METRIC}_ci_low"], ci[f"{HELD_OUT_METRIC}_ci_high"]),
            "fit_seconds": measured["metrics"]["fit_seconds"],
        }
    final = train(TrainConfig.load(base | {"fit_splits": ["train", "valid", "test"], "register_model": register}))
    out["refit"] = {
        "fit_splits": "train+valid+test",
        "run_id": final["run_id"],
        "version": final["version"],
        "fit_seconds": final["metrics"]["fit_seconds"],
    }
    return out


def refit(config: RefitConfig) -> dict[str, Any]:
    import mlflow

    tracking.configure(os.environ.get("MLFLOW_EXPERIMENT_NAME", "tubetags-refit"))
    measured = compare_measurements(config.compare_experiment)
    present = registry.aliases()
    out: dict[str, Any] = {"strategies": {}, "skipped": {}}
    # This job's run (inside `mlflow run`, the one it created); each training is a child run of it.
    with mlflow.start_run(run_name="refit") as parent:
        tracking.log_new_params(
            {
                "strategies": ",".join(config.strategies),
                "measure": config.measure,
                "latency_budget_ms": config.latency_budget_ms,
            }
        )
        for name in config.strategies:
            alias = STRATEGIES[name].alias
            if alias not in present:
                out["skipped"][name] = f"no version behind alias {alias!r}: run compare first"
                log.warning("refit: %s skipped, %s", name, out["skipped"][name])
                continue
            held_out = registry.held_out_version(alias)
            settings = refit_settings(held_out)
            entry: dict[str, Any] = {
                "held_out_version": held_out,
                "held_out_run_id": settings["run_id"],
                "params": settings["params"],
                "held_out": {
                    HELD_OUT_METRIC: settings["metrics"].get(HELD_OUT_METRIC),
                    "ci": (
                        settings["metrics"].get(f"{HELD_OUT_METRIC}_ci_low"),
                        settings["metrics"].get(f"{HELD_OUT_METRIC}_ci_high"),
                    ),
                    "fit_seconds": settings["metrics"].get("fit_seconds"),
                },
                "seed_mean": measured.get(name, {}).get(HELD_OUT_METRIC),
                "latency_p50_ms": measured.get(name, {}).get("latency_p50_ms"),
            }
            if settings["deterministic"]:
                entry["learns"] = False  # nothing learned from labels: the held-out version is its own refit
                entry["refit"] = {"version": held_out}
            else:
                log.info(
                    "refitting %s version %s (seed %s) with %s", name, held_out, settings["seed"], settings["params"]
                )
                entry |= train_refits(settings, config.corpus, parent.info.run_id, config.measure)
                registry.tag_version(
                    entry["refit"]["version"],
                    {
                        registry.REFIT_OF: held_out,
                        "fit_splits": "train+valid+test",
                        f"held_out_{HELD_OUT_METRIC}": settings["metrics"].get(HELD_OUT_METRIC),
                    },
                )
                registry.describe_version(entry["refit"]["version"])  # now tagged a refit: whose quality it reports
                if "train_valid" in entry:
                    mlflow.log_metric(f"{name}_train_valid_{HELD_OUT_METRIC}", entry["train_valid"][HELD_OUT_METRIC])
            out["strategies"][name] = entry
        if not out["strategies"]:
            raise RefitError(f"nothing to refit: {out['skipped']}")
        winner, reason = choose_production(choice_summary(out["strategies"]), config.latency_budget_ms)
        out["production"] = {
            "strategy": winner,
            "version": str(out["strategies"][winner]["refit"]["version"]),
            "reason": reason,
            "promoted": config.promote,
        }
        log.info("%s", reason)
        if config.promote:
            registry.set_alias(registry.PRODUCTION, out["production"]["version"])
        config.out.mkdir(parents=True, exist_ok=True)
        (config.out / "refit.md").write_text(refit_markdown(out, config.latency_budget_ms))
        mlflow.log_artifact(str(config.out / "refit.md"), artifact_path="reports")
        mlflow.set_tags({"production_strategy": winner, "production_version": out["production"]["version"]})
    return out


def choice_summary(entries: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What the promotion rule reads, per strategy: the train+valid refit's test P@5 with its bootstrap CI (the
    held-out run's when the refit was not measured or the strategy learns nothing), and compare's p50."""
    summary = {}
    for name, entry in entries.items():
        scored = entry.get("train_valid") or entry["held_out"]
        value = scored[HELD_OUT_METRIC]
        low, high = scored.get("ci") or (None, None)
        summary[name] = {
            "metrics": {
                HELD_OUT_METRIC: {
                    "mean": value,
                    "low": value if low is None else low,
                    "high": value if high is None else high,
                }
            },
            "latency_p50_ms": entry.get("latency_p50_ms"),
        }
    return summary


def _p5(entry: dict[str, Any] | None) -> str:
    if not entry or entry.get(HELD_OUT_METRIC) is None:
        return "—"
    low, high = entry.get("ci") or (None, None)
    ci = f" [{low:.3f}, {high:.3f}]" if low is not None and high is not None else ""
    return f"{entry[HELD_OUT_METRIC]:.3f}{ci}"


def refit_markdown(out: dict[str, Any], latency_budget_ms: float) -> str:
    lines = [
        "# Refit of every arm",
        "",
        "Each strategy's held-out version (the one `compare` chose: trained on the oldest 80% of talks) trained "
        "again with the same params and the epochs its early stopping kept, on train + valid (scored on the test "
        "talks, the newest; 95% CI: bootstrap over test talks) and on train + valid + test (registered, tagged "
        "`refit_of`; nothing left to score it on). Reproduce: `tubetags refit` after `make experiment` and "
        "`tubetags compare`.",
        "",
        "| strategy | held-out version | test P@5, trained on train (this version) | mean over seeds "
        "| test P@5, trained on train+valid | newer data is worth | refit version (everything) | p50 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, entry in out["strategies"].items():
        held, tv = entry["held_out"], entry.get("train_valid")
        gain = (
            f"{tv[HELD_OUT_METRIC] - held[HELD_OUT_METRIC]:+.3f}"
            if tv and held.get(HELD_OUT_METRIC) is not None
            else ("— (learns nothing from labels)" if entry.get("learns") is False else "—")
        )
        mean = entry.get("seed_mean")
        latency = entry.get("latency_p50_ms")
        lines.append(
            f"| {name} | {entry['held_out_version']} | {_p5(held)} | {'—' if mean is None else f'{mean:.3f}'} "
            f"| {_p5(tv)} | {gain} | {entry['refit']['version']} | {'—' if latency is None else f'{latency:.0f}'} |"
        )
    for name, why in out["skipped"].items():
        lines.append(f"| {name} | — | — | — | — | — | {why} | — |")
    production = out["production"]
    lines += [
        "",
        "## Production, chosen among the refit models",
        "",
        f"The promotion rule (`tubetags/evaluation/promotion.py`: best mean test P@5 among the strategies within the "
        f"{latency_budget_ms:.0f} ms p50 budget) reads each strategy's **train+valid refit** test P@5 (one seed, "
        "bootstrap CI over the test talks; the held-out run's for a strategy that learns nothing) and the p50 "
        "`compare` measured for its held-out version (same architecture). The winner's train+valid+test version "
        "is served.",
        "",
        production["reason"],
        "",
        f"`production` → version {production['version']} ({production['strategy']}, trained on everything)"
        + ("" if production["promoted"] else " — not promoted (`--promote false`)")
        + ".",
    ]
    return "\n".join(lines) + "\n"


def report(config: RefitConfig, _out: dict[str, Any]) -> list[str]:
    return [(config.out / "refit.md").read_text()]


JOB = Job(
    "refit",
    RefitConfig,
    refit,
    report=report,
    summary="every arm retrained on train+valid (scored) and on all labelled data; production chosen among them",
)
