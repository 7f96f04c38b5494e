"""Train/validation/test splits and the leakage check between them."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer

SPLITS = ("train", "valid", "test")


def chronological_split(dates: Sequence[str], valid_share: float = 0.1, test_share: float = 0.1) -> list[str]:
    """Oldest items train, newest test, validation between: the model is judged on the future."""
    order = np.argsort(np.asarray(dates, dtype=str), kind="stable")
    n = len(order)
    n_test, n_valid = round(n * test_share), round(n * valid_share)
    labels = np.empty(n, dtype=object)
    labels[order[: n - n_valid - n_test]] = "train"
    labels[order[n - n_valid - n_test : n - n_test]] = "valid"
    labels[order[n - n_test :]] = "test"
    return labels.tolist()


def group_split(groups: Sequence[str], valid_share: float = 0.15, test_share: float = 0.15) -> list[str]:
    """Whole groups (channels) go to one split, so no channel is both learned and tested.

    Groups are visited in the order of a hash of their name (stable when groups are added)
    and fill test, then validation, up to their share of items; the rest train.
    """
    sizes = Counter(groups)
    n = len(groups)
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
    return [assignment[g] for g in groups]


def near_duplicates(
    texts: Sequence[str], splits: Sequence[str], threshold: float = 0.8
) -> list[tuple[int, int, float]]:
    """Pairs (i, j, similarity) with i in a later split than j and near-identical text.

    Text is compared as sets of word 5-gram shingles (cosine of binary hashed vectors):
    identical transcripts score 1.0, a re-captioned copy with small edits stays above 0.8,
    two talks on the same topic stay far below it.
    """
    vectorizer = HashingVectorizer(
        ngram_range=(5, 5), binary=True, norm="l2", alternate_sign=False, n_features=2**22, lowercase=True
    )
    matrix = vectorizer.transform([t or "" for t in texts])
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
