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
