"""Model behaviour: every strategy end to end on a tiny real corpus with quick settings, through
MLflow (params, metrics, registered model) and back through the pyfunc contract."""

from __future__ import annotations

import mlflow
import pandas as pd
import pytest

from experiments.train import TrainConfig, train
from tubetags import registry

pytestmark = pytest.mark.slow

CLIMATE = (
    "Today I want to talk about climate change. The planet is warming because we burn coal, oil and gas, "
    "and carbon dioxide traps heat in the atmosphere. Renewable energy from the sun and the wind can "
    "replace fossil fuels, and electric cars can cut emissions. "
) * 12


@pytest.fixture(autouse=True)
def private_work_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TUBETAGS_WORK_DIR", str(tmp_path / "work"))


def _train_and_load(strategy, tiny_corpus, overrides=()):
    config = TrainConfig.load(
        {"strategy": strategy, "quick": True, "corpus": tiny_corpus.root, "params": dict(overrides)}
    )
    result = train(config)
    run = mlflow.get_run(result["run_id"])
    assert run.data.params["strategy"] == strategy
    for key in ("test_p_at_5", "test_ndcg_at_10", "valid_p_at_1", "test_lrap", "test_micro_f1", "fit_seconds"):
        assert key in run.data.metrics
    client = mlflow.MlflowClient()
    version = client.get_model_version(registry.registered_model(), result["version"])
    assert version.tags["strategy"] == strategy
    client.set_registered_model_alias(registry.registered_model(), registry.STRATEGY_ALIASES[strategy], version.version)
    model = mlflow.pyfunc.load_model(registry.model_uri(registry.STRATEGY_ALIASES[strategy]))
    return result, model


def _check_contract(model, vocabulary, k=7):
    out = model.predict(
        pd.DataFrame({"transcript": [CLIMATE, "a second, different transcript " * 20]}), params={"k": k}
    )
    assert list(out.columns) == ["tags", "scores", "sources"] and len(out) == 2
    assert all(set(sources) == {"closed"} for sources in out["sources"])  # closed-vocabulary strategies
    for tags, scores in zip(out["tags"], out["scores"]):
        assert len(tags) == len(scores) == k
        assert set(tags) <= set(vocabulary)
        assert list(scores) == sorted(scores, reverse=True)
        assert all(0.0 <= s <= 1.0 for s in scores)
    return out


def test_baseline_end_to_end(tiny_corpus, mlflow_store):
    result, model = _train_and_load("baseline", tiny_corpus)
    out = _check_contract(model, tiny_corpus.vocabulary("ted"))
    assert result["metrics"]["test_p_at_5"] > 0.1  # well above chance (~7/332 per slot)
    assert {"climate change", "environment", "energy"} & set(out["tags"][0][:7])


def test_bilstm_end_to_end(tiny_corpus, mlflow_store):
    result, model = _train_and_load("bilstm", tiny_corpus)
    _check_contract(model, tiny_corpus.vocabulary("ted"))
    history = mlflow.MlflowClient().get_metric_history(result["run_id"], "curve_loss")
    assert len(history) >= 1  # a training curve per epoch


def test_encoder_head_through_a_hub_handle(tiny_corpus, mlflow_store, glove_handle):
    result, model = _train_and_load("encoder_head", tiny_corpus, {"encoder": glove_handle})
    _check_contract(model, tiny_corpus.vocabulary("ted"))
    assert mlflow.get_run(result["run_id"]).data.params["model.encoder"] == glove_handle


def test_encoder_head_with_minilm(tiny_corpus, mlflow_store):
    result, model = _train_and_load("encoder_head", tiny_corpus)
    _check_contract(model, tiny_corpus.vocabulary("ted"))
    assert result["metrics"]["test_p_at_5"] > 0.1


def test_fast_encoder_head_end_to_end(tiny_corpus, mlflow_store):
    # The (c, fast) arm: model2vec vectors. Quick's 3 epochs (9 steps on 160 talks) leave a standardised-input
    # head short of even the tag prior.
    result, model = _train_and_load("encoder_head_fast", tiny_corpus, {"epochs": 30})
    assert mlflow.get_run(result["run_id"]).data.params["model.encoder"] == "model2vec"
    _check_contract(model, tiny_corpus.vocabulary("ted"))
    assert result["metrics"]["test_p_at_5"] > 0.1
    assert mlflow.get_run(result["run_id"]).data.params["model.standardize"].lower() == "true"


def test_zero_shot_with_model2vec(tiny_corpus, mlflow_store):
    result, model = _train_and_load("zero_shot", tiny_corpus, {"encoder": "model2vec"})
    out = _check_contract(model, tiny_corpus.vocabulary("ted"))
    energy_and_climate = {
        "climate change",
        "energy",
        "wind energy",
        "solar energy",
        "nuclear energy",
        "environment",
        "renewable energy",
        "global issues",
        "sustainability",
    }
    assert len(energy_and_climate & set(out["tags"][0][:3])) >= 2


def test_zero_shot_ranks_by_meaning_without_training(tiny_corpus, mlflow_store):
    result, model = _train_and_load("zero_shot", tiny_corpus)
    out = _check_contract(model, tiny_corpus.vocabulary("ted"))
    assert "climate change" in out["tags"][0][:3]
