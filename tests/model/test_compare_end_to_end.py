"""compare end to end: a quick 2-seed experiment in a private store, then reports, benchmarks,
registry aliases, and the production model back through the pyfunc contract."""

from __future__ import annotations

import json

import mlflow
import pandas as pd
import pytest

from experiments import compare
from experiments.experiment import ExperimentConfig, run_experiment
from tubetags import registry
from tubetags.jobs import run_job

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def private_work_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TUBETAGS_WORK_DIR", str(tmp_path / "work"))


def test_compare_end_to_end(tiny_corpus, mlflow_store, tmp_path):
    experiment = run_experiment(
        ExperimentConfig.load(
            {"seeds": 2, "strategies": "baseline,zero_shot", "quick": True, "corpus": tiny_corpus.root}
        )
    )
    out = tmp_path / "reports"
    # "tests" for both: a new experiment would put its artifacts in the real mlruns/ (tracking.configure).
    # Through the command line, as `make compare` runs it.
    result = run_job(
        compare.JOB,
        [
            "--experiment",
            "tests",
            "--out",
            str(out),
            "--latency-runs",
            "3",
            "--corpus",
            str(tiny_corpus.root),
            "--compare-experiment",
            "tests",
        ],
    )

    assert result["parent_run_id"] == experiment["parent_run_id"]
    for name in ("results.md", "results.json", "comparison.png", "error_analysis.md", "costs.md"):
        assert (out / name).stat().st_size > 0
    results_md = (out / "results.md").read_text()
    assert "## Production:" in results_md and "| baseline | 2 (Student t" in results_md
    assert "| zero_shot | 1 (bootstrap" in results_md
    for strategy in ("baseline", "zero_shot"):
        for stat in result["strategies"][strategy]["metrics"].values():
            assert stat["low"] <= stat["mean"] <= stat["high"]
        assert result["strategies"][strategy]["cost"]["latency_p50_ms"] > 0
        assert f"## {strategy}" in (out / "error_analysis.md").read_text()
        assert f"| {strategy} |" in (out / "costs.md").read_text()
    assert "## Where to run it" in (out / "costs.md").read_text()
    assert json.loads((out / "results.json").read_text())["production"]["strategy"] == result["production"]["strategy"]

    client = mlflow.MlflowClient()
    aliases = client.get_registered_model(registry.registered_model()).aliases
    assert {"production", "baseline", "zero-shot"} <= set(aliases)
    assert aliases["production"] == result["strategies"][result["production"]["strategy"]]["version"]
    parent_tags = client.get_run(experiment["parent_run_id"]).data.tags
    assert parent_tags["production_strategy"] == result["production"]["strategy"]
    assert parent_tags["compare_run_id"] == result["compare_run_id"]
    described = client.get_registered_model(registry.registered_model()).description
    assert f"| `production` | {aliases['production']} | the web app's default model: " in described
    assert f"| `baseline` | {aliases['baseline']} | baseline's best held-out version" in described
    artifacts = {a.path for a in client.list_artifacts(result["compare_run_id"], "reports")}
    assert "reports/comparison.png" in artifacts and "reports/error_analysis.md" in artifacts

    model = mlflow.pyfunc.load_model(registry.model_uri("production"))
    ranked = model.predict(
        pd.DataFrame({"transcript": ["climate change energy solar wind carbon " * 50]}), params={"k": 5}
    )
    tags, scores = ranked["tags"][0], ranked["scores"][0]
    assert len(tags) == len(scores) == 5 and list(scores) == sorted(scores, reverse=True)
