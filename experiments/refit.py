"""refit: the production strategy trained again, with its held-out settings, on all labelled data.

    tubetags refit [--alias production] [--measure true]
    mlflow run . -e refit --env-manager local

`compare` chooses production on the held-out test split, from models trained on the oldest 80% of talks only.
TED's tagging drifts (newer talks carry tags older ones never had), so the served model should also learn from
the newest talks. This job takes the version `compare` chose, with its constructor params and the number of
epochs its early stopping kept (the run's `best_epoch`), and:
1. (`measure`) trains it on train + valid and scores it on test: what more (and newer) data is worth, against
   the held-out run trained on train only — the one check of a refit that needs no hidden set;
2. trains it on train + valid + test, registers it tagged `refit_of` = the held-out version, and points
   `production` at it. Its quality is reported as the held-out run's: nothing is left to score it on.
Writes reports/refit.md.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pydantic import Field

from experiments.train import TrainConfig, train
from tubetags import registry, tracking
from tubetags.config import JobConfig
from tubetags.jobs import Job, JobError

log = logging.getLogger(__name__)
HELD_OUT_METRIC = "test_p_at_5"


class RefitError(JobError):
    """The alias does not point at a model this job can refit."""


class RefitConfig(JobConfig):
    job = "refit"

    alias: str = Field(registry.PRODUCTION, description="alias of the version compare chose")
    measure: bool = Field(True, description="first train on train+valid and score on test (the refit's worth)")
    corpus: Path | None = Field(None, description="corpus folder (default: data/corpus)")
    out: Path = Field(Path("reports"), description="folder for refit.md")


def refit_settings(version: str) -> dict[str, Any]:
    """strategy, seed, params and held-out metrics of a registered held-out version."""
    import mlflow

    from tubetags.strategies import STRATEGIES

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
    params = predictor.init_params()
    params.pop("seed", None)  # train takes it as the run's seed
    best = run.data.metrics.get("best_epoch")
    if best and "epochs" in params:
        params["epochs"] = int(best)  # nothing to stop on once valid is trained on: the held-out run's epochs
    return {
        "strategy": predictor.strategy,
        "seed": int(run.data.tags.get("seed", 0)),
        "params": params,
        "run_id": run.info.run_id,
        "metrics": run.data.metrics,
        "dataset": run.data.tags.get("dataset", "ted"),
    }


def refit(config: RefitConfig) -> dict[str, Any]:
    import mlflow

    tracking.configure("tubetags-refit")
    held_out = registry.held_out_version(config.alias)
    settings = refit_settings(held_out)
    log.info(
        "refitting version %s (%s, seed %s) with %s",
        held_out,
        settings["strategy"],
        settings["seed"],
        settings["params"],
    )
    out: dict[str, Any] = {
        "held_out_version": held_out,
        "held_out_run_id": settings["run_id"],
        "strategy": settings["strategy"],
        "params": settings["params"],
        "held_out": {
            "fit_splits": "train",
            HELD_OUT_METRIC: settings["metrics"].get(HELD_OUT_METRIC),
            "fit_seconds": settings["metrics"].get("fit_seconds"),
        },
    }
    # This job's run (inside `mlflow run`, the one it created); each training is a child run of it.
    with mlflow.start_run(run_name="refit") as parent:
        tracking.log_new_params({"alias": config.alias, "held_out_version": held_out, "measure": config.measure})
        base = {
            "strategy": settings["strategy"],
            "seed": settings["seed"],
            "dataset": settings["dataset"],
            "params": settings["params"],
            "corpus": config.corpus,
            "parent_run_id": parent.info.run_id,
        }
        if config.measure:
            measured = train(TrainConfig.load(base | {"fit_splits": ["train", "valid"], "register_model": False}))
            out["train_valid"] = {
                "fit_splits": "train+valid",
                "run_id": measured["run_id"],
                HELD_OUT_METRIC: measured["metrics"][HELD_OUT_METRIC],
                "fit_seconds": measured["metrics"]["fit_seconds"],
            }
            mlflow.log_metric(f"train_valid_{HELD_OUT_METRIC}", measured["metrics"][HELD_OUT_METRIC])
        final = train(TrainConfig.load(base | {"fit_splits": ["train", "valid", "test"]}))
        held_out_p5 = settings["metrics"].get(HELD_OUT_METRIC)
        registry.tag_version(
            final["version"],
            {registry.REFIT_OF: held_out, "fit_splits": "train+valid+test", f"held_out_{HELD_OUT_METRIC}": held_out_p5},
        )
        registry.describe_version(final["version"])  # now that it is tagged a refit: whose quality it reports
        registry.set_alias(registry.PRODUCTION, final["version"])
        out["refit"] = {
            "fit_splits": "train+valid+test",
            "run_id": final["run_id"],
            "version": final["version"],
            "fit_seconds": final["metrics"]["fit_seconds"],
        }
        config.out.mkdir(parents=True, exist_ok=True)
        (config.out / "refit.md").write_text(refit_markdown(out))
        mlflow.log_artifact(str(config.out / "refit.md"), artifact_path="reports")
        mlflow.set_tags({"refit_version": str(final["version"]), "held_out_version": held_out})
    return out


def refit_markdown(out: dict[str, Any]) -> str:
    def p5(entry: dict[str, Any]) -> str:
        value = entry.get(HELD_OUT_METRIC)
        return "— (trained on it)" if value is None else f"{value:.3f}"

    rows = [out["held_out"], *([out["train_valid"]] if "train_valid" in out else []), out["refit"]]
    lines = [
        "# Production refit",
        "",
        f"Strategy **{out['strategy']}**, held-out version {out['held_out_version']} (run "
        f"`{out['held_out_run_id']}`), refit with the same params (epochs = the epoch its early stopping kept):",
        "",
        f"`{out['params']}`",
        "",
        "| trained on | test P@5 | fit s | registered |",
        "|---|---|---|---|",
    ]
    for entry in rows:
        version = entry.get("version") or (out["held_out_version"] if entry is out["held_out"] else "—")
        seconds = entry.get("fit_seconds")
        lines.append(
            f"| {entry['fit_splits']} | {p5(entry)} | {'—' if seconds is None else f'{seconds:.0f}'} | {version} |"
        )
    lines += [
        "",
        f"`production` → version {out['refit']['version']} (tagged `{registry.REFIT_OF}` = "
        f"{out['held_out_version']}); its reported quality is the held-out run's.",
    ]
    if "train_valid" in out and out["held_out"].get(HELD_OUT_METRIC) is not None:
        gain = out["train_valid"][HELD_OUT_METRIC] - out["held_out"][HELD_OUT_METRIC]
        lines += [
            "",
            f"Adding the validation talks (newer than train) moves test P@5 by **{gain:+.3f}** "
            "(one seed; the refit adds the test talks too, the newest of all).",
        ]
    return "\n".join(lines) + "\n"


JOB = Job(
    "refit",
    RefitConfig,
    refit,
    report=lambda config, _out: [(config.out / "refit.md").read_text()],
    summary="production's strategy retrained on all labelled data (and on train+valid, to measure it)",
)
