"""The corpus on disk: Parquet shards per dataset and split, a manifest, and streaming readers.

Layout:  <corpus>/<dataset>/<split>/part-00000.parquet ... + <corpus>/manifest.json
Readers go shard by shard and record batch by record batch, so memory stays bounded by the
batch and shuffle-buffer sizes, not by the corpus.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_origin

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from data_contracts import RECORD_FIELDS, VideoRecord


def _arrow_type(annotation: Any) -> pa.DataType:
    # Shards hold VideoRecord.to_row(): dates as ISO strings, literals as strings, tags as a list.
    return pa.list_(pa.string()) if get_origin(annotation) is list else pa.string()


SCHEMA = pa.schema([(name, _arrow_type(VideoRecord.model_fields[name].annotation)) for name in RECORD_FIELDS])
MANIFEST = "manifest.json"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_shards(rows: Sequence[dict[str, Any]], folder: Path, rows_per_shard: int) -> list[dict[str, Any]]:
    """Write rows as numbered Parquet shards; return [{path, rows, sha256}] relative to folder's parent's parent."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        write_shard(rows[start : start + rows_per_shard], folder / shard_name(n))
        for n, start in enumerate(range(0, len(rows), rows_per_shard))
    ]


def shard_name(n: int) -> str:
    return f"part-{n:05d}.parquet"


def write_shard(rows: Sequence[dict[str, Any]], path: Path) -> dict[str, Any]:
    """One shard, written atomically (a reader never sees half of one): {path, rows, sha256}."""
    table = pa.Table.from_pylist(list(rows), schema=SCHEMA)
    tmp = path.with_suffix(".tmp")
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(path)
    return {"path": str(path), "rows": table.num_rows, "sha256": sha256_of(path)}


@dataclass(frozen=True)
class Corpus:
    """A built corpus: where its shards are and what its manifest says."""

    root: Path
    manifest: dict[str, Any]

    @classmethod
    def open(cls, root: Path) -> Corpus:
        path = Path(root) / MANIFEST
        if not path.exists():
            raise FileNotFoundError(
                f"No corpus at {root} (missing {MANIFEST}). Build it first: "
                "`make corpus` or `mlflow run . -e build_corpus --env-manager local`."
            )
        return cls(Path(root), json.loads(path.read_text()))

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    def split_digest(self, dataset: str, split: str) -> str:
        """sha256 over the split's shard checksums, in manifest order: one fingerprint of the rows a split holds
        (another corpus build with other rows, or other shards, gets another)."""
        shards = self.manifest["datasets"][dataset]["splits"][split]["shards"]
        return hashlib.sha256("\n".join(s["sha256"] for s in shards).encode()).hexdigest()

    def shards(self, dataset: str, split: str) -> list[Path]:
        entries = self.manifest["datasets"][dataset]["splits"][split]["shards"]
        return [self.root / e["path"] for e in entries]

    def vocabulary(self, dataset: str) -> list[str]:
        return list(self.manifest["datasets"][dataset]["vocabulary"])

    def size(self, dataset: str, split: str) -> int:
        return int(self.manifest["datasets"][dataset]["splits"][split]["rows"])

    def split(self, dataset: str, split: str) -> CorpusSplit:
        return CorpusSplit(tuple(self.shards(dataset, split)), self.size(dataset, split), dataset, split)

    def splits(self, dataset: str, names: Sequence[str]) -> CorpusSplit:
        """Several splits streamed as one (e.g. train+valid+test for the production refit)."""
        if len(names) == 1:
            return self.split(dataset, names[0])
        return CorpusSplit(
            tuple(p for n in names for p in self.shards(dataset, n)),
            sum(self.size(dataset, n) for n in names),
            dataset,
            "+".join(names),
        )


@dataclass(frozen=True)
class CorpusSplit:
    """One split of one dataset, read lazily. Iterating it streams records shard by shard."""

    shards: tuple[Path, ...]
    rows: int
    dataset: str = ""
    name: str = ""

    def batches(
        self,
        batch_size: int = 64,
        columns: Sequence[str] = ("video_id", "transcript", "tags"),
        shuffle_shards_seed: int | None = None,
    ) -> Iterator[dict[str, list]]:
        shards = list(self.shards)
        if shuffle_shards_seed is not None:
            random.Random(shuffle_shards_seed).shuffle(shards)
        for path in shards:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_size, columns=list(columns)):
                yield batch.to_pydict()

    def records(self, columns: Sequence[str] = ("video_id", "transcript", "tags"), **kw) -> Iterator[dict]:
        for batch in self.batches(columns=columns, **kw):
            keys = list(batch)
            for values in zip(*batch.values()):
                yield dict(zip(keys, values))

    def column(self, name: str) -> list:
        """One column of the whole split. Only for small columns (ids, tags), never transcripts."""
        return [v for batch in self.batches(columns=(name,)) for v in batch[name]]

    def __len__(self) -> int:
        return self.rows


def multi_hot(tag_lists: Iterable[Sequence[str]], vocabulary: Sequence[str]) -> np.ndarray:
    index = {tag: i for i, tag in enumerate(vocabulary)}
    tag_lists = list(tag_lists)
    out = np.zeros((len(tag_lists), len(vocabulary)), dtype=np.float32)
    for row, tags in enumerate(tag_lists):
        for tag in tags:
            if tag in index:
                out[row, index[tag]] = 1.0
    return out


def tf_dataset(
    split: CorpusSplit,
    vocabulary: Sequence[str],
    batch_size: int = 32,
    shuffle_buffer: int = 256,
    seed: int | None = None,
):
    """A tf.data pipeline of (transcript, multi-hot tags) minibatches streamed from the shards.

    Memory is bounded by `shuffle_buffer` records plus one Parquet record batch.
    """
    import tensorflow as tf

    index = {tag: i for i, tag in enumerate(vocabulary)}
    n_tags = len(vocabulary)

    epochs_started = [0]  # tf.data calls the generator afresh for each epoch: a new shard order each time

    def generate():
        shard_seed = None if seed is None else seed + epochs_started[0]
        epochs_started[0] += 1
        for record in split.records(columns=("transcript", "tags"), shuffle_shards_seed=shard_seed):
            target = np.zeros(n_tags, dtype=np.float32)
            for tag in record["tags"]:
                if tag in index:
                    target[index[tag]] = 1.0
            yield record["transcript"], target

    ds = tf.data.Dataset.from_generator(
        generate,
        output_signature=(tf.TensorSpec((), tf.string), tf.TensorSpec((n_tags,), tf.float32)),
    )
    if shuffle_buffer:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(2)
