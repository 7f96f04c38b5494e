"""The experiment job: seeds under one parent run, one bootstrapped run for a deterministic strategy."""

import mlflow
import pytest

from experiments.experiment import ExperimentConfig, run_experiment

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def private_work_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TUBETAGS_WORK_DIR", str(tmp_path / "work"))


def test_seeds_run_under_one_parent_and_zero_shot_gets_a_bootstrap(tiny_corpus, mlflow_store):
    out = run_experiment(
        ExperimentConfig.load(
            {"seeds": 2, "strategies": "baseline,zero_shot", "quick": True, "corpus": tiny_corpus.root}
        )
    )
    assert [len(out["results"][s]) for s in ("baseline", "zero_shot")] == [2, 1]
    children = mlflow.search_runs(
        filter_string=f"tags.mlflow.parentRunId = '{out['parent_run_id']}'", output_format="list"
    )
    assert sorted(r.data.tags["strategy"] for r in children) == ["baseline", "baseline", "zero_shot"]
    assert sorted(r.data.params["seed"] for r in children if r.data.tags["strategy"] == "baseline") == ["0", "1"]
    zero_shot = next(r for r in children if r.data.tags["strategy"] == "zero_shot")
    m = zero_shot.data.metrics
    assert m["test_p_at_5_ci_low"] <= m["test_p_at_5"] <= m["test_p_at_5_ci_high"]
    parent = mlflow.get_run(out["parent_run_id"])
    assert parent.data.metrics["wall_seconds_total"] > 0
    assert {r.info.experiment_id for r in children} == {parent.info.experiment_id}
    # The parent row says which strategy won: per strategy the mean test P@5 over its runs and its CI, the chart.
    for strategy in ("baseline", "zero_shot"):
        p5 = out["summary"][strategy]["metrics"]["test_p_at_5"]
        runs = [r.data.metrics["test_p_at_5"] for r in children if r.data.tags["strategy"] == strategy]
        assert parent.data.metrics[f"{strategy}_test_p_at_5"] == pytest.approx(sum(runs) / len(runs))
        low, high = (parent.data.metrics[f"{strategy}_test_p_at_5_ci_{end}"] for end in ("low", "high"))
        assert (low, high) == (p5["low"], p5["high"]) and low <= p5["mean"] <= high
    means = {s: parent.data.metrics[f"{s}_test_p_at_5"] for s in ("baseline", "zero_shot")}
    assert parent.data.tags["best_strategy"] == max(means, key=means.get)
    client = mlflow.MlflowClient()
    assert [a.path for a in client.list_artifacts(parent.info.run_id, "reports")] == ["reports/comparison.png"]
    # Every training run names the corpus splits it used, with the corpus build's checksums.
    for child in children:
        logged = {d.dataset.name: d.dataset.digest for d in child.inputs.dataset_inputs}
        assert logged == {
            f"ted-{split}": tiny_corpus.split_digest("ted", split)[:12] for split in ("train", "valid", "test")
        }
    assert client.get_experiment(parent.info.experiment_id).tags["mlflow.experimentKind"] == "custom_model_development"


def test_children_follow_a_parent_in_another_experiment(tiny_corpus, mlflow_store, monkeypatch):
    """As under `mlflow run -e experiment --experiment-name X`: the children must land in X too."""
    experiment_id = mlflow.create_experiment("elsewhere")
    outer = mlflow.MlflowClient().create_run(experiment_id, run_name="from mlflow run")
    # What `mlflow run --experiment-name elsewhere` hands its command:
    monkeypatch.setenv("MLFLOW_RUN_ID", outer.info.run_id)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", experiment_id)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME")
    mlflow.set_experiment(experiment_id=experiment_id)
    out = run_experiment(
        ExperimentConfig.load({"seeds": 1, "strategies": ["baseline"], "quick": True, "corpus": tiny_corpus.root})
    )
    child = mlflow.get_run(out["results"]["baseline"][0]["run_id"])
    assert out["parent_run_id"] == outer.info.run_id
    assert child.info.experiment_id == experiment_id


def test_resume_adds_the_runs_of_a_second_part_to_the_same_experiment_run(tiny_corpus, mlflow_store):
    """--resume RUN: an experiment run in parts (or interrupted) is one parent, so compare reads every arm."""
    settings = {"seeds": 1, "quick": True, "corpus": tiny_corpus.root}
    first = run_experiment(ExperimentConfig.load(settings | {"strategies": ["baseline"]}))
    second = run_experiment(
        ExperimentConfig.load(settings | {"strategies": ["bilstm"], "resume": first["parent_run_id"]})
    )
    assert second["parent_run_id"] == first["parent_run_id"]
    children = mlflow.search_runs(
        filter_string=f"tags.mlflow.parentRunId = '{first['parent_run_id']}'", output_format="list"
    )
    assert sorted(r.data.tags["strategy"] for r in children) == ["baseline", "bilstm"]
    assert set(second["summary"]) == {"baseline", "bilstm"}  # the parent's headline covers both parts
    assert mlflow.get_run(first["parent_run_id"]).data.metrics.keys() >= {
        "baseline_test_p_at_5",
        "bilstm_test_p_at_5",
    }
