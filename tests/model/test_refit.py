"""The production refit: the chosen held-out version trained again on train+valid(+test) with its settings,
registered as production and tagged with the version it was refit from; the hybrid fits on the held-out one."""

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


def test_refit_trains_on_everything_with_the_held_out_settings(tiny_corpus, mlflow_store, tmp_path):
    held_out = train(
        TrainConfig.load({"strategy": "baseline", "quick": True, "corpus": tiny_corpus.root, "params": {"epochs": 3}})
    )
    best = held_out["metrics"]["best_epoch"]
    assert 1 <= best <= 3
    registry.set_alias(registry.PRODUCTION, held_out["version"])

    out = refit(RefitConfig.load({"corpus": tiny_corpus.root, "out": tmp_path / "reports"}))
    assert out["held_out_version"] == str(held_out["version"]) and out["params"]["epochs"] == best
    # train+valid is scored on test; the refit (trained on test) is not scored at all.
    measured = mlflow.get_run(out["train_valid"]["run_id"])
    assert measured.data.tags["fit_splits"] == "train+valid" and "test_p_at_5" in measured.data.metrics
    assert (
        measured.data.tags["mlflow.parentRunId"]
        == mlflow.get_run(out["refit"]["run_id"]).data.tags["mlflow.parentRunId"]
    )  # both trainings are children of the refit job's run
    final = mlflow.get_run(out["refit"]["run_id"])
    assert final.data.tags["fit_splits"] == "train+valid+test"
    assert not any(k.startswith(("test_", "valid_")) for k in final.data.metrics)
    production = registry.version_behind(registry.PRODUCTION)
    assert str(production.version) == str(out["refit"]["version"]) != str(held_out["version"])
    assert production.tags[registry.REFIT_OF] == str(held_out["version"])
    assert f"refit of version {held_out['version']}, held-out test P@5 {held_out['metrics']['test_p_at_5']:.3f}." in (
        production.description
    )
    assert registry.held_out_version(registry.PRODUCTION) == str(held_out["version"])
    assert registry.load_registered_predictor(registry.PRODUCTION).init_params()["epochs"] == best
    report = (tmp_path / "reports" / "refit.md").read_text()
    assert "| train+valid+test | — (trained on it)" in report and "moves test P@5 by" in report

    # A refit of a refit starts again from the held-out version.
    assert refit(RefitConfig.load({"corpus": tiny_corpus.root, "out": tmp_path / "again", "measure": False}))[
        "held_out_version"
    ] == str(held_out["version"])

    # The hybrid fits its merge with the held-out closed model and serves the refit one.
    refit_version = str(registry.version_behind(registry.PRODUCTION).version)
    hybrid = run_open_vocab(
        OpenVocabConfig.load({"corpus": tiny_corpus.root, "out": tmp_path / "reports", "promote": True})
    )
    tags = mlflow.MlflowClient().get_model_version(registry.registered_model(), hybrid["version"]).tags
    assert tags[CLOSED_HELD_OUT_VERSION] == str(held_out["version"])
    assert tags[CLOSED_VERSION] == refit_version != tags[CLOSED_HELD_OUT_VERSION]
    served = registry.load_version_predictor(hybrid["version"])
    assert served.closed.init_params()["epochs"] == best

    # A hybrid is not a strategy the experiment trains: refitting it is refused with what to do instead.
    registry.set_alias(registry.PRODUCTION, hybrid["version"])
    with pytest.raises(RefitError, match="run compare first"):
        refit(RefitConfig.load({"corpus": tiny_corpus.root, "out": tmp_path / "r3", "measure": False}))
