"""MLflow set-up shared by every job: sqlite tracking + registry, artifacts under mlruns/."""

from __future__ import annotations

import os

from tubetags import settings
from tubetags.jobs import JobError


def configure(experiment: str | None = None) -> str:
    """Point MLflow at the project's store and select (creating if needed) an experiment.

    Returns the tracking URI. An experiment created here keeps its artifacts in
    mlruns/artifacts so that the store is one git-ignored folder.
    """
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow

    uri = settings.tracking_uri()
    if uri.startswith("sqlite:///"):
        settings.mlruns_dir().mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(os.environ.get("MLFLOW_REGISTRY_URI", uri))
    # Inside `mlflow run` (or under an active parent run) the experiment is already chosen.
    # MLflow removes MLFLOW_RUN_ID from the environment once that run is resumed, so check both.
    experiment = experiment or os.environ.get("MLFLOW_EXPERIMENT_NAME")
    if experiment and not os.environ.get("MLFLOW_RUN_ID") and mlflow.active_run() is None:
        if mlflow.get_experiment_by_name(experiment) is None:
            location = (settings.mlruns_dir() / "artifacts").resolve().as_uri()
            mlflow.create_experiment(experiment, artifact_location=location)
        mlflow.set_experiment(experiment)
    return uri


def log_new_params(params: dict) -> None:
    """Log params the active run does not have yet.

    `mlflow run` logs the entry point's parameters itself (as the strings it was given); logging
    them again with another spelling ('0' vs '0.0', 'false' vs 'False') is an error in MLflow.
    """
    import mlflow

    run = mlflow.active_run()
    present = mlflow.get_run(run.info.run_id).data.params if run else {}
    fresh = {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in params.items() if k not in present}
    if fresh:
        mlflow.log_params(fresh)


class NoExperimentRun(JobError):
    """No finished experiment run to compare (the message says what to run first)."""


def find_experiment_run(experiment: str, parent_run_id: str | None = None):
    """The given run, or the latest finished run tagged tubetags.kind=experiment in `experiment`."""
    import mlflow

    client = mlflow.MlflowClient()
    if parent_run_id:
        return client.get_run(parent_run_id)
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        raise NoExperimentRun(
            f"no MLflow experiment {experiment!r} at {settings.tracking_uri()}: run `make experiment` first"
        )
    runs = client.search_runs(
        [exp.experiment_id],
        "tags.`tubetags.kind` = 'experiment' and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    if not runs:
        raise NoExperimentRun(f"no finished experiment run (tag tubetags.kind=experiment) in {experiment!r}")
    return runs[0]


def child_runs(parent) -> list[dict]:
    """The finished child runs of `parent`: [{strategy, run_id, dataset, metrics}]."""
    import mlflow

    runs = mlflow.MlflowClient().search_runs(
        [parent.info.experiment_id],
        f"tags.mlflow.parentRunId = '{parent.info.run_id}' and attributes.status = 'FINISHED'",
        max_results=1000,
    )
    return [
        {
            "strategy": r.data.tags.get("strategy") or r.data.params["strategy"],
            "run_id": r.info.run_id,
            "dataset": r.data.tags.get("dataset", "ted"),
            "metrics": dict(r.data.metrics),
        }
        for r in runs
    ]
