"""`mlflow run . -e train_<strategy>` as a user types it: each strategy's own entry point, quick settings.

Runs the real MLproject through MLflow's local backend in a subprocess, on the tiny corpus, in a private
tracking store, and checks that each run finished, trained its strategy and registered a model.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest

from tubetags import settings
from tubetags.strategies import STRATEGIES

pytestmark = pytest.mark.slow

ENTRY_POINTS = {s.entry_point: name for name, s in STRATEGIES.items() if s.entry_point}


@pytest.fixture(scope="module")
def store(tiny_corpus, tmp_path_factory):
    """One tracking store and work dir for the module, so that later runs reuse the encoders' caches."""
    root = tmp_path_factory.mktemp("entry_points")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = mlflow.MlflowClient(uri)
    client.create_experiment("entry-points", artifact_location=(root / "artifacts").as_uri())
    env = dict(
        os.environ,
        MLFLOW_TRACKING_URI=uri,
        TUBETAGS_WORK_DIR=str(root / "work"),
        TUBETAGS_CORPUS_DIR=str(tiny_corpus.root),
        PYTHONPATH=str(settings.REPO_ROOT),
    )
    # What earlier tests' mlflow.set_experiment()/start_run() leave in the environment would choose the
    # experiment for `mlflow run` too (it refuses both a name and an id).
    for name in ("MLFLOW_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_ID", "MLFLOW_RUN_ID"):
        env.pop(name, None)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return client, env


@pytest.mark.parametrize("entry_point", sorted(ENTRY_POINTS))
def test_strategy_entry_point_trains_and_registers(store, entry_point):
    client, env = store
    done = subprocess.run(
        [
            "mlflow",
            "run",
            ".",
            "-e",
            entry_point,
            "--env-manager",
            "local",
            "--experiment-name",
            "entry-points",
            "-P",
            "quick=true",
        ],
        cwd=settings.REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    experiment = client.get_experiment_by_name("entry-points")
    runs = client.search_runs([experiment.experiment_id], f"tags.strategy = '{ENTRY_POINTS[entry_point]}'")
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"
    assert 0 <= runs[0].data.metrics["test_p_at_5"] <= 1 and runs[0].data.params["quick"] == "true"
    versions = client.search_model_versions(f"run_id = '{runs[0].info.run_id}'")
    assert [v.tags["strategy"] for v in versions] == [ENTRY_POINTS[entry_point]]
