"""Save then load every strategy: the reloaded predictor has the same hyper-parameters and predictions.

Each predictor is built with non-default parameters, so a `load_state` that fell back to the
constructor's defaults would show in `params()`. Trained on one shard of the tiny corpus.
"""

from __future__ import annotations

import pytest

from tubetags.corpus import CorpusSplit
from tubetags.predictor import TagPredictor, load_predictor
from tubetags.strategies.baseline import TfidfLinearTagger
from tubetags.strategies.bilstm import BiLSTMTagger
from tubetags.strategies.encoder_head import EncoderHeadTagger
from tubetags.strategies.hybrid import HybridTagger
from tubetags.strategies.zero_shot import ZeroShotTagger

pytestmark = pytest.mark.slow

BASELINE = {"seed": 3, "epochs": 1, "alpha": 1e-3, "max_features": 3000, "vectorizer_sample": 50, "batch_size": 32}


@pytest.fixture(autouse=True)
def private_work_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TUBETAGS_WORK_DIR", str(tmp_path / "work"))


@pytest.fixture(scope="module")
def data(tiny_corpus):
    """(one train shard, the vocabulary, a few test transcripts)."""
    train = tiny_corpus.split("ted", "train")
    rows = tiny_corpus.manifest["datasets"]["ted"]["splits"]["train"]["shards"][0]["rows"]
    first = CorpusSplit(train.shards[:1], rows, "ted", "train")
    texts = [r["transcript"] for _, r in zip(range(4), tiny_corpus.split("ted", "test").records())]
    return first, tiny_corpus.vocabulary("ted"), texts


def _roundtrip(predictor: TagPredictor, data, tmp_path, fit: bool = True) -> TagPredictor:
    train, vocabulary, texts = data
    if fit:
        predictor.fit(train, None, vocabulary)
    before = predictor.predict(texts, 7)
    loaded = load_predictor(predictor.save(tmp_path / "saved"))
    assert type(loaded) is type(predictor)
    assert loaded.init_params() == predictor.init_params()
    assert loaded.params() == predictor.params()
    after = loaded.predict(texts, 7)
    assert [[t for t, _ in r] for r in after] == [[t for t, _ in r] for r in before]
    assert [s for r in after for _, s in r] == pytest.approx([s for r in before for _, s in r], abs=1e-5)
    return loaded


def test_baseline_roundtrip(data, tmp_path):
    loaded = _roundtrip(TfidfLinearTagger(**BASELINE), data, tmp_path)
    assert {k: loaded.params()[k] for k in BASELINE} == BASELINE


def test_bilstm_roundtrip(data, tmp_path):
    params = {
        "seed": 2,
        "max_tokens": 2000,
        "windows": 4,
        "window_tokens": 16,
        "embedding_dim": 16,
        "lstm_units": 8,
        "attention_units": 8,
        "dropout": 0.1,
        "epochs": 1,
        "min_epochs": 1,
        "patience": 1,
        "batch_size": 16,
        "learning_rate": 0.01,
        "adapt_sample": 64,
        "loss": "focal",
        "drop_frequent": 10,
    }
    loaded = _roundtrip(BiLSTMTagger(**params), data, tmp_path)
    assert {k: loaded.init_params()[k] for k in params} == params


def test_encoder_head_roundtrip_through_a_local_hub_model(data, tmp_path, glove_handle):
    params = {
        "seed": 1,
        "encoder": glove_handle,
        "max_chunks": 2,
        "hidden_units": 16,
        "dropout": 0.1,
        "epochs": 2,
        "patience": 1,
        "batch_size": 16,
        "learning_rate": 0.01,
        "standardize": True,
    }
    loaded = _roundtrip(EncoderHeadTagger(**params), data, tmp_path)
    assert loaded.init_params() == params
    # The SavedModel travelled with the model; the logged encoder is still the one trained with.
    assert loaded.encoder.handle == str(tmp_path / "saved" / "encoder")
    assert loaded.params()["encoder_name"] == EncoderHeadTagger(**params).encoder.name


def test_zero_shot_roundtrip(data, tmp_path):
    loaded = _roundtrip(ZeroShotTagger(max_chunks=2), data, tmp_path)
    assert loaded.params()["max_chunks"] == loaded.encoder.max_chunks == 2


def test_hybrid_roundtrip(data, tmp_path):
    from tubetags.openvocab.keyphrases import KeyphraseSuggester
    from tubetags.strategies.hybrid import LearnedMerge

    closed = TfidfLinearTagger(**BASELINE)
    closed.fit(data[0], None, data[1])
    suggester = KeyphraseSuggester(max_ngram=2, min_count=2, subsumed=0.6)
    suggester.fit(data[0])  # the background of phrase document frequencies
    hybrid = HybridTagger(closed, suggester, closed_weight=2.0, open_weight=0.5, depth=12)
    texts = [r["transcript"] for r in data[0].records(columns=("transcript",))][:40]
    truths = [r["tags"] for r in data[0].records(columns=("tags",))][:40]
    hybrid.fit_merge([hybrid.parts(texts).with_truths(truths)])
    loaded = _roundtrip(hybrid, data, tmp_path, fit=False)
    assert loaded.params()["closed_weight"] == 2.0 and loaded.params()["keyphrase_subsumed"] == 0.6
    assert loaded.depth == 12 and loaded.params()["merge"] == "learned"
    assert loaded.keyphrases.params() == suggester.params()
    assert isinstance(loaded.merge, LearnedMerge)
    assert loaded.closed.init_params() == BASELINE


def test_distilled_roundtrip(data, tmp_path, glove_handle):
    from tubetags.strategies.distilled import DistilledTagger

    params = {
        "seed": 4,
        "teacher": {"encoder": glove_handle, "max_chunks": 2, "hidden_units": 16, "epochs": 2},
        "teacher_epochs": 2,  # no validation split here: the teacher trains for as long as a refit's would
        "folds": 2,
        "label_weight": 0.3,
        "unlabelled": False,
        "max_features": 2000,
        "vectorizer_sample": 100,
        "hidden_units": 16,
        "epochs": 2,
        "batch_size": 16,
    }
    loaded = _roundtrip(DistilledTagger(**params), data, tmp_path)
    assert {k: loaded.init_params()[k] for k in params if k != "teacher"} == {
        k: v for k, v in params.items() if k != "teacher"
    }
    assert loaded.refit_params(3) | {"teacher": None} == loaded.init_params() | {"epochs": 3, "teacher": None}
    assert loaded.encoder.path == tmp_path / "saved" / "encoder"  # the static vectors travel with the model


def test_stacked_roundtrip_with_given_weights(data, tmp_path):
    from tubetags.strategies.stacked import StackedTagger

    members = {"baseline": BASELINE, "encoder_head_fast": {"hidden_units": 16, "epochs": 2}}
    stacked = StackedTagger(seed=5, members=members, weights=[1.0, 0.5], bias=-2.0)
    loaded = _roundtrip(stacked, data, tmp_path)
    assert loaded.init_params()["members"]["baseline"] == {k: v for k, v in BASELINE.items() if k != "seed"}
    assert loaded.refit_params(None)["weights"] == [1.0, 0.5] and loaded.refit_params(None)["bias"] == -2.0
