"""Encoders: model2vec static vectors (offline, whole transcript, travel with the model) and MiniLM over every chunk."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from tubetags.encoders import (
    MiniLMEncoder,
    Model2VecEncoder,
    chunk_picks,
    chunk_words,
    encoder_from_param,
    mean_of_chunks,
)
from tubetags.predictor import load_predictor

pytestmark = pytest.mark.slow

CLIMATE = (
    "The planet is warming because we burn coal, oil and gas; carbon dioxide traps heat in the atmosphere, "
    "and renewable energy from the sun and the wind can replace fossil fuels. "
)


ENERGY_AND_CLIMATE = {
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


@pytest.fixture()
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network access in a test that must run offline")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_chunking_reads_every_chunk_when_max_chunks_is_zero():
    text = " ".join(f"w{i}" for i in range(1000))  # 6 chunks of 180 words (the last one short)
    assert len(chunk_words(text, 180, 0)) == len(chunk_words(text, 180, None)) == 6
    assert chunk_words(text, 180, 0)[-1].split()[-1] == "w999"
    assert len(chunk_words(text, 180, 4)) == 4
    assert list(chunk_picks(6, 4)) == [0, 2, 3, 5] and list(chunk_picks(3, 4)) == [0, 1, 2]


def test_all_chunks_mean_equals_the_hand_computed_mean():
    encoder = MiniLMEncoder(max_chunks=0, words_per_chunk=5)
    text = "solar panels turn sunlight into power . wind turbines spin in the storm . bees pollinate"
    chunks = ["solar panels turn sunlight into", "power . wind turbines spin", "in the storm . bees", "pollinate"]
    assert chunk_words(text, 5, 0) == chunks
    one_by_one = np.stack([encoder.model.encode([c], normalize_embeddings=True)[0] for c in chunks])
    hand = one_by_one.mean(axis=0)
    hand /= np.linalg.norm(hand)
    np.testing.assert_allclose(encoder.encode([text])[0], hand, atol=1e-5)
    np.testing.assert_allclose(mean_of_chunks(one_by_one), hand, atol=1e-6)
    # 2 of the 4 chunks, spread over the text: the first and the last
    two = MiniLMEncoder(max_chunks=2, words_per_chunk=5).encode([text])[0]
    np.testing.assert_allclose(two, mean_of_chunks(one_by_one[[0, 3]]), atol=1e-5)


def test_model2vec_loads_offline_and_reads_the_whole_transcript(no_network):
    encoder = encoder_from_param("model2vec")
    assert isinstance(encoder, Model2VecEncoder) and encoder.spec()["kind"] == "model2vec"
    assert encoder.name.startswith("model2vec-") and encoder.dim == 256
    vectors = encoder.encode([CLIMATE * 3, "the orchestra played a symphony for the violin and the piano"])
    assert vectors.shape == (2, 256) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    tags = encoder.encode_phrases(["climate change", "music"])
    similarity = vectors @ tags.T
    assert similarity[0, 0] > similarity[0, 1] and similarity[1, 1] > similarity[1, 0]
    # No 512-token cut: a topic that only starts after ~1,500 words still moves the vector.
    head = "the orchestra played a symphony for the violin and the piano " * 140
    assert len(head.split()) > 1500
    whole, first_part = encoder.encode([head + CLIMATE * 40, head])
    assert float(whole @ tags[0]) > float(first_part @ tags[0]) + 0.05
    assert encoder.encode([]).shape == (0, 256)


def _fit_on(tiny_corpus, predictor):
    vocabulary = tiny_corpus.vocabulary("ted")
    predictor.fit(tiny_corpus.split("ted", "train"), tiny_corpus.split("ted", "valid"), vocabulary)
    return vocabulary


@pytest.fixture()
def private_work_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TUBETAGS_WORK_DIR", str(tmp_path / "work"))


def test_model2vec_head_round_trips_with_its_vectors(tiny_corpus, tmp_path, monkeypatch, private_work_dir):
    from tubetags.strategies.encoder_head import EncoderHeadTagger

    tagger = EncoderHeadTagger(encoder="model2vec", hidden_units=0, epochs=3)
    assert tagger.standardize  # on by default for model2vec
    _fit_on(tiny_corpus, tagger)
    before = tagger.predict([CLIMATE * 5], k=10)
    # The NumPy head equals the Keras model.
    vectors = tagger.encoder.encode([CLIMATE * 5, "music and dance " * 50])
    np.testing.assert_allclose(tagger.scores(vectors), tagger.head.predict(vectors, verbose=0), atol=1e-5)
    saved = tagger.save(tmp_path / "model")
    assert (saved / "encoder" / "model.safetensors").exists()  # the distilled vectors travel with the model
    monkeypatch.setenv("TUBETAGS_MODEL2VEC_DIR", str(tmp_path / "nowhere"))  # ...and are read from there
    loaded = load_predictor(saved)
    after = loaded.predict([CLIMATE * 5], k=10)
    assert [t for t, _ in after[0]] == [t for t, _ in before[0]]
    np.testing.assert_allclose([s for _, s in after[0]], [s for _, s in before[0]], atol=1e-6)
    assert loaded.encoder.path == saved / "encoder"  # the saved copy, not the default location
    assert loaded.encoder.name == tagger.encoder.name and loaded.standardize


def test_model2vec_zero_shot_round_trips_and_ranks_by_meaning(tiny_corpus, tmp_path, monkeypatch, private_work_dir):
    from tubetags.strategies.zero_shot import ZeroShotTagger

    tagger = ZeroShotTagger(encoder="model2vec")
    assert tagger.center  # on by default for model2vec
    _fit_on(tiny_corpus, tagger)
    before = tagger.predict([CLIMATE * 5], k=5)[0]
    assert len(ENERGY_AND_CLIMATE & {t for t, _ in before[:3]}) >= 2  # (it ranks wind, solar, nuclear energy)
    saved = tagger.save(tmp_path / "model")
    monkeypatch.setenv("TUBETAGS_MODEL2VEC_DIR", str(tmp_path / "nowhere"))
    loaded = load_predictor(saved)
    assert loaded.encoder.path == saved / "encoder"  # the saved copy, not the default location
    after = loaded.predict([CLIMATE * 5], k=5)[0]
    assert [t for t, _ in after] == [t for t, _ in before]
    np.testing.assert_allclose([s for _, s in after], [s for _, s in before], atol=1e-6)


def test_evaluation_scores_the_cached_encodings_like_predict(tiny_corpus, private_work_dir):
    """rank_split (what evaluation calls) reads the per-shard cache; it must rank exactly as predict does."""
    from tubetags.strategies.encoder_head import EncoderHeadTagger

    tagger = EncoderHeadTagger(encoder="model2vec", hidden_units=0, epochs=2)
    _fit_on(tiny_corpus, tagger)
    test = tiny_corpus.split("ted", "test")
    cached = list(tagger.rank_split(test, k=5))
    direct = tagger.predict(test.column("transcript"), k=5)
    assert len(cached) == len(direct) == len(test)
    for a, b in zip(cached, direct):
        assert [t for t, _ in a] == [t for t, _ in b]
        np.testing.assert_allclose([s for _, s in a], [s for _, s in b], atol=1e-5)
