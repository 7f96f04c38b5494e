"""Train/validation/test splits and the leakage check between them."""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer

SPLITS = ("train", "valid", "test")


def chronological_split(dates: Sequence[str], valid_share: float = 0.1, test_share: float = 0.1) -> list[str]:
    """Oldest items train, newest test, validation between: the model is judged on the future."""
    order = np.argsort(np.asarray(dates, dtype=str), kind="stable")
    n_train, n_valid, _ = split_sizes(len(order), valid_share, test_share)
    labels = np.empty(len(order), dtype=object)
    labels[order[:n_train]] = "train"
    labels[order[n_train : n_train + n_valid]] = "valid"
    labels[order[n_train + n_valid :]] = "test"
    return labels.tolist()


def group_split(groups: Sequence[str], valid_share: float = 0.15, test_share: float = 0.15) -> list[str]:
    """Whole groups (channels) go to one split, so no channel is both learned and tested.

    Groups are visited in the order of a hash of their name (stable when groups are added)
    and fill test, then validation, up to their share of items; the rest train.
    """
    assignment = group_assignment(Counter(groups), valid_share, test_share)
    return [assignment[g] for g in groups]


def group_assignment(sizes: Mapping[str, int], valid_share: float, test_share: float) -> dict[str, str]:
    """Group -> split from the groups' sizes alone (what `group_split` does; the Spark engine counts the sizes)."""
    n = sum(sizes.values())
    assignment: dict[str, str] = {}
    filled: Counter[str] = Counter()
    for group in sorted(sizes, key=lambda g: hashlib.sha1(g.encode()).hexdigest()):
        if filled["test"] < test_share * n:
            split = "test"
        elif filled["valid"] < valid_share * n:
            split = "valid"
        else:
            split = "train"
        assignment[group] = split
        filled[split] += sizes[group]
    return assignment


def split_sizes(n: int, valid_share: float, test_share: float) -> tuple[int, int, int]:
    """(train, valid, test) sizes of a chronological split of n items."""
    n_test, n_valid = round(n * test_share), round(n * valid_share)
    return n - n_valid - n_test, n_valid, n_test


SHINGLE_FEATURES = 2**22  # hashed shingle ids are below this


def shingle_matrix(texts: Sequence[str | None]):
    """Word 5-gram shingles, hashed into SHINGLE_FEATURES binary features, each row L2-normalised (sparse)."""
    vectorizer = HashingVectorizer(
        ngram_range=(5, 5),
        binary=True,
        norm="l2",
        alternate_sign=False,
        n_features=SHINGLE_FEATURES,
        lowercase=True,
    )
    return vectorizer.transform([t or "" for t in texts])


def shingle_sets(texts: Sequence[str | None]) -> list[list[int]]:
    """Each text's set of hashed shingle features (sorted), as `shingle_matrix` has them."""
    matrix = shingle_matrix(texts)
    return [sorted(matrix.indices[matrix.indptr[i] : matrix.indptr[i + 1]].tolist()) for i in range(len(texts))]


def binary_cosine(overlap: int, n_a: int, n_b: int) -> float:
    """Cosine of two L2-normalised binary vectors with `overlap` features in common, to the last bit as the sparse
    product in `near_duplicates` computes it: `overlap` equal terms 1/sqrt(n_a) * 1/sqrt(n_b) added one by one."""
    term = (1.0 / math.sqrt(n_a)) * (1.0 / math.sqrt(n_b))
    total = 0.0
    for _ in range(overlap):
        total += term
    return total


def near_duplicates(
    texts: Sequence[str], splits: Sequence[str], threshold: float = 0.8
) -> list[tuple[int, int, float]]:
    """Pairs (i, j, similarity) with i in a later split than j and near-identical text.

    Text is compared as sets of word 5-gram shingles (cosine of binary hashed vectors):
    identical transcripts score 1.0, a re-captioned copy with small edits stays above 0.8,
    two talks on the same topic stay far below it.
    """
    matrix = shingle_matrix(texts)
    rank = {name: i for i, name in enumerate(SPLITS)}
    split_rank = np.array([rank[s] for s in splits])
    pairs: list[tuple[int, int, float]] = []
    for later in (1, 2):
        rows = np.flatnonzero(split_rank == later)
        earlier = np.flatnonzero(split_rank < later)
        if not len(rows) or not len(earlier):
            continue
        sims = (matrix[rows] @ matrix[earlier].T).tocoo()
        for r, c, v in zip(sims.row, sims.col, sims.data):
            if v >= threshold:
                pairs.append((int(rows[r]), int(earlier[c]), float(v)))
    return pairs
