"""retrain end to end on a small corpus cut from the real files, with simulated newer talks arriving.

The sources hold the oldest TED talks; production is a baseline trained on them. Then newer talks arrive in two
batches (the next-newest talks of the real file): retrain sees them, rebuilds the corpus, trains the challenger
without the newest slice, scores both on it, and promotes or refuses by the rule, saying why each time.
"""

from __future__ import annotations

import mlflow
import pandas as pd
import pytest

from experiments.retrain import RETRAINED_FROM, RetrainConfig, retrain
from experiments.train import TrainConfig, train
from pipelines.build_corpus import BuildConfig, build
from tubetags import registry, settings

pytestmark = pytest.mark.slow

OLD_TALKS, BATCH = 260, 60


@pytest.fixture()
def sources(tmp_path, monkeypatch):
    """A private data dir with the oldest TED talks and some YouTube videos; `arrive(n)` adds the next n talks."""
    real = settings.data_dir()
    if not (real / settings.SOURCE_FILES["ted"]).exists():
        pytest.skip(f"source data not found in {real} (see ../shared/README.md)")
    ted = pd.read_csv(real / settings.SOURCE_FILES["ted"], dtype=str, keep_default_na=False)
    ted = ted[ted["transcript"].str.split().str.len() > 300].sort_values("published", kind="stable")
    youtube = pd.read_csv(real / settings.SOURCE_FILES["youtube"], dtype=str, keep_default_na=False).head(80)
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("TUBETAGS_DATA_DIR", str(data))
    monkeypatch.setenv("TUBETAGS_WORK_DIR", str(tmp_path / "work"))
    youtube.to_csv(data / settings.SOURCE_FILES["youtube"], index=False)
    state = {"talks": OLD_TALKS}

    def arrive(n: int = 0) -> None:
        state["talks"] += n
        ted.head(state["talks"]).to_csv(data / settings.SOURCE_FILES["ted"], index=False)

    arrive()
    return arrive


def _retrain(corpus, tmp_path, **settings_) -> dict:
    return retrain(RetrainConfig.load({"corpus": corpus, "out": tmp_path / "reports", **settings_}))


def test_retrain_promotes_or_refuses_and_says_why(sources, mlflow_store, tmp_path):
    corpus = tmp_path / "corpus"
    build(BuildConfig.load({"output": corpus, "track": False, "min_tag_freq": 3}))
    production = train(TrainConfig.load({"strategy": "baseline", "quick": True, "corpus": corpus}))["version"]
    registry.set_alias(registry.PRODUCTION, production)

    # Nothing new, no drift: nothing is trained.
    quiet = _retrain(corpus, tmp_path, min_new_videos=10)
    assert quiet["decision"] == "skipped" and "nothing to do" in quiet["reason"]
    assert mlflow.get_run(quiet["run_id"]).data.tags["decision"] == "skipped"

    # Newer talks arrive; the retrained model must beat production by an impossible margin: refused, kept.
    sources(BATCH)
    refused = _retrain(corpus, tmp_path, min_new_videos=BATCH, min_gain=1.0)
    assert refused["new_labelled_videos"]["ted"] == BATCH
    assert refused["decision"] == "refused" and "below the required +1.000" in refused["reason"]
    assert 0 < refused["slice"]["videos"] <= refused["slice"]["test_split"]
    assert set(refused["scores"]) == {"retrained", "production"}
    assert registry.aliases()[registry.PRODUCTION] == str(production)
    run = mlflow.get_run(refused["run_id"])
    assert run.data.tags["decision"] == "refused" and "retrained_slice_p_at_5" in run.data.metrics
    assert "**refused**" in (tmp_path / "reports" / "retrain.md").read_text()

    # A drift alarm with no new labelled talks: retraining on the same talks is refused, with what to do instead.
    monitor = mlflow.create_experiment("tubetags-monitor", artifact_location=(tmp_path / "monitor").as_uri())
    with mlflow.start_run(experiment_id=monitor, run_name="monitor"):
        mlflow.set_tag("drift_alarm", "true")
        mlflow.log_metric("max_psi", 0.4)
    drifted = _retrain(corpus, tmp_path, min_new_videos=10_000)
    assert any("drift alarm" in t for t in drifted["triggers"])
    assert drifted["decision"] == "refused" and "tubetags ingest" in drifted["reason"]

    # More talks arrive; not worse (by the rule) is enough: promoted, trained on everything, tagged.
    sources(BATCH)
    promoted = _retrain(corpus, tmp_path, min_new_videos=BATCH, min_gain=-1.0)
    assert promoted["decision"] == "promoted" and "promoted:" in promoted["reason"]
    new = registry.version_behind(registry.PRODUCTION)
    assert str(new.version) == promoted["new_version"] != str(production)
    assert new.tags[RETRAINED_FROM] == str(production) and new.tags[registry.REFIT_OF] == str(production)
    assert new.tags["fit_splits"] == "train+valid+test"
    assert f"Retrained from version {production}: on the " in new.description  # the UI says why it was made
    # The drift alarm came before this production: it no longer triggers anything.
    assert _retrain(corpus, tmp_path, min_new_videos=10)["decision"] == "skipped"


def test_retrain_rebuilds_a_hybrid_production_around_the_new_closed_model(sources, mlflow_store, tmp_path):
    from experiments.open_vocab import OPEN_VOCAB_ALIAS, OpenVocabConfig
    from experiments.open_vocab import run as run_open_vocab

    corpus = tmp_path / "corpus"
    build(BuildConfig.load({"output": corpus, "track": False, "min_tag_freq": 3}))
    closed = train(TrainConfig.load({"strategy": "baseline", "quick": True, "corpus": corpus}))["version"]
    registry.set_alias(registry.PRODUCTION, closed)
    # Small open-vocab settings (as its own test's), used again when retrain rebuilds the hybrid.
    light = {"folds": 2, "history_orders": 1, "ablation": False, "loco": False, "out": tmp_path / "open_vocab"}
    hybrid = run_open_vocab(OpenVocabConfig.load(light | {"corpus": corpus, "promote": False}))["version"]
    registry.set_alias(registry.PRODUCTION, hybrid)  # production serves the hybrid, whatever the rule said

    sources(BATCH)
    promoted = _retrain(corpus, tmp_path, min_new_videos=BATCH, min_gain=-1.0, open_vocab=light)
    assert promoted["decision"] == "promoted"
    # The challenger was production's closed part, scored against it; then the hybrid was rebuilt around the new one.
    assert promoted["served_closed_version"] == str(closed) and promoted["strategy"] == "baseline"
    new_closed, new_hybrid = promoted["new_version"], promoted["hybrid_version"]
    assert new_hybrid not in (str(hybrid), new_closed)
    assert registry.aliases()[OPEN_VOCAB_ALIAS] == new_hybrid
    assert registry.aliases()[registry.PRODUCTION] in (new_hybrid, new_closed)  # open-vocab's own rule decides
    assert f"Closed model: version {new_closed}" in registry.version_behind(OPEN_VOCAB_ALIAS).description
    assert registry.load_version_predictor(new_hybrid).closed is not None
    # The rebuild is logged as a child of the retrain run (it used to fail: a second top-level run inside one).
    assert mlflow.get_run(promoted["hybrid_run_id"]).data.tags["mlflow.parentRunId"] == promoted["run_id"]
