"""Train/validation/test splits and the leakage check between them."""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer

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


SHINGLE_SKETCH = 2**22  # buckets of the shingle-frequency sketch (build_corpus_spark), 16 MB as int32


def sketch_buckets(ids: np.ndarray) -> np.ndarray:
    """The frequency sketch's bucket of each 64-bit shingle id (the driver counts and the tasks read the same)."""
    return ids & (SHINGLE_SKETCH - 1)


SHARED_FILTER_BITS = 2**30  # buckets of the shared-shingle filter (build_corpus_spark): 128 MB as bits


def shared_buckets(ids: np.ndarray, bits: int = SHARED_FILTER_BITS) -> np.ndarray:
    """The shared-shingle filter's bucket of each 64-bit id (`bits` a power of two up to 2^30): from its top 30
    bits, so that it does not follow the frequency sketch's bucket (the low bits)."""
    return (ids >> 34) & (bits - 1)


def set_bits(bits: np.ndarray, positions: np.ndarray) -> None:
    """Set `positions` in a packed bit array (uint8, eight positions per byte)."""
    np.bitwise_or.at(bits, positions >> 3, np.left_shift(1, positions & 7).astype(np.uint8))


def has_bits(bits: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Whether each of `positions` is set in a packed bit array."""
    return ((bits[positions >> 3] >> (positions & 7).astype(np.uint8)) & 1).astype(bool)


def bucket_repeats(sets: Sequence[np.ndarray], bits: int = SHARED_FILTER_BITS) -> tuple[np.ndarray, np.ndarray]:
    """The shared-filter buckets of a batch of shingle sets: (seen once, seen more than once) in the batch."""
    if not sets:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    buckets, counts = np.unique(shared_buckets(np.concatenate(sets), bits), return_counts=True)
    return buckets[counts == 1], buckets[counts > 1]


class SharedShingles:
    """Which shingle buckets more than one transcript holds, merged batch by batch: one-sided, since two shingles
    can share a bucket, a bucket may be marked shared when no shingle in it is (never the reverse). A shingle in
    no other transcript cannot be in any overlap, so the leakage check's prefixes leave the unmarked ones out."""

    def __init__(self, bits: int = SHARED_FILTER_BITS) -> None:
        self.seen = np.zeros(bits // 8, np.uint8)
        self.shared = np.zeros(bits // 8, np.uint8)

    def add(self, once: np.ndarray, repeated: np.ndarray) -> None:
        set_bits(self.shared, repeated)
        set_bits(self.shared, once[has_bits(self.seen, once)])
        set_bits(self.seen, once)
        set_bits(self.seen, repeated)


def may_be_shared(shared: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Whether each shingle id may be held by more than one transcript (`shared`: `SharedShingles.shared`)."""
    return has_bits(shared, shared_buckets(ids, len(shared) * 8))


_SHINGLE_ANALYZER = CountVectorizer(ngram_range=(5, 5), lowercase=True).build_analyzer()


def shingle_sets(texts: Sequence[str | None]) -> list[np.ndarray]:
    """Each text's word 5-gram shingles as sorted, distinct 64-bit ids (int64).

    64 bits, not a hashed feature space: with 2^22 features a corpus of millions of shingles filled the space, so
    unrelated transcripts shared ids, which inflated their similarity and defeated Spark's prefix filter
    (docs/benchmarks.md). pandas' `hash_array` is SipHash with a fixed key: the same id in every process."""
    out = []
    for text in texts:
        shingles = _SHINGLE_ANALYZER(text or "")
        ids = pd.util.hash_array(np.asarray(shingles, dtype=object), categorize=False).view(np.int64)
        out.append(np.unique(ids))
    return out


def shingle_matrix(texts: Sequence[str | None]) -> sparse.csr_matrix:
    """Binary shingle vectors, each row L2-normalised (sparse): the dot product of two rows is their cosine."""
    sets = shingle_sets(texts)
    sizes = np.array([len(s) for s in sets])
    ids = np.concatenate(sets) if sets else np.zeros(0, dtype=np.int64)
    _, columns = np.unique(ids, return_inverse=True)  # one column per distinct shingle of these texts
    data = np.repeat(1.0 / np.sqrt(np.maximum(sizes, 1)), sizes)
    indptr = np.concatenate([[0], np.cumsum(sizes)])
    return sparse.csr_matrix((data, columns, indptr), shape=(len(sets), int(columns.max(initial=-1)) + 1))


def binary_cosine(overlap: int, n_a: int, n_b: int) -> float:
    """Cosine of two L2-normalised binary vectors with `overlap` features in common, to the last bit as the sparse
    product in `near_duplicates` computes it: `overlap` equal terms 1/sqrt(n_a) * 1/sqrt(n_b) added one by one."""
    term = (1.0 / math.sqrt(n_a)) * (1.0 / math.sqrt(n_b))
    total = 0.0
    for _ in range(overlap):
        total += term
    return total


def near_duplicates(
    texts: Sequence[str], splits: Sequence[str], threshold: float = 0.8, chunk_rows: int = 2000
) -> list[tuple[int, int, float]]:
    """Pairs (i, j, similarity) with i in a later split than j and near-identical text.

    Text is compared as sets of word 5-gram shingles (cosine of binary vectors):
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
        earlier_t = matrix[earlier].T.tocsr()
        # A block of later rows at a time: the product of every pair (most of them small but non-zero: common
        # phrases) would not fit in memory for a large corpus.
        for start in range(0, len(rows), chunk_rows):
            block = rows[start : start + chunk_rows]
            sims = (matrix[block] @ earlier_t).tocoo()
            keep = sims.data >= threshold
            for r, c, v in zip(sims.row[keep], sims.col[keep], sims.data[keep]):
                pairs.append((int(block[r]), int(earlier[c]), float(v)))
    return pairs
