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
