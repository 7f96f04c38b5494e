"""`build_corpus --engine spark` writes the local engine's corpus: same splits, counts, vocabulary, rejects, and
shards byte for byte (the manifest's checksums), on the real source files; and its leakage check (prefix
filtering) finds exactly the pairs the local engine's all-pairs product finds."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from data_contracts import RECORD_FIELDS
from pipelines.build_corpus import BuildConfig, build, most_similar_earlier
from pipelines.build_corpus_spark import leaked_rows
from pipelines.splits import SPLITS, near_duplicates
from tubetags.corpus import Corpus

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spark_corpus(spark, real_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("spark_corpus")
    build(BuildConfig.load({"output": out, "engine": "spark", "master": "local[2]"}))
    return Corpus.open(out)


def comparable(manifest: dict) -> dict:
    """The manifest without what differs between any two builds: when, and into which folder."""
    out = json.loads(json.dumps(manifest))
    out.pop("built_at")
    out["config"].pop("output")
    return out


def test_spark_manifest_equals_the_local_one(spark_corpus, real_corpus):
    spark_manifest, local_manifest = comparable(spark_corpus.manifest), comparable(real_corpus.manifest)
    for dataset, info in local_manifest["datasets"].items():
        spark_info = spark_manifest["datasets"][dataset]
        for key in ("read", "contract_rejected", "tag_rules", "vocabulary", "tag_train_frequency"):
            assert spark_info[key] == info[key], (dataset, key)
        for split in SPLITS:
            assert spark_info["splits"][split] == info["splits"][split], (dataset, split)  # counts and shard sha256s
    assert spark_manifest == local_manifest


def test_spark_rejects_equal_the_local_ones(spark_corpus, real_corpus):
    assert (spark_corpus.root / "rejects.jsonl").read_text() == (real_corpus.root / "rejects.jsonl").read_text()


def test_spark_shards_hold_the_same_rows_in_the_same_order(spark_corpus, real_corpus):
    for dataset in real_corpus.manifest["datasets"]:
        for split in SPLITS:
            local = [pq.read_table(p).to_pylist() for p in real_corpus.shards(dataset, split)]
            spark = [pq.read_table(p).to_pylist() for p in spark_corpus.shards(dataset, split)]
            assert spark == local, (dataset, split)
            assert all(list(row) == list(RECORD_FIELDS) for shard in spark for row in shard)


def test_prefix_filtered_leakage_finds_what_all_pairs_finds(spark):
    """Planted near-duplicates (exact copies, edited copies, a copy inside another dataset) among distinct texts."""
    words = [f"w{i}" for i in range(4000)]
    texts = [" ".join(words[i * 200 : i * 200 + 300]) for i in range(12)]  # neighbours overlap by 100 words
    texts += [texts[0], texts[1].replace("w250", "edited").replace("w300", "again"), texts[2][: len(texts[2]) // 2]]
    texts += [texts[3] + " an ending that adds a few more words", texts[4]]
    splits = ["train", "train", "valid", "train", "test", "valid", "test", "train", "test", "valid", "train", "test"]
    splits += ["test", "valid", "test", "valid", "train"]
    rows = spark.createDataFrame(
        [(int(i >= 8), 0, i, {"train": 0, "valid": 1, "test": 2}[s], t) for i, (t, s) in enumerate(zip(texts, splits))],
        "_d int, _src int, _pos long, _rank int, transcript string",
    )
    expected = most_similar_earlier(near_duplicates(texts, splits, 0.8))
    assert expected, "the planted copies must be found"
    # The same pairs and the same similarity to the last bit; indices are positions here. The prefixes' order comes
    # from shingle frequencies counted over every transcript, or over a sample of 5 (as in a large corpus), and the
    # shared-shingle filter is sized to the corpus or has 2,048 buckets (most marked shared): an estimate may
    # cost candidates, never a pair.
    for sample, shared_bits in ((4000, None), (5, None), (4000, 2048)):
        found = {r["l_pos"]: (r["e_pos"], r["sim"]) for r in leaked_rows(rows, 0.8, sample, shared_bits).collect()}
        assert found == expected, (sample, shared_bits)
