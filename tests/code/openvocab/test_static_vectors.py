"""Word vectors from the distilled MiniLM static vectors, in NumPy: the same vectors model2vec gives one word."""

import numpy as np
import pytest

from tubetags.encoders import Model2VecEncoder
from tubetags.openvocab.static_vectors import StaticVectors, unit_rows


@pytest.fixture(scope="module")
def encoder():
    return Model2VecEncoder()


@pytest.fixture(scope="module")
def vectors(encoder):
    return StaticVectors.load(encoder._ensure())


def test_a_words_vector_is_model2vecs_for_that_word(encoder, vectors):
    words = ["python", "LangChain", "sourdough", "Maracanã", "GPT", "kubernetes"]
    ours = unit_rows(vectors.word_vectors(words))
    np.testing.assert_allclose(ours, encoder.encode(words), atol=1e-3)  # float16 vectors, summed in float32
    assert vectors.pieces("LangChain") == vectors.pieces("langchain") and len(vectors.pieces("langchain")) > 1


def test_unknown_words_and_text_vectors(vectors):
    assert vectors.pieces("") == () and not vectors.word_vectors([""]).any()
    text = vectors.text_vector(["bread", "flour", "oven"], [3, 1, 1])
    assert text.shape == (vectors.dim,) and np.isclose(np.linalg.norm(text), 1.0)
    close, far = unit_rows(vectors.word_vectors(["baking", "javascript"]))
    assert text @ close > text @ far
    assert not vectors.text_vector([]).any()


def test_saved_copy_loads_the_same_vectors(vectors, tmp_path):
    vectors.save(tmp_path / "copy")
    copy = StaticVectors.load(tmp_path / "copy")
    assert copy.vocab == vectors.vocab and np.array_equal(copy.vectors, vectors.vectors)
    with pytest.raises(ValueError, match="not loaded from a folder"):
        StaticVectors(vectors.vectors, vectors.vocab).save(tmp_path / "nowhere")


def test_word_vectors_are_the_summed_piece_vectors_in_reduceats_order(vectors):
    # The sparse product (and reduceat for words of 3+ pieces) gives the very floats of adding the gathered piece
    # rows with np.add.reduceat, as the served default did before: the ranker's features cannot move.
    words = ["python", "LangChain", "3.14159265358979", "pappardelle", "Luhrmann", "", "日本語", "GPT-5", "sourdough"]
    ids = [vectors.pieces(w) for w in words]
    lengths = np.array([len(p) for p in ids])
    known = lengths > 0
    expected = np.zeros((len(words), vectors.dim), np.float32)
    starts = np.concatenate(([0], np.cumsum(lengths[known])[:-1]))
    expected[known] = np.add.reduceat(vectors.vectors[[i for p in ids for i in p]], starts, axis=0)
    assert lengths.max() > 2 and (lengths == 0).any()  # both paths and an unknown word are exercised
    assert np.array_equal(vectors.word_vectors(words), expected)
    assert vectors.word_vectors([]).shape == (0, vectors.dim)
