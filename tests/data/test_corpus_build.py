"""The data contract and the corpus build over the real source files (../shared/data).

`real_corpus` (tests/conftest.py) builds the corpus exactly as `make corpus` does; these tests check
what the build promises in docs/data.md against what it actually wrote: shards,
manifest and rejects.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from itertools import combinations

import pyarrow.parquet as pq
import pytest

from data_contracts import RECORD_FIELDS, validate_records
from pipelines import sources
from pipelines.splits import SPLITS, near_duplicates
from tubetags import settings
from tubetags.corpus import SCHEMA, sha256_of
from tubetags.tags import channel_key, tag_key

DATASETS = ("ted", "youtube")


@pytest.fixture(scope="module")
def rows(real_corpus) -> dict[str, dict[str, list[dict]]]:
    """Every kept record, all columns, by dataset and split."""
    return {dataset: {split: list(real_corpus.split(dataset, split).records(columns=RECORD_FIELDS))
                      for split in SPLITS}
            for dataset in DATASETS}


@pytest.fixture(scope="module")
def rejects(real_corpus) -> list[dict]:
    lines = (real_corpus.root / "rejects.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def source_ids() -> dict[str, list[str]]:
    """The video ids the adapters read from the source files (as build_corpus reads them)."""
    ids = {"ted": [r["video_id"] for r in sources.read_ted(settings.require_source_file("ted"))],
           "youtube": [r["video_id"] for r in sources.read_youtube(settings.require_source_file("youtube"))]}
    collected = settings.work_dir() / "collected"
    if collected.exists():
        ids["youtube"] += [r["video_id"] for r in sources.read_collected(collected)]
    return ids


def test_both_datasets_have_every_split(real_corpus, rows):
    assert set(real_corpus.manifest["datasets"]) == set(DATASETS)
    for dataset in DATASETS:
        for split in SPLITS:
            assert rows[dataset][split], f"{dataset}/{split} is empty"
            assert len(rows[dataset][split]) == real_corpus.size(dataset, split)


def test_nothing_is_lost_kept_plus_rejected_equals_read(real_corpus, rows, rejects, source_ids):
    manifest = real_corpus.manifest
    rejected_by_dataset = Counter(r["source"] for r in rejects)
    for dataset in DATASETS:
        info = manifest["datasets"][dataset]
        kept = sum(len(rows[dataset][split]) for split in SPLITS)
        assert info["read"] == len(source_ids[dataset])
        assert kept + rejected_by_dataset[dataset] == info["read"], dataset
        # Not only the counts: each record read is either kept or rejected, exactly once.
        kept_ids = [r["video_id"] for split in SPLITS for r in rows[dataset][split]]
        rejected_ids = [r["video_id"] for r in rejects if r["source"] == dataset]
        assert Counter(kept_ids) + Counter(rejected_ids) == Counter(source_ids[dataset]), dataset
        contract = sum(r["stage"] == "contract" and r["source"] == dataset for r in rejects)
        assert contract == info["contract_rejected"], dataset
    assert sum(rejected_by_dataset.values()) == len(rejects) == manifest["rejected"]["total"]
    assert Counter(r["stage"] for r in rejects) == Counter(manifest["rejected"]["by_stage"])
    assert manifest["rejected"]["by_stage"].get("leakage", 0) == manifest["leakage"]["near_duplicates_removed"]


def test_every_reject_says_why(rejects):
    assert rejects, "the real files hold bad records; none rejected means the contract did not run"
    for reject in rejects:
        assert reject["stage"] in {"contract", "quality", "tags", "leakage"}
        assert reject["reason"].strip()
        assert isinstance(reject["record"], dict) and reject["record"]


def test_contract_rejects_really_break_the_contract(rejects):
    contract = [r["record"] for r in rejects if r["stage"] == "contract"]
    assert contract
    accepted, rejected = validate_records(contract)
    assert accepted == [] and len(rejected) == len(contract)


def test_kept_records_pass_the_contract_and_the_quality_rules(real_corpus, rows):
    config = real_corpus.manifest["config"]
    for dataset in DATASETS:
        for split in SPLITS:
            accepted, rejected = validate_records(rows[dataset][split])
            assert rejected == [], [r.reason for r in rejected[:3]]
            for record in accepted:
                assert record.source == dataset
                assert len(record.transcript.split()) >= config["min_words"]
                assert record.language in config["languages"]
                assert all(tag_key(t) not in {tag_key(e) for e in config["drop_event_tags"]} for t in record.tags)


def test_shards_have_the_contract_schema(real_corpus):
    assert SCHEMA.names == list(RECORD_FIELDS)
    for dataset in DATASETS:
        for path in real_corpus.shards(dataset, "train")[:1]:
            assert pq.read_schema(path).names == list(RECORD_FIELDS)


def test_ted_split_is_chronological(real_corpus, rows):
    dates = {split: sorted(r["published"] for r in rows["ted"][split] if r["published"]) for split in SPLITS}
    for split in SPLITS:
        # Almost every talk has a date; one without would sort first, into train.
        assert len(dates[split]) >= 0.99 * len(rows["ted"][split]), split
        assert real_corpus.manifest["datasets"]["ted"]["splits"][split]["published"] == [dates[split][0],
                                                                                          dates[split][-1]]
    assert dates["train"][-1] <= dates["valid"][0]
    assert dates["valid"][-1] <= dates["test"][0]
    assert dates["train"][0] < dates["test"][-1]


def test_youtube_channels_are_disjoint_across_splits(rows):
    channels = {split: {channel_key(r["channel"]) for r in rows["youtube"][split]} for split in SPLITS}
    for a, b in combinations(SPLITS, 2):
        assert not channels[a] & channels[b], (a, b, channels[a] & channels[b])
    assert all(channels[split] for split in SPLITS)
    # Spellings of one channel ('TED' / 'ted') are merged into one name.
    spellings = defaultdict(set)
    for split in SPLITS:
        for r in rows["youtube"][split]:
            spellings[channel_key(r["channel"])].add(r["channel"])
    assert all(len(names) == 1 for names in spellings.values()), {k: v for k, v in spellings.items() if len(v) > 1}


def test_no_transcript_or_video_in_two_splits(real_corpus, rows):
    where: dict[str, set[str]] = defaultdict(set)
    ids: dict[str, set[str]] = defaultdict(set)
    texts, splits = [], []
    for dataset in DATASETS:
        for split in SPLITS:
            for r in rows[dataset][split]:
                where[r["transcript"]].add(split)
                ids[r["video_id"]].add(f"{dataset}/{split}")
                texts.append(r["transcript"])
                splits.append(split)
    assert [t[:60] for t, s in where.items() if len(s) > 1] == []
    assert [i for i, s in ids.items() if len(s) > 1] == []
    # Near-identical copies (re-captioned uploads) across splits went to the rejects.
    threshold = real_corpus.manifest["leakage"]["threshold"]
    assert near_duplicates(texts, splits, threshold) == []


def test_channel_constant_tags_are_gone(real_corpus, rows):
    share = real_corpus.manifest["config"]["channel_tag_share"]
    by_channel: dict[str, list[list[str]]] = defaultdict(list)
    for r in rows["youtube"]["train"]:
        by_channel[channel_key(r["channel"])].append(r["tags"])
    checked = 0
    for channel, videos in by_channel.items():
        counts = Counter(key for tags in videos for key in {tag_key(t) for t in tags})
        assert channel not in counts, f"channel {channel!r} tags itself"
        if len(videos) < 5:
            continue
        checked += 1
        constant = {key: n for key, n in counts.items() if n / len(videos) >= share}
        assert not constant, f"{channel}: tags on >= {share:.0%} of its {len(videos)} videos: {constant}"
    assert checked, "no train channel with 5 videos or more: the rule was not exercised"
    rules = real_corpus.manifest["datasets"]["youtube"]["tag_rules"]
    assert rules.get("channel_constant_dropped", 0) > 0


def test_vocabulary_is_the_frequent_train_tags(real_corpus, rows):
    min_freq = real_corpus.manifest["config"]["min_tag_freq"]
    for dataset in DATASETS:
        info = real_corpus.manifest["datasets"][dataset]
        recount = Counter(t for r in rows[dataset]["train"] for t in r["tags"])
        expected = sorted(t for t, n in recount.items() if n >= min_freq)
        assert expected, dataset
        assert info["vocabulary"] == expected == real_corpus.vocabulary(dataset)
        assert info["tag_train_frequency"] == {t: recount[t] for t in expected}
        assert min(info["tag_train_frequency"].values()) >= min_freq


def test_shard_checksums_match_the_files(real_corpus):
    listed = set()
    for dataset in DATASETS:
        for split in SPLITS:
            entries = real_corpus.manifest["datasets"][dataset]["splits"][split]["shards"]
            assert sum(e["rows"] for e in entries) == real_corpus.size(dataset, split)
            for entry in entries:
                path = real_corpus.root / entry["path"]
                listed.add(path)
                assert sha256_of(path) == entry["sha256"], entry["path"]
                assert pq.ParquetFile(path).metadata.num_rows == entry["rows"]
    assert set(real_corpus.root.glob("*/*/*.parquet")) == listed  # no stray shard a reader would miss


def test_manifest_records_the_sources_it_was_built_from(real_corpus):
    for name, entry in real_corpus.manifest["sources"].items():
        assert sha256_of(settings.require_source_file(name)) == entry["sha256"]
