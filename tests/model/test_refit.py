"""The refit of every arm: each strategy's chosen held-out version trained again on train+valid (scored) and on
train+valid+test with its settings (registered, tagged with the version it was refit from); production is chosen
among the refits by the promotion rule; the hybrid fits on the held-out version and serves the refit."""

import mlflow
import pytest

from experiments.open_vocab import CLOSED_HELD_OUT_VERSION, CLOSED_VERSION, OpenVocabConfig
from experiments.open_vocab import run as run_open_vocab
from experiments.refit import RefitConfig, RefitError, refit
from experiments.train import TrainConfig, train
from tubetags import registry

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def private_work_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TUBETAGS_WORK_DIR", str(tmp_path / "work"))


def test_refit_trains_every_arm_on_everything_with_the_held_out_settings(tiny_corpus, mlflow_store, tmp_path):
    held_out = train(
        TrainConfig.load({"strategy": "baseline", "quick": True, "corpus": tiny_corpus.root, "params": {"epochs": 3}})
    )
    zero_shot = train(
        TrainConfig.load(
            {"strategy": "zero_shot", "quick": True, "corpus": tiny_corpus.root, "params": {"encoder": "model2vec"}}
        )
    )
    best = held_out["metrics"]["best_epoch"]
    assert 1 <= best <= 3
    # As compare leaves the registry: each strategy's alias at its chosen version, production at the winner's.
    registry.promote({"baseline": held_out["version"], "zero_shot": zero_shot["version"]}, "baseline")

    with pytest.raises(RefitError, match="run compare first"):
        refit(RefitConfig.load({"strategies": "bilstm", "corpus": tiny_corpus.root, "out": tmp_path / "none"}))
    out = refit(
        RefitConfig.load(
            {"strategies": "baseline,zero_shot,bilstm", "corpus": tiny_corpus.root, "out": tmp_path / "reports"}
        )
    )
    assert "run compare first" in out["skipped"]["bilstm"]
    baseline = out["strategies"]["baseline"]
    assert baseline["held_out_version"] == str(held_out["version"]) and baseline["params"]["epochs"] == best
    # train+valid is scored on test (with a bootstrap CI); the refit (trained on test) is not scored at all.
    measured = mlflow.get_run(baseline["train_valid"]["run_id"])
    assert measured.data.tags["fit_splits"] == "train+valid" and "test_p_at_5" in measured.data.metrics
    low, high = baseline["train_valid"]["ci"]
    assert low <= baseline["train_valid"]["test_p_at_5"] <= high
    assert (
        measured.data.tags["mlflow.parentRunId"]
        == mlflow.get_run(baseline["refit"]["run_id"]).data.tags["mlflow.parentRunId"]
    )  # both trainings are children of the refit job's run
    final = mlflow.get_run(baseline["refit"]["run_id"])
    assert final.data.tags["fit_splits"] == "train+valid+test"
    assert not any(k.startswith(("test_", "valid_")) for k in final.data.metrics)
    # zero-shot learns nothing from the labels: it is its own refit, judged by its held-out score.
    assert out["strategies"]["zero_shot"]["refit"]["version"] == str(zero_shot["version"])
    assert "train_valid" not in out["strategies"]["zero_shot"]

    # Production is chosen among the refits by the rule (no latency measured here: P@5 alone decides).
    winner = out["production"]["strategy"]
    scores = {name: (e.get("train_valid") or e["held_out"])["test_p_at_5"] for name, e in out["strategies"].items()}
    assert winner == max(scores, key=scores.get) and "P@5 alone decides" in out["production"]["reason"]
    production = registry.version_behind(registry.PRODUCTION)
    assert str(production.version) == out["production"]["version"]
    refit_version = registry.load_version_predictor(baseline["refit"]["version"])
    assert refit_version.init_params()["epochs"] == best
    tags = mlflow.MlflowClient().get_model_version(registry.registered_model(), baseline["refit"]["version"]).tags
    assert tags[registry.REFIT_OF] == str(held_out["version"])
    description = mlflow.MlflowClient().get_model_version(registry.registered_model(), baseline["refit"]["version"])
    p5 = held_out["metrics"]["test_p_at_5"]
    assert f"refit of version {held_out['version']}, held-out test P@5 {p5:.3f}." in description.description
    report = (tmp_path / "reports" / "refit.md").read_text()
    assert "| baseline | " in report and "| zero_shot | " in report and "newer data is worth" in report
    assert out["production"]["reason"] in report

    # A refit of a refit starts again from the held-out version.
    again = refit(
        RefitConfig.load(
            {"strategies": "baseline", "corpus": tiny_corpus.root, "out": tmp_path / "again", "measure": False}
        )
    )
    assert again["strategies"]["baseline"]["held_out_version"] == str(held_out["version"])
    assert registry.held_out_version(registry.PRODUCTION) == str(held_out["version"])

    # The hybrid fits its merge with the held-out closed model and serves the refit one.
    refit_version = again["production"]["version"]
    assert again["production"]["strategy"] == "baseline" and registry.aliases()[registry.PRODUCTION] == refit_version
    hybrid = run_open_vocab(
        OpenVocabConfig.load({"corpus": tiny_corpus.root, "out": tmp_path / "reports", "promote": True})
    )
    tags = mlflow.MlflowClient().get_model_version(registry.registered_model(), hybrid["version"]).tags
    assert tags[CLOSED_HELD_OUT_VERSION] == str(held_out["version"])
    assert tags[CLOSED_VERSION] == refit_version != tags[CLOSED_HELD_OUT_VERSION]
    served = registry.load_version_predictor(hybrid["version"])
    assert served.closed.init_params()["epochs"] == best
