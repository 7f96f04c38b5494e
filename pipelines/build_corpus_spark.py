"""build_corpus on Apache Spark (`tubetags build-corpus --engine spark [--master local[*]]`).

The same corpus as the local engine, byte for byte (shards, manifest, rejects.jsonl): the record-level stages are
Spark transformations that call the local engine's own functions one record at a time, and the few decisions that
need a whole dataset are made on the driver from what Spark counted.

1. adapters + data contract + quality rules (`mapInPandas`): `sources.ted_record` / `youtube_record` /
   `collected_record` (normalisation, language guess), `validate_records`, `_quality_reasons`; rejects leave here
   as their rejects.jsonl line;
2. tag rules: Spark counts channel spellings, tag keys per channel and tag spellings; the driver turns the counts
   into `TagRules` (the local engine's), applied per record (`mapInPandas`), rule counts summed by Spark;
3. splits: TED by date rank (a window over date and read order), YouTube by channel sizes (`group_assignment`);
4. leakage: each transcript's 5-gram shingles as 64-bit ids (`shingle_sets`, the local engine's), candidates by
   prefix filtering (a pair with cosine >= t must share one of each side's k - ceil(t^2|x|) + 1 rarest features,
   k counting the features a one-sided filter says another transcript may hold) instead of comparing every pair,
   verified with the exact similarity (`binary_cosine`);
5. shards: rows numbered per split in read order, one `write_shard` per group of `rows_per_shard` rows, written by
   the executors (a cluster needs `--output` on storage they share); the manifest from Spark's counts.

Order matters where the local engine's output depends on it (the first spelling seen wins a tie, equal dates keep
read order, shard contents): every record carries its source and position (`_src`, `_pos`) from the read on.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from collections.abc import Callable, Iterator
from functools import reduce
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from data_contracts import RECORD_FIELDS, Rejection, validate_records
from pipelines import sources
from pipelines.build_corpus import (
    BuildConfig,
    TagRules,
    _quality_reasons,
    new_output,
    split_summary,
    vocabulary_info,
    write_manifest,
)
from pipelines.splits import (
    SHARED_FILTER_BITS,
    SHINGLE_SKETCH,
    SPLITS,
    SharedShingles,
    binary_cosine,
    bucket_repeats,
    group_assignment,
    may_be_shared,
    shingle_sets,
    sketch_buckets,
    split_sizes,
)
from tubetags import settings
from tubetags import spark as sparkutil
from tubetags.corpus import shard_name, write_shard
from tubetags.tags import TagRuleReport, channel_key, normalise_tag, tag_key

log = logging.getLogger(__name__)

DATASETS = ("ted", "youtube")
STAGES = ("contract", "quality", "tags")  # rejects.jsonl order within a dataset; leakage comes after all datasets
RECORD_DDL = (
    "video_id string, source string, channel string, title string, description string, published string, "
    "language string, tags array<string>, transcript string, transcript_source string"
)
CHECKED_DDL = (
    f"{RECORD_DDL}, _d int, _src int, _pos long, _stage string, _reject string, _ckey string, "
    "_tag_forms array<struct<key:string,form:string>>, _tag_keys array<string>"
)
RULED_DDL = (
    f"{RECORD_DDL}, _d int, _src int, _pos long, _ckey string, _stage string, _reject string, _rules map<string,int>"
)
ADAPTERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "ted": sources.ted_record,
    "youtube": sources.youtube_record,
    "collected": sources.collected_record,
}


def _plain(value: Any) -> Any:
    """A pandas cell as the local engine sees it: arrays as lists, missing values as None."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _reject_line(rejection: Rejection) -> str:
    return json.dumps(rejection.to_row(), default=str)


def check_records(adapter: str, dataset: int, src: int, config: BuildConfig):
    """mapInPandas: raw rows -> records through the adapter, the contract and the quality rules."""
    adapt = ADAPTERS[adapter]
    is_csv = adapter != "collected"

    columns = [c.split()[0] for c in CHECKED_DDL.split(", ")]

    def run(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for frame in frames:
            out = []
            for raw in frame.to_dict("records"):
                pos = raw.pop("_pos")
                raw = {k: _plain(v) for k, v in raw.items()}
                if is_csv:  # the local engine reads CSV fields as text, an empty one as ''
                    raw = {k: "" if v is None else v for k, v in raw.items()}
                base = dict.fromkeys(columns) | {"_d": dataset, "_src": src, "_pos": pos}
                accepted, rejected = validate_records([adapt(raw)])
                if rejected:
                    out.append(base | {"_stage": "contract", "_reject": _reject_line(rejected[0])})
                    continue
                record = accepted[0]
                reason = _quality_reasons(record, config)
                if reason:
                    rejection = Rejection(record.to_row(), reason, stage="quality")
                    out.append(base | {"_stage": "quality", "_reject": _reject_line(rejection)})
                    continue
                forms = [(tag_key(n), n) for n in map(normalise_tag, record.tags) if n]
                out.append(
                    base
                    | record.to_row()
                    | {
                        "_ckey": channel_key(record.channel),
                        "_tag_forms": [{"key": k, "form": f} for k, f in forms],
                        "_tag_keys": sorted({tag_key(t) for t in record.tags}),
                    }
                )
            yield pd.DataFrame(out, columns=columns)

    return run


def apply_rules(rules: dict[int, TagRules]):
    """mapInPandas: the tag rules on each record; a record left without tags becomes a reject."""

    def run(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for frame in frames:
            out = []
            for raw in frame.to_dict("records"):
                row = {k: _plain(raw[k]) for k in RECORD_FIELDS}
                report = TagRuleReport()
                row = rules[raw["_d"]].apply(row, report)
                extra = {"_d": raw["_d"], "_src": raw["_src"], "_pos": raw["_pos"], "_ckey": raw["_ckey"]}
                extra |= {"_rules": report.as_dict(), "_stage": None, "_reject": None}
                if not row["tags"]:
                    rejection = Rejection(row, "no tags left after tag normalisation", stage="tags")
                    extra |= {"_stage": "tags", "_reject": _reject_line(rejection)}
                out.append(row | extra)
            yield pd.DataFrame(out, columns=[c.split()[0] for c in RULED_DDL.split(", ")])

    return run


PARTITION_BYTES = 8 * 2**20  # of compressed input per partition: ~30 MB of transcripts (a few thousand records)


def shingles(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """mapInPandas: each transcript's hashed shingle features (the local engine's)."""
    for frame in frames:
        features = shingle_sets(frame["transcript"].tolist())
        yield pd.DataFrame(
            {
                "_d": frame["_d"],
                "_src": frame["_src"],
                "_pos": frame["_pos"],
                "_rank": frame["_rank"],
                "features": [f.tolist() for f in features],
                "n": [len(f) for f in features],
            }  # fmt: skip
        )


def min_overlap(n: int, threshold: float) -> int:
    """The fewest shared features a set of n can have with any set at cosine >= t: t^2 n (the partner is at least
    t^2 n long and cosine is overlap / sqrt(n m)); taken a hair low, so that rounding can only lengthen a prefix
    (more candidates, none missed)."""
    return max(math.floor(n * (threshold * threshold * (1 - 1e-9))), 1)


def prefix_limit(n: int, threshold: float, shared: int) -> int:
    """PPJoin's prefix: a pair with overlap >= a shares one of each side's first k - a + 1 features in one global
    order, where k (`shared`) counts the set's n features that can be shared at all. At most 0 means the set has
    no near-duplicate."""
    return shared - min_overlap(n, threshold) + 1


SKETCH_SAMPLE = 4000  # transcripts whose shingles estimate the frequencies (all of them in a smaller corpus)


def frequency_sketch(features, total: int, sample: int) -> np.ndarray:
    """Document frequencies per bucket of the 64-bit ids (`sketch_buckets`), counted on the driver over about
    `sample` of the `total` transcripts: common shingles are common in any sample, and the prefix filter is exact
    under any global order, so an estimate only costs candidates, never pairs. Counting every shingle in Spark
    instead (an explode and a group-by over ~2,000 rows per transcript) ran out of aggregation memory at 64x, with a
    4 or 8 GB heap (docs/benchmarks.md)."""
    chosen = features if total <= sample else features.sample(fraction=sample / total, seed=0)
    sketch = np.zeros(SHINGLE_SKETCH, dtype=np.int32)
    for row in chosen.select("features").toLocalIterator():
        np.add.at(sketch, sketch_buckets(np.asarray(row["features"], dtype=np.int64)), 1)
    return sketch


FILTER_SLICES = 256  # the shared-shingle filter is merged and collected in slices of at most 512 KB


def repeated_buckets(bits: int) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """mapInPandas: per batch of transcripts, the shared-filter buckets their shingles fill once and more than once
    (`bucket_repeats`), cut into `FILTER_SLICES` slices: one row per slice, the buckets as little-endian uint32
    offsets into it."""
    size = bits // FILTER_SLICES

    def run(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for frame in frames:
            once, repeated = bucket_repeats([np.asarray(f, np.int64) for f in frame["features"]], bits)
            edges = np.arange(FILTER_SLICES + 1) * size
            cut = {name: np.searchsorted(b, edges) for name, b in (("once", once), ("repeated", repeated))}
            out: dict[str, list] = {"slice": [], "once": [], "repeated": []}
            for n in range(FILTER_SLICES):
                if cut["once"][n] == cut["once"][n + 1] and cut["repeated"][n] == cut["repeated"][n + 1]:
                    continue
                out["slice"].append(n)
                for name, b in (("once", once), ("repeated", repeated)):
                    out[name].append((b[cut[name][n] : cut[name][n + 1]] - n * size).astype("<u4").tobytes())
            yield pd.DataFrame(out)

    return run


def shared_shingles(features, bits: int) -> np.ndarray:
    """Which shingles more than one transcript may hold (`SharedShingles.shared`: packed bits, `bits` a multiple of
    8 * FILTER_SLICES), from every transcript's shingles in one pass. Most shingles are in one transcript only (99%
    at 64x the sources, 5-gram ids): no pair can share them, so leaving them out of the prefixes leaves out most
    prefix rows without losing a pair (docs/benchmarks.md). Merged by Spark slice by slice (a group per slice), so
    neither an executor nor the driver ever holds more than the filter itself: the buckets of all 64x shingles are
    ~1.5 GB, and collecting them per partition overflowed an 8 GB heap."""
    if bits % (8 * FILTER_SLICES):
        raise ValueError(f"the shared-shingle filter needs a multiple of {8 * FILTER_SLICES} bits, not {bits}")
    size = bits // FILTER_SLICES

    def merge(frame: pd.DataFrame) -> pd.DataFrame:
        part = SharedShingles(size)
        for once, repeated in zip(frame["once"], frame["repeated"]):
            part.add(*(np.frombuffer(b, "<u4").astype(np.int64) for b in (once, repeated)))
        return pd.DataFrame({"slice": [int(frame["slice"].iloc[0])], "bits": [part.shared.tobytes()]})

    slices = (
        features.select("features")
        .mapInPandas(repeated_buckets(bits), "slice int, once binary, repeated binary")
        .groupBy("slice")
        .applyInPandas(merge, "slice int, bits binary")
    )
    shared = np.zeros(bits // 8, np.uint8)
    for row in slices.toLocalIterator():
        start = row["slice"] * size // 8
        shared[start : start + size // 8] = np.frombuffer(row["bits"], np.uint8)
    marked = int(np.bitwise_count(shared).sum())
    log.info("shared-shingle filter: %d of %d buckets marked (%.1f%%)", marked, bits, 100 * marked / bits)
    return shared


def prefixes(
    sketch: np.ndarray, shared: np.ndarray, threshold: float
) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """mapInPandas: each transcript's prefix features, rarest first, one row each, with the transcript's feature
    count `n` (the length filter reads it from the pairs).
    `sketch`: document frequencies per bucket of the 64-bit ids (`frequency_sketch`, 16 MB as int32), and `shared`
    (`SharedShingles.shared`, up to 128 MB of bits), shipped with the function (PySpark broadcasts a large one;
    Spark Connect sends it in the plan: no SparkContext needed). The prefix is taken from the shingles that other
    transcripts may hold; it is exact under any global order of the ids, and (bucket count, id) is one; the sketch
    only keeps common shingles out of the prefixes."""

    def run(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for frame in frames:
            out: dict[str, list] = {name: [] for name in ("_d", "_src", "_pos", "_rank", "n", "f")}
            for d, src, pos, rank, features in zip(
                frame["_d"], frame["_src"], frame["_pos"], frame["_rank"], frame["features"]
            ):
                ids = np.asarray(features, dtype=np.int64)
                candidates = ids[may_be_shared(shared, ids)]
                limit = prefix_limit(len(ids), threshold, len(candidates))
                if limit <= 0:
                    continue  # too few shingles that anyone else holds: no near-duplicate anywhere
                kept = candidates[np.lexsort((candidates, sketch[sketch_buckets(candidates)]))][:limit]
                for name, value in (("_d", d), ("_src", src), ("_pos", pos), ("_rank", rank), ("n", len(ids))):
                    out[name] += [value] * len(kept)
                out["f"] += kept.tolist()
            yield pd.DataFrame(out)

    return run


def similarities(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """mapInPandas: the exact cosine of each candidate pair, as the local engine's sparse product computes it."""
    for frame in frames:
        frame["sim"] = [binary_cosine(o, a, b) for o, a, b in zip(frame["overlap"], frame["n_l"], frame["n_e"])]
        yield frame


def read_raw(spark, source_files: dict[str, Path]):
    """(dataset index, adapter, source index, DataFrame with `_pos`, file bytes) for each input, in the local
    engine's order."""
    from pyspark.sql import functions as F

    def positioned(df):
        # One partition per file read (gzip cannot be split), so the id follows the file's order.
        return df.withColumn("_pos", F.monotonically_increasing_id())

    def csv(path: Path):
        return spark.read.csv(str(path), header=True, multiLine=True, escape='"', inferSchema=False)

    inputs = [
        (0, "ted", 0, positioned(csv(source_files["ted"])), source_files["ted"].stat().st_size),
        (1, "youtube", 0, positioned(csv(source_files["youtube"])), source_files["youtube"].stat().st_size),
    ]
    collected = settings.work_dir() / "collected"
    if collected.exists():
        for i, path in enumerate(sources.collected_files(collected), start=1):
            inputs.append((1, "collected", i, positioned(spark.read.parquet(str(path))), path.stat().st_size))
    return inputs


def tag_rules(kept, config: BuildConfig) -> dict[int, TagRules]:
    """Each dataset's TagRules from Spark's counts (the local engine's `normalise_dataset_tags`, decided the same)."""
    from pyspark.sql import functions as F

    spellings = (
        kept.groupBy("_d", "_ckey", "channel")
        .agg(F.count("*").alias("n"), F.min(F.struct("_src", "_pos")).alias("first"))
        .collect()
    )
    channels: dict[int, dict[str, str]] = {}
    best: dict[tuple[int, str], tuple[int, Any]] = {}
    for r in spellings:
        key = (r["_d"], r["_ckey"])
        seen = (-r["n"], (r["first"]["_src"], r["first"]["_pos"]))  # most frequent, then the first seen
        if key not in best or seen < best[key]:
            best[key] = seen
            channels.setdefault(r["_d"], {})[r["_ckey"]] = r["channel"]
    videos = kept.groupBy("_d", "_ckey").agg(F.count("*").alias("videos"))
    per_key = (
        kept.select("_d", "_ckey", F.explode("_tag_keys").alias("key"))
        .groupBy("_d", "_ckey", "key")
        .agg(F.count("*").alias("n"))
        .join(videos, ["_d", "_ckey"])
        .where((F.col("videos") >= 5) & (F.col("n") / F.col("videos") >= config.channel_tag_share))
        .collect()
    )
    constant: dict[int, dict[str, set[str]]] = {}
    for r in videos.where(F.col("videos") >= 5).collect():
        constant.setdefault(r["_d"], {})[r["_ckey"]] = set()
    for r in per_key:
        constant[r["_d"]][r["_ckey"]].add(r["key"])
    forms = (
        kept.select("_d", F.explode("_tag_forms").alias("f"))
        .where(F.col("f.key") != "")
        .groupBy("_d", "f.key", "f.form")
        .agg(F.count("*").alias("n"))
        .collect()
    )
    canonical: dict[int, dict[str, tuple[tuple[int, int, str], str]]] = {}
    for r in forms:
        rank = (-r["n"], len(r["form"]), r["form"])  # canonical_forms: most frequent, then shortest, then by name
        current = canonical.setdefault(r["_d"], {}).get(r["key"])
        if current is None or rank < current[0]:
            canonical[r["_d"]][r["key"]] = (rank, r["form"])
    event_keys = frozenset(tag_key(t) for t in config.drop_event_tags)
    return {
        d: TagRules(
            channels.get(d, {}),
            constant.get(d, {}),
            {k: form for k, (_, form) in canonical.get(d, {}).items()},
            event_keys,
        )
        for d in range(len(DATASETS))
    }


def assign_splits(spark, rows, config: BuildConfig):
    """`_split` and `_rank` (0 train, 1 valid, 2 test) on each row: TED by date, the others by channel."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    ted = rows.where(F.col("_d") == 0)
    n = ted.count()
    n_train, n_valid, _ = split_sizes(n, config.valid_share, config.test_share)
    order = Window.orderBy(F.coalesce(F.col("published"), F.lit("")), "_src", "_pos")
    position = F.row_number().over(order) - 1
    ted_split = ted.select("_d", "_src", "_pos", position.alias("i")).select(
        "_d",
        "_src",
        "_pos",
        F.when(F.col("i") < n_train, "train")
        .when(F.col("i") < n_train + n_valid, "valid")
        .otherwise("test")
        .alias("_split"),
    )
    sizes = {
        r["_ckey"]: r["n"]
        for r in rows.where(F.col("_d") == 1).groupBy("_ckey").count().withColumnRenamed("count", "n").collect()
    }
    assignment = group_assignment(sizes, config.youtube_holdout_share, config.youtube_holdout_share)
    by_channel = spark.createDataFrame(list(assignment.items()) or [("", "train")], "_ckey string, _split string")
    other_split = (
        rows.where(F.col("_d") == 1).select("_d", "_src", "_pos", "_ckey").join(by_channel, "_ckey").drop("_ckey")
    )
    splits = ted_split.unionByName(other_split)
    rank = F.when(F.col("_split") == "train", 0).when(F.col("_split") == "valid", 1).otherwise(2)
    return rows.join(splits, ["_d", "_src", "_pos"]).withColumn("_rank", rank)


def shared_filter_bits(shingles: int) -> int:
    """Buckets for the shared-shingle filter: four per shingle (under a quarter of them set, so fewer than a quarter
    of the shingles that no one else holds pass it), a power of two from 2^20 up to 2^30 (128 MB). Over Spark
    Connect the filter travels in the plan: at 2^30 bits (from ~22x these sources' 6.1 M shingles) it and the 16 MB
    sketch outgrow the server's default `spark.connect.grpc.maxInboundMessageSize` (128 MB): raise it."""
    return int(min(max(2 ** math.ceil(math.log2(max(4 * shingles, 1))), 2**20), SHARED_FILTER_BITS))


def leaked_rows(rows, threshold: float, sketch_sample: int = SKETCH_SAMPLE, shared_bits: int | None = None):
    """(later row key, earlier row key, similarity) for each row with a near-duplicate in an earlier split: the most
    similar one, ties to the first read (the local engine's `most_similar_earlier`)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    keys = ["_d", "_src", "_pos"]
    features = (
        rows.select(*keys, "_rank", "transcript")
        .mapInPandas(shingles, "_d int, _src int, _pos long, _rank int, features array<long>, n int")
        .where(F.col("n") > 0)
        .persist()
    )
    # Document frequencies in a bounded sketch, shipped to every task; each transcript then picks its own prefix.
    # Joining every (transcript, feature) row with exact frequencies and ranking them in a window shuffled ~50 M
    # rows at 8x this corpus and filled a disk (docs/benchmarks.md).
    totals = features.agg(F.count("*").alias("transcripts"), F.sum("n").alias("shingles")).first()
    sketch = frequency_sketch(features, totals["transcripts"], sketch_sample)
    if shared_bits is None:
        shared_bits = shared_filter_bits(int(totals["shingles"] or 0))
    shared = shared_shingles(features, shared_bits)
    prefix = features.select(*keys, "_rank", "features").mapInPandas(
        prefixes(sketch, shared, threshold), "_d int, _src int, _pos long, _rank int, n int, f long"
    )
    later, earlier = prefix.alias("l"), prefix.alias("e")
    # PPJoin's length filter, exact: cosine >= t needs the smaller set to hold >= t^2 of the larger (a hair looser
    # for rounding). Half the candidate pairs of the real corpus fail it, and each pair that reaches the
    # verification ships both shingle arrays (~28 kB) (docs/benchmarks.md).
    long_enough = F.least("n_l", "n_e") >= F.greatest("n_l", "n_e") * (threshold * threshold * (1 - 1e-9))
    pairs = (
        later.join(earlier, (F.col("l.f") == F.col("e.f")) & (F.col("l._rank") > F.col("e._rank")))
        .select(
            *[F.col(f"l.{k}").alias(f"l{k}") for k in keys],
            *[F.col(f"e.{k}").alias(f"e{k}") for k in keys],
            F.col("l.n").alias("n_l"),
            F.col("e.n").alias("n_e"),
        )
        .distinct()
        .where(long_enough)
    )
    fl = features.select(*[F.col(k).alias(f"l{k}") for k in keys], F.col("features").alias("fl"))
    fe = features.select(*[F.col(k).alias(f"e{k}") for k in keys], F.col("features").alias("fe"))
    checked = (
        pairs.join(fl, [f"l{k}" for k in keys])
        .join(fe, [f"e{k}" for k in keys])
        .withColumn("overlap", F.size(F.array_intersect("fl", "fe")))
        .drop("fl", "fe")
        .mapInPandas(
            similarities,
            "l_d int, l_src int, l_pos long, e_d int, e_src int, e_pos long, n_l int, n_e int, overlap int, sim double",
        )
        .where(F.col("sim") >= threshold)
    )
    best = Window.partitionBy("l_d", "l_src", "l_pos").orderBy(F.desc("sim"), "e_d", "e_src", "e_pos")
    return checked.withColumn("r", F.row_number().over(best)).where(F.col("r") == 1).drop("r")


def write_shards(rows, output: Path, rows_per_shard: int) -> dict[tuple[int, str], list[dict[str, Any]]]:
    """Rows numbered per split in read order, `rows_per_shard` to a shard, each shard written by an executor."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    number = F.row_number().over(Window.partitionBy("_d", "_split").orderBy("_src", "_pos")) - 1
    root = str(output)

    def write(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.sort_values("i")
        d, split, shard = int(frame["_d"].iloc[0]), str(frame["_split"].iloc[0]), int(frame["shard"].iloc[0])
        folder = Path(root) / DATASETS[d] / split
        folder.mkdir(parents=True, exist_ok=True)
        records = [{k: _plain(r[k]) for k in RECORD_FIELDS} for r in frame.to_dict("records")]
        info = write_shard(records, folder / shard_name(shard))
        return pd.DataFrame(
            [{"_d": d, "_split": split, "shard": shard, "rows": info["rows"], "sha256": info["sha256"]}]
        )

    written = (
        rows.withColumn("i", number)
        .withColumn("shard", (F.col("i") / rows_per_shard).cast("int"))
        .groupBy("_d", "_split", "shard")
        .applyInPandas(write, "_d int, _split string, shard int, rows long, sha256 string")
        .collect()
    )
    shards: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for r in sorted(written, key=lambda r: (r["_d"], r["_split"], r["shard"])):
        path = f"{DATASETS[r['_d']]}/{r['_split']}/{shard_name(r['shard'])}"
        shards.setdefault((r["_d"], r["_split"]), []).append({"path": path, "rows": r["rows"], "sha256": r["sha256"]})
    return shards


def split_stats(rows, d: int, split: str, vocabulary: set[str]) -> dict[str, Any]:
    from pyspark.sql import functions as F

    part = rows.where((F.col("_d") == d) & (F.col("_split") == split))
    published = F.when(F.col("published") != "", F.col("published"))
    stats = part.agg(
        F.count("*").alias("rows"),
        F.countDistinct("_ckey").alias("channels"),
        F.min(published).alias("first"),
        F.max(published).alias("last"),
        F.coalesce(F.sum(F.size("tags")), F.lit(0)).alias("tags"),
    ).first()
    vocab = F.array(*[F.lit(t) for t in sorted(vocabulary)]) if vocabulary else F.array().cast("array<string>")
    covered = part.select(F.explode("tags").alias("t")).where(F.array_contains(vocab, F.col("t"))).count()
    return split_summary(
        int(stats["rows"]),
        int(stats["channels"]),
        (stats["first"], stats["last"]) if stats["first"] else None,
        int(stats["tags"]),
        covered,
    )


def build_spark(config: BuildConfig) -> dict[str, Any]:
    """The corpus built on Spark; returns the manifest (identical to the local engine's but for `built_at`)."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    source_files = {name: settings.require_source_file(name) for name in settings.SOURCE_FILES}
    spark = sparkutil.session(config.master, "tubetags-build-corpus")
    total_bytes = sum(path.stat().st_size for path in source_files.values())
    # Partitions sized by the data, not only by the cores: at 64x the source files, four partitions per input held
    # ~0.5 GB of transcripts each and a cached one no longer fit the 4 GB heap (docs/benchmarks.md).
    tasks = 2 * sparkutil.default_parallelism(spark)
    shuffle = max(int(spark.conf.get("spark.sql.shuffle.partitions")), math.ceil(total_bytes / PARTITION_BYTES))
    spark.conf.set("spark.sql.shuffle.partitions", str(shuffle))
    inputs = read_raw(spark, source_files)
    parts = [
        df.repartition(max(tasks, math.ceil(size / PARTITION_BYTES))).mapInPandas(
            check_records(adapter, d, src, config), CHECKED_DDL
        )
        for d, adapter, src, df, size in inputs
    ]
    checked = reduce(lambda a, b: a.unionByName(b), parts).persist(StorageLevel.MEMORY_AND_DISK)
    kept = checked.where(F.col("_stage").isNull())
    rules = tag_rules(kept, config)
    log.info("adapters, contract, quality rules: done; tag rules learned")
    ruled = kept.mapInPandas(apply_rules(rules), RULED_DDL).persist(StorageLevel.MEMORY_AND_DISK)
    rows = assign_splits(spark, ruled.where(F.col("_stage").isNull()), config).persist(StorageLevel.MEMORY_AND_DISK)
    log.info("tag rules applied, splits assigned: %d rows", rows.count())

    leaks = leaked_rows(rows, config.near_duplicate_threshold).collect()
    log.info("leakage check: %d near-duplicates", len(leaks))
    earlier_keys = spark.createDataFrame(
        [(r["e_d"], r["e_src"], r["e_pos"]) for r in leaks] or [(-1, -1, -1)], "_d int, _src int, _pos long"
    )
    named = rows.join(earlier_keys.distinct(), ["_d", "_src", "_pos"], "left_semi").select(
        "_d", "_src", "_pos", "video_id", "_split"
    )
    keyed = {(r["_d"], r["_src"], r["_pos"]): (r["video_id"], r["_split"]) for r in named.collect()}
    leaked_keys = spark.createDataFrame(
        [(r["l_d"], r["l_src"], r["l_pos"]) for r in leaks] or [(-1, -1, -1)], "_d int, _src int, _pos long"
    )
    leaked = rows.join(leaked_keys, ["_d", "_src", "_pos"], "left_semi")
    remaining = rows.join(leaked_keys, ["_d", "_src", "_pos"], "left_anti")

    rejects = collect_rejects(checked, ruled, leaked, leaks, keyed)
    output = new_output(Path(config.output))
    shards = write_shards(remaining, output, config.rows_per_shard)
    log.info("shards written")
    read: Counter[int] = Counter()
    contract: Counter[int] = Counter()
    for r in checked.groupBy("_d", "_stage").count().collect():
        read[r["_d"]] += r["count"]
        contract[r["_d"]] += r["count"] if r["_stage"] == "contract" else 0
    rule_counts: dict[int, Counter] = {d: Counter() for d in range(len(DATASETS))}
    for r in ruled.select("_d", F.explode("_rules")).groupBy("_d", "key").agg(F.sum("value").alias("n")).collect():
        rule_counts[r["_d"]][r["key"]] += int(r["n"])
    datasets: dict[str, dict[str, Any]] = {}
    for d, dataset in enumerate(DATASETS):
        train = remaining.where((F.col("_d") == d) & (F.col("_split") == "train"))
        train_freq = {
            r["t"]: int(r["n"])
            for r in train.select(F.explode("tags").alias("t")).groupBy("t").agg(F.count("*").alias("n")).collect()
        }
        info: dict[str, Any] = {
            "read": read[d],
            "contract_rejected": contract[d],
            "tag_rules": dict(sorted(rule_counts[d].items())),
        }
        info.update(vocabulary_info(train_freq, config.min_tag_freq))
        vocabulary = set(info["vocabulary"])
        info["splits"] = {
            split: split_stats(remaining, d, split, vocabulary) | {"shards": shards.get((d, split), [])}
            for split in SPLITS
        }
        datasets[dataset] = info
    manifest = write_manifest(config, source_files, datasets, len(leaks), rejects, output)
    for df in (checked, ruled, rows):
        df.unpersist()
    return manifest


def collect_rejects(checked, ruled, leaked, leaks, keyed) -> list[Rejection]:
    """Every reject in the local engine's order: per dataset contract, quality, tags (each in read order); then
    leakage in read order over both datasets."""
    from pyspark.sql import functions as F

    stage_order = F.when(F.col("_stage") == "contract", 0).when(F.col("_stage") == "quality", 1).otherwise(2)
    lines = [
        r["_reject"]
        for r in checked.where(F.col("_stage").isNotNull())
        .select("_d", "_src", "_pos", "_stage", "_reject")
        .unionByName(ruled.where(F.col("_stage").isNotNull()).select("_d", "_src", "_pos", "_stage", "_reject"))
        .orderBy("_d", stage_order, "_src", "_pos")
        .select("_reject")
        .toLocalIterator()
    ]
    rejects = [
        Rejection(**{k: v for k, v in json.loads(line).items() if k in ("record", "reason", "stage")}) for line in lines
    ]
    by_later = {(r["l_d"], r["l_src"], r["l_pos"]): r for r in leaks}
    for row in leaked.orderBy("_d", "_src", "_pos").toLocalIterator():
        pair = by_later[(row["_d"], row["_src"], row["_pos"])]
        earlier_key = (pair["e_d"], pair["e_src"], pair["e_pos"])
        video_id, split = keyed[earlier_key]
        record = {k: _plain(row[k]) for k in RECORD_FIELDS}
        reason = f"near-duplicate (similarity {pair['sim']:.2f}) of {video_id} in {DATASETS[pair['e_d']]}/{split}"
        rejects.append(Rejection(record, reason, stage="leakage"))
    return rejects
