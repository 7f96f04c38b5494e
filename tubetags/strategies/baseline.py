"""(a) scikit-learn baseline: TF-IDF 1-2-grams + one linear hinge-loss classifier per tag.

Streams: the TF-IDF vocabulary is fitted on a bounded reservoir sample of the training
stream, then SGD `partial_fit` runs over minibatches for a few epochs; the epoch with the
best validation P@5 is kept. Weights are stored as one float32 matrix so that scoring is
one sparse-dense product and the model stays small.
"""

from __future__ import annotations

import pickle
import random
from collections import Counter
from collections.abc import Sequence
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.multioutput import MultiOutputClassifier
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2
from tqdm import tqdm

from tubetags.corpus import CorpusSplit, multi_hot
from tubetags.predictor import Ranked, TagPredictor, fitted
from tubetags.ranking_metrics import precision_at_k
from tubetags.strategies.ranking import sigmoid, top_k


def reservoir_sample(items, size: int, seed: int) -> list:
    """Uniform sample of at most `size` items from a stream of unknown length (Algorithm R)."""
    rng = random.Random(seed)
    sample: list = []
    for n, item in enumerate(items):
        if n < size:
            sample.append(item)
        else:
            j = rng.randint(0, n)
            if j < size:
                sample[j] = item
    return sample


def tfidf_transform(vectorizer: TfidfVectorizer, texts: Sequence[str]) -> sp.csr_matrix:
    """`vectorizer.transform(texts)`: the same matrix (a test compares them), ~1 of ~2 ms per 2,000-word text
    sooner. scikit-learn looks up each of a text's ~4,000 word n-grams in a Python loop, then validates its
    input twice; here the n-grams are joined with `map` and counted by `Counter` (in C), only the distinct ones
    are looked up, and sub-linear TF, IDF and the L2 norm are the same NumPy steps as `TfidfTransformer`'s,
    without the checks. Word n-grams without stop words only; any other setting is scikit-learn's own."""
    transformer = vectorizer._tfidf
    if (
        vectorizer.analyzer != "word"
        or vectorizer.get_stop_words() is not None
        or vectorizer.binary
        or transformer.norm not in ("l2", None)
    ):
        return vectorizer.transform(list(texts))
    preprocess, tokenize = vectorizer.build_preprocessor(), vectorizer.build_tokenizer()
    low, high = vectorizer.ngram_range
    vocabulary = vectorizer.vocabulary_
    empty = np.zeros(0, np.int64)
    indices: list[np.ndarray] = [empty]
    values: list[np.ndarray] = [empty]
    indptr = [0]
    for text in texts:
        tokens = tokenize(preprocess(text))
        counts: Counter[str] = Counter()
        for n in range(low, high + 1):
            counts.update(tokens if n == 1 else map(" ".join, zip(*(tokens[i:] for i in range(n)))))
        ids = np.fromiter(map(vocabulary.get, counts, repeat(-1)), np.int64, len(counts))
        found = ids >= 0
        order = np.argsort(ids[found])
        indices.append(ids[found][order])
        values.append(np.fromiter(counts.values(), np.int64, len(counts))[found][order])
        indptr.append(indptr[-1] + len(order))
    X = sp.csr_matrix(
        (
            np.concatenate(values).astype(vectorizer.dtype),
            np.concatenate(indices).astype(np.int32),
            np.asarray(indptr, np.int32),
        ),
        shape=(len(indptr) - 1, len(vocabulary)),
    )
    if transformer.sublinear_tf:
        np.log(X.data, X.data)
        X.data += 1.0
    if hasattr(transformer, "idf_"):
        X.data *= transformer.idf_[X.indices]
    if transformer.norm == "l2":
        inplace_csr_row_normalize_l2(X)
    return X


class TfidfLinearTagger(TagPredictor):
    strategy = "baseline"

    def __init__(
        self,
        seed: int = 0,
        epochs: int = 5,
        alpha: float = 1e-4,
        max_features: int = 50_000,
        vectorizer_sample: int = 20_000,
        batch_size: int = 256,
    ):
        self.seed, self.epochs, self.alpha = seed, epochs, alpha
        self.max_features, self.vectorizer_sample, self.batch_size = max_features, vectorizer_sample, batch_size
        self.vectorizer: TfidfVectorizer | None = None
        self.weights: np.ndarray | None = None  # (n_tags, n_features) float32
        self.bias: np.ndarray | None = None
        self.vocabulary: list[str] = []

    def init_params(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "epochs": self.epochs,
            "alpha": self.alpha,
            "max_features": self.max_features,
            "vectorizer_sample": self.vectorizer_sample,
            "batch_size": self.batch_size,
        }

    def params(self) -> dict[str, Any]:
        return self.init_params() | {"features": "tfidf word 1-2-grams, sublinear tf", "loss": "hinge"}

    def fit(self, train: CorpusSplit, valid: CorpusSplit | None, vocabulary: Sequence[str]):
        self.vocabulary = list(vocabulary)
        sample = reservoir_sample(
            (r["transcript"] for r in train.records(columns=("transcript",))), self.vectorizer_sample, self.seed
        )
        self.vectorizer = TfidfVectorizer(
            ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_features=self.max_features, dtype=np.float32
        )
        self.vectorizer.fit(sample)
        del sample
        model = MultiOutputClassifier(SGDClassifier(loss="hinge", alpha=self.alpha, random_state=self.seed))
        classes = [[0, 1]] * len(self.vocabulary)
        history: dict[str, list[float]] = {"valid_p_at_5": []}
        best = -1.0
        valid_rows = list(valid.records(columns=("transcript", "tags"))) if valid is not None and len(valid) else []
        for epoch in tqdm(range(self.epochs), desc="baseline epochs", unit="epoch"):
            for batch in train.batches(
                self.batch_size, columns=("transcript", "tags"), shuffle_shards_seed=self.seed + epoch
            ):
                X = self.vectorizer.transform(batch["transcript"])
                Y = multi_hot(batch["tags"], self.vocabulary).astype(np.int8)
                model.partial_fit(X, Y, classes=classes)
            weights = np.vstack([e.coef_ for e in model.estimators_]).astype(np.float32)
            bias = np.concatenate([e.intercept_ for e in model.estimators_]).astype(np.float32)
            self.weights, self.bias = weights, bias
            if not valid_rows:
                continue
            score = precision_at_k(
                self.predict([r["transcript"] for r in valid_rows], 5), [r["tags"] for r in valid_rows], 5
            )
            history["valid_p_at_5"].append(score)
            if score > best:
                best, best_state = score, (weights, bias)
        if valid_rows:
            self.weights, self.bias = best_state  # the epoch with the best validation P@5
        return history

    def decision(self, transcripts: Sequence[str]) -> np.ndarray:
        X = tfidf_transform(fitted(self.vectorizer, "the TF-IDF vectorizer"), transcripts)
        weights = fitted(self.weights, "the linear weights")
        # Column-major weights make `weights.T` a row-major view. With row-major ones scipy copies all of
        # `weights.T` (332 x 50,000 floats, ~66 MB) on every call: ~35 ms of a ~40 ms prediction.
        if not weights.T.flags.c_contiguous:
            self.weights = weights = np.asfortranarray(weights)
        return np.asarray(X @ weights.T) + fitted(self.bias, "the linear bias")

    def predict(self, transcripts: Sequence[str], k: int = 10) -> list[Ranked]:
        # The hinge margin has no probability meaning; the sigmoid only maps it into [0, 1].
        return top_k(sigmoid(self.decision(transcripts)), self.vocabulary, k)

    def save_state(self, directory: Path) -> None:
        with (directory / "vectorizer.pkl").open("wb") as handle:
            pickle.dump(self.vectorizer, handle)
        np.savez_compressed(
            directory / "linear.npz",
            weights=fitted(self.weights, "the linear weights"),
            bias=fitted(self.bias, "the linear bias"),
            vocabulary=np.array(self.vocabulary, dtype=object),
        )

    def load_state(self, directory: Path) -> None:
        with (directory / "vectorizer.pkl").open("rb") as handle:
            self.vectorizer = pickle.load(handle)
        arrays = np.load(directory / "linear.npz", allow_pickle=True)
        self.weights, self.bias = arrays["weights"], arrays["bias"]
        self.vocabulary = arrays["vocabulary"].tolist()
