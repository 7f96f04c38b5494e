import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from pipelines.splits import (
    SharedShingles,
    bucket_repeats,
    chronological_split,
    group_split,
    may_be_shared,
    near_duplicates,
    shingle_sets,
)

ROOT = Path(__file__).resolve().parents[2]


def test_chronological_split_trains_on_the_past():
    dates = [f"2010-01-{d:02d}" for d in range(20, 0, -1)]  # newest first
    splits = chronological_split(dates, 0.1, 0.1)
    by_split = {s: sorted(d for d, x in zip(dates, splits) if x == s) for s in ("train", "valid", "test")}
    assert Counter(splits) == {"train": 16, "valid": 2, "test": 2}
    assert by_split["train"][-1] < by_split["valid"][0] <= by_split["valid"][-1] < by_split["test"][0]


def test_group_split_never_puts_a_group_in_two_splits():
    groups = [f"channel{i % 7}" for i in range(100)]
    splits = group_split(groups, 0.15, 0.15)
    assert all(len({s for g2, s in zip(groups, splits) if g2 == g}) == 1 for g in set(groups))
    assert set(splits) == {"train", "valid", "test"}
    assert group_split(groups, 0.15, 0.15) == splits  # deterministic


def test_near_duplicates_are_found_across_splits_only():
    base = " ".join(f"word{i}" for i in range(300))
    edited = base.replace("word150", "changed")
    other = " ".join(f"other{i}" for i in range(300))
    texts = [base, edited, other, base]
    splits = ["train", "test", "test", "train"]
    pairs = near_duplicates(texts, splits, 0.8)
    assert {(i, j) for i, j, _ in pairs} == {(1, 0), (1, 3)}  # train copies of each other don't count
    assert all(s > 0.9 for _, _, s in pairs)


def test_shingle_ids_are_64_bit_and_the_same_in_every_process():
    text = " ".join(f"word{i}" for i in range(40))
    (ids,) = shingle_sets([text])
    assert len(ids) == 36 and ids.dtype == np.int64 and list(ids) == sorted(set(ids))
    # Spark's workers hash in other processes: the ids must not depend on Python's per-process hash seed.
    script = f"from pipelines.splits import shingle_sets; print(shingle_sets([{text!r}])[0].tolist())"
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == str(ids.tolist())


def test_near_duplicates_are_the_same_whatever_the_block_of_rows():
    base = [" ".join(f"t{j}w{i}" for i in range(120)) for j in range(6)]
    texts = base + [base[0], base[2].replace("t2w5 ", "x "), base[4]]
    splits = ["train"] * 6 + ["valid", "test", "test"]
    whole = sorted(near_duplicates(texts, splits, 0.8))
    assert [(i, j) for i, j, _ in whole] == [(6, 0), (7, 2), (8, 4)]
    assert sorted(near_duplicates(texts, splits, 0.8, chunk_rows=1)) == whole


def test_shared_shingle_filter_marks_every_shared_shingle_and_few_others():
    """Shingles held by two transcripts (in one batch or in two) are always marked; with four buckets per shingle
    most of those held by one transcript only are not."""
    rng = np.random.default_rng(0)
    common = rng.integers(-(2**63), 2**63 - 1, 50)
    sets = [np.unique(np.concatenate([rng.integers(-(2**63), 2**63 - 1, 2000), common[i::5]])) for i in range(10)]
    sets.append(np.unique(common[:3]))  # shares only with the first three of its kind
    bits = 2**17  # ~4 buckets per shingle
    shared = SharedShingles(bits)
    for batch in (sets[:4], sets[4:7], sets[7:]):
        shared.add(*bucket_repeats(batch, bits))
    ids, counts = np.unique(np.concatenate(sets), return_counts=True)
    marked = may_be_shared(shared.shared, ids)
    assert marked[counts > 1].all()
    assert 0 < marked[counts == 1].mean() < 0.25
