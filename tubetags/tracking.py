"""MLflow set-up shared by every job: sqlite tracking + registry, artifacts under mlruns/; what a run records
about its data (the corpus splits as MLflow datasets)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tubetags import settings
from tubetags.jobs import JobError

if TYPE_CHECKING:
    from tubetags.corpus import Corpus

# MLflow's experiment kind, the experiment tag its UI reads (key and value as MLflow 3.17's UI spells them;
# the other kind is "genai_development"). Our experiments train and compare models: no GenAI traces.
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
MODEL_TRAINING_KIND = "custom_model_development"
# MLflow 3.17's UI opens an experiment as the GenAI or the model-training workflow by its sidebar switch
# (remembered per browser, GenAI at first) or by this URL parameter; the kind tag alone does not switch it.
MODEL_TRAINING_WORKFLOW = "workflowType=machine_learning"
# How a run used each corpus split, as `mlflow.data.context` (a split trained on is "training" whatever its name).
SPLIT_CONTEXTS = {"train": "training", "valid": "validation", "test": "testing"}
DIGEST_CHARS = 12  # of the split's sha256: MLflow keeps at most 36 and shows the digest beside the name


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
    active = mlflow.active_run()
    run_id = os.environ.get("MLFLOW_RUN_ID") or (active.info.run_id if active else None)
    if run_id:
        mark_model_training(mlflow.MlflowClient().get_run(run_id).info.experiment_id)
    elif experiment:
        if mlflow.get_experiment_by_name(experiment) is None:
            location = (settings.mlruns_dir() / "artifacts").resolve().as_uri()
            mlflow.create_experiment(
                experiment, artifact_location=location, tags={EXPERIMENT_KIND_TAG: MODEL_TRAINING_KIND}
            )
        mark_model_training(mlflow.set_experiment(experiment).experiment_id)
    return uri


def mark_model_training(experiment_id: str) -> None:
    """Tag the experiment as model training (MLflow's experiment kind) unless it has a kind already: one set in
    the UI stays. Covers experiments made before the tag, or by `mlflow run --experiment-name`."""
    import mlflow

    client = mlflow.MlflowClient()
    if EXPERIMENT_KIND_TAG not in client.get_experiment(experiment_id).tags:
        client.set_experiment_tag(experiment_id, EXPERIMENT_KIND_TAG, MODEL_TRAINING_KIND)


def runs_page_url(ui_url: str, experiment: str) -> str:
    """The MLflow UI page of an experiment's training runs (the runs table, model-training workflow); the
    experiment list if there is no such experiment yet."""
    import mlflow

    found = mlflow.MlflowClient().get_experiment_by_name(experiment)
    page = f"experiments/{found.experiment_id}/runs" if found else "experiments"
    return f"{ui_url.rstrip('/')}/#/{page}?{MODEL_TRAINING_WORKFLOW}"


def corpus_split_dataset(corpus: Corpus, dataset: str, split: str) -> Any:
    """One corpus split as an MLflow dataset: named `<dataset>-<split>`, its digest the split's checksum
    (Corpus.split_digest), its source the manifest, its profile the rows and shards."""
    from mlflow.data.dataset_source_registry import get_dataset_source_from_json
    from mlflow.data.meta_dataset import MetaDataset

    class CorpusSplitDataset(MetaDataset):
        """MLflow's metadata-only dataset, with a profile (MetaDataset has none): the rows stay in the shards."""

        def __init__(self, profile: dict[str, Any], **kwargs: Any) -> None:
            self._profile = profile
            super().__init__(**kwargs)

        @property
        def profile(self) -> dict[str, Any]:
            return self._profile

        def to_dict(self) -> dict[str, str]:
            return super().to_dict() | {"profile": json.dumps(self._profile)}

    source = get_dataset_source_from_json(json.dumps({"uri": str(corpus.manifest_path.resolve())}), "local")
    return CorpusSplitDataset(
        # No build time: MLflow keeps one dataset per name and digest, so the same rows built again are that one.
        profile={"rows": corpus.size(dataset, split), "shards": len(corpus.shards(dataset, split))},
        source=source,
        name=f"{dataset}-{split}",
        digest=corpus.split_digest(dataset, split)[:DIGEST_CHARS],
    )


def log_corpus_inputs(corpus: Corpus, dataset: str, fit_splits: Sequence[str]) -> None:
    """Log the train, valid and test splits of `dataset` as the active run's dataset inputs, each in the context
    the run used it in: `training` for those in `fit_splits`, else `validation` / `testing`."""
    import mlflow

    for split in SPLIT_CONTEXTS:
        context = SPLIT_CONTEXTS["train" if split in fit_splits else split]
        mlflow.log_input(corpus_split_dataset(corpus, dataset, split), context=context)


def start_run(run_name: str, parent_run_id: str | None = None, tags: dict[str, str] | None = None) -> Any:
    """`mlflow.start_run`; with `parent_run_id`, a child of that run, in its parent's experiment whatever
    experiment is selected (train's runs under an experiment, open-vocab's under retrain)."""
    import mlflow

    tags = dict(tags or {})
    if parent_run_id:
        tags["mlflow.parentRunId"] = parent_run_id
    return mlflow.start_run(
        run_name=run_name,
        tags=tags or None,
        experiment_id=mlflow.get_run(parent_run_id).info.experiment_id if parent_run_id else None,
        nested=bool(parent_run_id),
    )


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
