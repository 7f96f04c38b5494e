"""Shared fixtures: a corpus built from the real files, a tiny corpus cut from it, an MLflow store."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def real_corpus(tmp_path_factory):
    """The corpus built from ../shared/data exactly as build_corpus does (no MLflow run)."""
    from pipelines.build_corpus import BuildConfig, build
    from tubetags import settings
    from tubetags.corpus import Corpus

    if not (settings.data_dir() / settings.SOURCE_FILES["ted"]).exists():
        pytest.skip(f"source data not found in {settings.data_dir()} (see ../shared/README.md)")
    out = tmp_path_factory.mktemp("corpus")
    build(BuildConfig(output=out))
    return Corpus.open(out)


@pytest.fixture(scope="session")
def tiny_corpus(real_corpus, tmp_path_factory):
    """A few hundred real TED talks (and YouTube videos) with the real vocabulary: quick end-to-end runs."""
    import json

    from data_contracts import RECORD_FIELDS
    from tubetags.corpus import MANIFEST, write_shards

    out = tmp_path_factory.mktemp("tiny_corpus")
    manifest = json.loads(json.dumps(real_corpus.manifest))
    sizes = {"train": 160, "valid": 40, "test": 40}
    for dataset, info in manifest["datasets"].items():
        for split, n in sizes.items():
            rows = [dict(r) for _, r in zip(range(n), real_corpus.split(dataset, split).records(columns=RECORD_FIELDS))]
            shards = write_shards(rows, out / dataset / split, rows_per_shard=64)
            for shard in shards:
                shard["path"] = str(Path(shard["path"]).relative_to(out))
            info["splits"][split].update(rows=len(rows), shards=shards)
    (out / MANIFEST).write_text(json.dumps(manifest))
    from tubetags.corpus import Corpus

    return Corpus.open(out)


@pytest.fixture(scope="session")
def glove_handle(tmp_path_factory):
    """A small offline text encoder (mean GloVe vectors as a TF-Hub SavedModel): a fast stand-in for MiniLM."""
    from scripts.export_glove_hub import export

    return str(export(tmp_path_factory.mktemp("hub") / "glove", words=20_000))


@pytest.fixture()
def mlflow_store(tmp_path, monkeypatch):
    """A private sqlite tracking store + registry for one test."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "tests")
    import mlflow

    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    if mlflow.get_experiment_by_name("tests") is None:
        mlflow.create_experiment("tests", artifact_location=(tmp_path / "artifacts").as_uri())
    mlflow.set_experiment("tests")
    yield uri
    mlflow.end_run()


@pytest.fixture(scope="session")
def spark():
    """One local[2] SparkSession for every Spark test (starting one costs seconds; jobs reuse the active one)."""
    from tubetags import spark as sparkutil

    if not sparkutil.java_available():
        pytest.skip("Spark needs Java 17: apt-get install -y openjdk-17-jre-headless (scripts/setup.sh does)")
    session = sparkutil.session("local[2]", "tubetags-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def tiny_model_store(tiny_corpus, tmp_path_factory):
    """A private tracking store + registry holding one quick baseline trained on the tiny corpus (TED train),
    as version 1 with alias `production`; the experiment `tests` keeps its artifacts in the temporary folder."""
    import mlflow

    from tubetags import registry
    from tubetags.strategies.baseline import TfidfLinearTagger

    root = tmp_path_factory.mktemp("tiny_model_store")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    experiment = mlflow.create_experiment("tests", artifact_location=(root / "artifacts").as_uri())
    model = TfidfLinearTagger(seed=0, epochs=2, max_features=5000, vectorizer_sample=200)
    model.fit(tiny_corpus.split("ted", "train"), tiny_corpus.split("ted", "valid"), tiny_corpus.vocabulary("ted"))
    with mlflow.start_run(experiment_id=experiment):
        info = registry.log_predictor(model, root / "work")
    registry.set_alias(registry.PRODUCTION, info.registered_model_version)
    mlflow.set_tracking_uri(previous[0])
    mlflow.set_registry_uri(previous[1])
    return uri


@pytest.fixture()
def tiny_model(tiny_model_store, monkeypatch):
    """Point MLflow (and the jobs this test runs) at `tiny_model_store`."""
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", tiny_model_store)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "tests")
    mlflow.set_tracking_uri(tiny_model_store)
    mlflow.set_registry_uri(tiny_model_store)
    mlflow.set_experiment("tests")
    yield tiny_model_store
    mlflow.end_run()
