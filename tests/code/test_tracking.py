"""What MLflow holds about our runs, read back through MlflowClient as the UI reads it: the experiment kind, the
corpus splits each run used (dataset inputs, told apart by corpus build), and the registry's descriptions."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import mlflow
import pytest

from tubetags import registry, tracking
from tubetags.corpus import Corpus

sys.path.insert(0, str(Path(__file__).resolve().parent / "webapp"))  # tiny_registry: synthetic videos, as a corpus

from tiny_registry import write_corpus  # noqa: E402

KIND = tracking.EXPERIMENT_KIND_TAG
SPLITS = ("train", "valid", "test")


def kind_of(name: str) -> str | None:
    return mlflow.MlflowClient().get_experiment_by_name(name).tags.get(KIND)


def test_configure_marks_the_experiments_it_selects_as_model_training(mlflow_store, monkeypatch, tmp_path):
    client = mlflow.MlflowClient()
    artifacts = (tmp_path / "artifacts").as_uri()
    assert kind_of("tests") is None  # made without the tag, as every experiment before it
    tracking.configure("tests")
    assert kind_of("tests") == "custom_model_development"
    client.create_experiment("chosen-in-the-ui", artifacts, tags={KIND: "genai_development"})
    tracking.configure("chosen-in-the-ui")
    assert kind_of("chosen-in-the-ui") == "genai_development"  # a kind someone chose stays
    # As `mlflow run --experiment-name made-by-mlflow-run` starts a job: MLflow made the experiment and the run.
    made = client.create_experiment("made-by-mlflow-run", artifacts)
    monkeypatch.setenv("MLFLOW_RUN_ID", client.create_run(made).info.run_id)
    tracking.configure("tubetags")
    assert kind_of("made-by-mlflow-run") == "custom_model_development"
    assert client.get_experiment_by_name("tubetags") is None  # the run's experiment, not the name, is used


def test_runs_page_url_opens_the_training_runs(mlflow_store):
    experiment_id = mlflow.get_experiment_by_name("tests").experiment_id
    url = tracking.runs_page_url("http://127.0.0.1:5000/", "tests")
    assert url == f"http://127.0.0.1:5000/#/experiments/{experiment_id}/runs?workflowType=machine_learning"
    assert tracking.runs_page_url("http://h:1", "none yet") == "http://h:1/#/experiments?workflowType=machine_learning"


def run_inputs(run_id: str) -> dict[str, dict]:
    inputs = mlflow.MlflowClient().get_run(run_id).inputs.dataset_inputs
    return {
        d.dataset.name: {
            "digest": d.dataset.digest,
            "source": json.loads(d.dataset.source),
            "source_type": d.dataset.source_type,
            "profile": json.loads(d.dataset.profile),
            "context": {t.key: t.value for t in d.tags}["mlflow.data.context"],
        }
        for d in inputs
    }


def test_runs_log_the_corpus_splits_they_used(mlflow_store, tmp_path):
    corpus = Corpus.open(write_corpus(tmp_path / "corpus"))
    with mlflow.start_run() as held_out:
        tracking.log_corpus_inputs(corpus, "ted", ["train"])
    with mlflow.start_run() as refit:
        tracking.log_corpus_inputs(corpus, "ted", ["train", "valid", "test"])

    logged = run_inputs(held_out.info.run_id)
    assert {name: d["context"] for name, d in logged.items()} == {
        "ted-train": "training",
        "ted-valid": "validation",
        "ted-test": "testing",
    }
    for split in SPLITS:
        entry = logged[f"ted-{split}"]
        assert entry["digest"] == corpus.split_digest("ted", split)[: tracking.DIGEST_CHARS]
        assert entry["source_type"] == "local"
        assert entry["source"] == {"uri": str((corpus.root / "manifest.json").resolve())}
        assert entry["profile"]["rows"] == corpus.size("ted", split)
    assert len({d["digest"] for d in logged.values()}) == 3
    assert {d["context"] for d in run_inputs(refit.info.run_id).values()} == {"training"}


def test_two_corpus_builds_are_told_apart(mlflow_store, tmp_path):
    """The same videos built twice give the same digests; other videos (another build) other digests."""
    builds = [Corpus.open(write_corpus(tmp_path / name, seed=seed)) for name, seed in (("a", 0), ("b", 0), ("c", 1))]
    digests = []
    for corpus in builds:
        with mlflow.start_run() as run:
            tracking.log_corpus_inputs(corpus, "ted", ["train"])
        digests.append({name: d["digest"] for name, d in run_inputs(run.info.run_id).items()})
    assert digests[0] == digests[1]
    assert all(digests[0][f"ted-{s}"] != digests[2][f"ted-{s}"] for s in SPLITS)


@pytest.mark.slow
def test_versions_and_the_model_describe_themselves(mlflow_store, tmp_path, monkeypatch):
    """Real (tiny) trainings through the train job, as the experiment and the refit register them."""
    from experiments.train import TrainConfig, train

    monkeypatch.setenv("TUBETAGS_WORK_DIR", str(tmp_path / "work"))
    corpus = Corpus.open(write_corpus(tmp_path / "corpus"))
    base = {"strategy": "baseline", "seed": 3, "quick": True, "corpus": corpus.root}
    held_out = train(TrainConfig.load(base))
    client, name = mlflow.MlflowClient(), registry.registered_model()
    run = client.get_run(held_out["run_id"])

    text = client.get_model_version(name, held_out["version"]).description
    p5 = f"{held_out['metrics']['test_p_at_5']:.3f}"
    assert text.startswith(f"baseline, seed 3, trained on train: test P@5 {p5}.\n")  # the versions list shows this
    assert "(a) TF-IDF + linear classifiers (scikit-learn)" in text
    assert f"Run [baseline-seed3](#/experiments/{run.info.experiment_id}/runs/{run.info.run_id})." in text
    digest = corpus.split_digest("ted", "train")[: tracking.DIGEST_CHARS]
    assert f"ted-train `{digest}` (training)" in text and "(testing)" in text

    # The refit job's steps: train on everything, tag the version, describe it again.
    refit = train(TrainConfig.load(base | {"fit_splits": ["train", "valid", "test"]}))
    registry.tag_version(refit["version"], {registry.REFIT_OF: held_out["version"]})
    text = registry.describe_version(refit["version"])
    assert text == client.get_model_version(name, refit["version"]).description
    assert text.startswith(
        f"baseline, seed 3, trained on train+valid+test: refit of version {held_out['version']}, held-out test P@5 {p5}."
    )
    assert f"its quality is version {held_out['version']}'s held-out test P@5 (run [baseline-seed3](" in text

    registry.promote({"baseline": held_out["version"]}, "baseline")
    registry.set_alias(registry.PRODUCTION, refit["version"])
    described = client.get_registered_model(name).description
    rows = [line for line in described.splitlines() if line.startswith("| `")]
    assert rows == [
        f"| `production` | {refit['version']} | the web app's default model: baseline, refit of version {held_out['version']} |",
        f"| `baseline` | {held_out['version']} | baseline's best held-out version in the latest comparison: "
        "(a) TF-IDF + linear classifiers (scikit-learn) |",
    ]
