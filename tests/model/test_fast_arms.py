"""The two arms that serve MiniLM's quality in a fast model: the distilled student and the stacked ensemble,
trained end to end on the tiny corpus through `train` (MLflow, registry, pyfunc), and what they may read."""

from __future__ import annotations

import json

import mlflow
import pandas as pd
import pytest

from experiments.train import TrainConfig, train
from tubetags import registry
from tubetags.corpus import Corpus
from tubetags.strategies.distilled import extra_splits, unlabelled_split

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def private_work_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TUBETAGS_WORK_DIR", str(tmp_path / "work"))


@pytest.fixture()
def corpus_with_untagged(tiny_corpus, tmp_path) -> Corpus:
    """The tiny corpus plus rejects.jsonl: two untagged videos of a training channel, one of a test channel."""
    import shutil

    root = tmp_path / "corpus"
    shutil.copytree(tiny_corpus.root, root)
    test_channel = next(tiny_corpus.split("youtube", "test").records(columns=("channel",)))["channel"]
    train_channel = next(tiny_corpus.split("youtube", "train").records(columns=("channel",)))["channel"]
    words = "a video about gardening and tomatoes " * 30
    rejects = [
        {"video_id": "u1", "stage": "tags", "reason": "no tags left after tag normalisation", "channel": train_channel},
        {
            "video_id": "u2",
            "stage": "contract",
            "reason": "tags: List should have at least 1 item",
            "channel": train_channel,
        },
        {"video_id": "u3", "stage": "tags", "reason": "no tags left after tag normalisation", "channel": test_channel},
        {"video_id": "u4", "stage": "quality", "reason": "language 'de' not in ['en']", "channel": train_channel},
    ]
    lines = [
        json.dumps(
            {
                "video_id": r["video_id"],
                "source": "youtube",
                "stage": r["stage"],
                "reason": r["reason"],
                "record": {"video_id": r["video_id"], "channel": r["channel"], "transcript": words},
            }
        )
        for r in rejects
    ]
    (root / "rejects.jsonl").write_text("\n".join(lines) + "\n")
    return Corpus.open(root)


def test_the_student_reads_no_held_out_transcript(corpus_with_untagged):
    corpus = corpus_with_untagged
    held_out = extra_splits(corpus.split("ted", "train"), use_unlabelled=True)
    assert [(s.dataset, s.name) for s in held_out] == [("youtube", "train"), ("unlabelled", "train")]
    # untagged videos only, and none of a channel held out of this fit (the test channel's u3)
    assert held_out[1].column("video_id") == ["u1", "u2"]
    everything = extra_splits(corpus.splits("ted", ["train", "valid", "test"]), use_unlabelled=True)
    assert everything[0].name == "train+valid+test" and len(everything[0]) == len(
        corpus.splits("youtube", ["train", "valid", "test"])
    )
    assert everything[1].column("video_id") == ["u1", "u2", "u3"]
    # one shard per group of channels, named by content: the fits share the encodings of what they share
    assert unlabelled_split(corpus, ["train"]).shards == held_out[1].shards == everything[1].shards[:1]


def _train(strategy, corpus, params, **overrides):
    params = {k: v for k, v in params.items() if k != "seed"}  # the run's seed, as refit passes it
    return train(
        TrainConfig.load({"strategy": strategy, "quick": True, "corpus": corpus.root, "params": params} | overrides)
    )


def _contract(version, corpus, k=7):
    """The served pyfunc's answer for a test talk and a transcript of no topic: k known tags, scores descending."""
    vocabulary = corpus.vocabulary("ted")
    talk = next(corpus.split("ted", "test").records(columns=("transcript",)))["transcript"]
    model = mlflow.pyfunc.load_model(registry.version_uri(version))
    out = model.predict(pd.DataFrame({"transcript": [talk, "another transcript " * 30]}), params={"k": k})
    for tags, scores in zip(out["tags"], out["scores"]):
        assert len(tags) == k and set(tags) <= set(vocabulary) and list(scores) == sorted(scores, reverse=True)
        assert all(0.0 <= s <= 1.0 for s in scores)
    return out


def test_distilled_student_end_to_end_and_refit(corpus_with_untagged, mlflow_store, glove_handle):
    corpus = corpus_with_untagged
    teacher = {"encoder": glove_handle, "max_chunks": 2, "hidden_units": 64, "epochs": 20, "patience": 2}
    params = {"teacher": teacher, "epochs": 15, "patience": 3, "hidden_units": 64}
    result = _train("distilled", corpus, params)
    run = mlflow.get_run(result["run_id"])
    assert result["metrics"]["test_p_at_5"] > 0.1  # well above chance (~7/332 per slot)
    history = mlflow.MlflowClient().get_metric_history(result["run_id"], "curve_teacher_val_loss")
    assert history and "curve_val_p_at_5" in run.data.metrics  # the teacher stopped on loss, the student on P@5
    _contract(result["version"], corpus)

    # A refit (no validation split) repeats what the held-out run chose: the teacher's and the student's epochs.
    held_out = registry.load_version_predictor(result["version"])
    refit = held_out.refit_params(int(result["metrics"]["best_epoch"]))
    assert refit["teacher_epochs"] == held_out.kept_teacher_epochs >= 1
    everything = _train("distilled", corpus, refit, fit_splits=["train", "valid", "test"])
    assert "test_p_at_5" not in everything["metrics"]
    assert registry.load_version_predictor(everything["version"]).kept_teacher_epochs == refit["teacher_epochs"]


def test_stacked_ensemble_fits_its_weights_on_validation(tiny_corpus, mlflow_store):
    members = {"baseline": {"epochs": 2, "max_features": 20000}, "encoder_head_fast": {"epochs": 30}}
    result = _train("stacked", tiny_corpus, {"members": members})
    assert result["metrics"]["test_p_at_5"] > 0.1
    stacked = registry.load_version_predictor(result["version"])
    assert len(stacked.coef) == 2 and stacked.intercept is not None and stacked.init_params()["weights"] is None
    _contract(result["version"], tiny_corpus)
    refit = stacked.refit_params(None)
    assert refit["weights"] == stacked.coef and refit["members"]["baseline"]["epochs"] <= 2
    everything = _train("stacked", tiny_corpus, refit, fit_splits=["train", "valid", "test"])
    assert registry.load_version_predictor(everything["version"]).coef == stacked.coef
