"""The baseline's own TF-IDF transform gives scikit-learn's matrix, for the served vectoriser's settings and others."""

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from tubetags.strategies.baseline import tfidf_transform

TEXTS = [
    "The robot arm picks up the robot parts. Robots build robots!",
    "Sourdough bread needs a starter, flour, water and time; the starter needs feeding.",
    "GPT-5 and GPT 4.1 write code: Python, TypeScript, C++ and node.js code.",
    "Café, naïve, résumé — accents stay as they are. Café au lait.",
    "the the the and and of",
]


@pytest.mark.parametrize(
    "settings",
    [
        {"ngram_range": (1, 2), "sublinear_tf": True, "min_df": 1, "dtype": np.float32},  # the served baseline's
        {"ngram_range": (1, 3), "norm": None},
        {"ngram_range": (2, 2), "use_idf": False, "lowercase": False},
        {"stop_words": "english"},  # scikit-learn's own path
        {"analyzer": "char_wb", "ngram_range": (2, 3)},  # scikit-learn's own path
    ],
)
def test_tfidf_transform_is_scikit_learns(settings):
    vectorizer = TfidfVectorizer(**settings).fit(TEXTS[:4])
    texts = [*TEXTS, "", "words none of the texts had: zyzzyva quokka"]
    ours, theirs = tfidf_transform(vectorizer, texts), vectorizer.transform(texts)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    assert np.array_equal(ours.indptr, theirs.indptr) and np.array_equal(ours.indices, theirs.indices)
    assert np.array_equal(ours.data, theirs.data)
