"""build_corpus: source files -> contract -> normalised tags -> splits -> Parquet shards + manifest.

    tubetags build-corpus [--min-tag-freq 5] [--min-words 100] ...
    mlflow run . -e build_corpus --env-manager local

Defaults: `BuildConfig` below, then configs/build_corpus.yaml if present, then the command line.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from tqdm import tqdm

from data_contracts import Rejection, VideoRecord, validate_records
from pipelines import sources
from pipelines.splits import SPLITS, chronological_split, group_split, near_duplicates
from tubetags import settings
from tubetags.config import JobConfig, comma_list
from tubetags.corpus import MANIFEST, sha256_of, write_shards
from tubetags.jobs import Job
from tubetags.tags import TagRuleReport, canonical_forms, channel_constant_keys, channel_key, clean_tags, tag_key
from tubetags.text import word_count

log = logging.getLogger(__name__)


class BuildConfig(JobConfig):
    job = "build_corpus"

    min_tag_freq: int = Field(5, ge=1, description="a tag seen fewer times in train cannot be learned")
    min_words: int = Field(100, ge=0, description="shorter transcripts (TED music performances) carry no topic")
    languages: tuple[str, ...] = Field(("en",), description="transcript languages kept (comma-separated)")
    rows_per_shard: int = Field(200, ge=1, description="rows per Parquet shard")
    valid_share: float = Field(0.1, gt=0, lt=0.5, description="TED: newest share before test -> valid")
    test_share: float = Field(0.1, gt=0, lt=0.5, description="TED: newest share -> test")
    youtube_holdout_share: float = Field(
        0.15, gt=0, lt=0.5, description="YouTube: share of videos per held-out split, whole channels"
    )
    channel_tag_share: float = Field(
        0.8, gt=0, le=1, description="a tag on >= this share of a channel's videos is channel-constant"
    )
    near_duplicate_threshold: float = Field(0.8, gt=0, le=1, description="cosine of 5-gram shingles for leakage")
    drop_event_tags: tuple[str, ...] = Field(("tedx",), description="tags naming the event, not the content")
    output: Path = Field(default_factory=settings.corpus_dir, description="corpus folder")
    engine: Literal["local", "spark"] = Field("local", description="local: one process; spark: Apache Spark")
    master: str = Field("local[*]", description="with --engine spark: local[*], spark://..., sc://...")
    track: bool = Field(True, description="log the build as an MLflow run")

    @field_validator("languages", "drop_event_tags", mode="before")
    @classmethod
    def split_commas(cls, value: Any) -> Any:
        return comma_list(value)


def _quality_reasons(record: VideoRecord, config: BuildConfig) -> str | None:
    n_words = word_count(record.transcript)
    if n_words < config.min_words:
        return f"transcript has {n_words} words, fewer than min_words={config.min_words}"
    if config.languages and record.language not in config.languages:
        return f"language '{record.language}' not in {list(config.languages)}"
    return None


def _canonical_channels(records: list[VideoRecord]) -> dict[str, str]:
    """Each channel key's most frequent spelling ('ted' and 'TED' become 'TED')."""
    spellings: dict[str, Counter] = defaultdict(Counter)
    for r in records:
        spellings[channel_key(r.channel)][r.channel] += 1
    return {key: forms.most_common(1)[0][0] for key, forms in spellings.items()}


def normalise_dataset_tags(
    records: list[VideoRecord], config: BuildConfig, report: TagRuleReport
) -> list[dict[str, Any]]:
    """Clean every record's tags; channel-constant tags and event tags are dropped."""
    channels = _canonical_channels(records)
    by_channel: dict[str, list[list[str]]] = defaultdict(list)
    for r in records:
        by_channel[channel_key(r.channel)].append(r.tags)
    rules = TagRules(
        channels,
        channel_constant_keys(by_channel, min_share=config.channel_tag_share),
        canonical_forms(r.tags for r in records),
        frozenset(tag_key(t) for t in config.drop_event_tags),
    )
    return [rules.apply(r.to_row(), report) for r in records]


@dataclass(frozen=True)
class TagRules:
    """What the tag rules learned from a whole dataset, applied one record at a time (by either engine)."""

    channels: dict[str, str]  # channel key -> its most frequent spelling
    constant: dict[str, set[str]]  # channel key -> its channel-constant tag keys
    canonical: dict[str, str]  # tag key -> its most frequent spelling
    event_keys: frozenset[str]

    def apply(self, row: dict[str, Any], report: TagRuleReport) -> dict[str, Any]:
        key = channel_key(row["channel"])
        row["channel"] = self.channels.get(key, row["channel"])
        row["tags"] = clean_tags(
            row["tags"], self.canonical, report, drop_keys=self.event_keys, drop_reason="event_tag_dropped"
        )
        before = len(row["tags"])
        channel_drop = self.constant.get(key, set()) | ({key} if key else set())
        row["tags"] = [t for t in row["tags"] if tag_key(t) not in channel_drop]
        report.add("channel_constant_dropped", before - len(row["tags"]))
        return row


def assign_splits(dataset: str, rows: list[dict[str, Any]], config: BuildConfig) -> list[str]:
    if dataset == "ted":
        return chronological_split([r["published"] or "" for r in rows], config.valid_share, config.test_share)
    return group_split(
        [channel_key(r["channel"]) for r in rows], config.youtube_holdout_share, config.youtube_holdout_share
    )


def read_sources(source_files: dict[str, Path]) -> dict[str, list[dict[str, Any]]]:
    """Raw records per dataset: the two shared files, plus what `ingest` collected (YouTube)."""
    raw: dict[str, list[dict[str, Any]]] = {
        "ted": list(sources.read_ted(source_files["ted"])),
        "youtube": list(sources.read_youtube(source_files["youtube"])),
    }
    collected = settings.work_dir() / "collected"
    if collected.exists():
        raw["youtube"] += list(sources.read_collected(collected))
    return raw


def clean_dataset(
    dataset: str, rows: list[dict[str, Any]], config: BuildConfig, rejects: list[Rejection]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Contract, quality rules, tag rules and the split of one dataset: (rows with `_split`, its manifest info).
    Every record left out is appended to `rejects` with its stage and reason."""
    accepted, rejected = validate_records(tqdm(rows, desc=f"contract {dataset}", unit="rec"))
    rejects += rejected
    kept = []
    for record in accepted:
        reason = _quality_reasons(record, config)
        if reason:
            rejects.append(Rejection(record.to_row(), reason, stage="quality"))
        else:
            kept.append(record)
    report = TagRuleReport()
    with_tags = []
    for row in normalise_dataset_tags(kept, config, report):
        if row["tags"]:
            with_tags.append(row)
        else:
            rejects.append(Rejection(row, "no tags left after tag normalisation", stage="tags"))
    for row, split in zip(with_tags, assign_splits(dataset, with_tags, config)):
        row["_split"], row["_dataset"] = split, dataset
    return with_tags, {"read": len(rows), "contract_rejected": len(rejected), "tag_rules": report.as_dict()}


def remove_leakage(rows: list[dict[str, Any]], threshold: float, rejects: list[Rejection]) -> list[dict[str, Any]]:
    """Leakage: a transcript in two splits (either dataset) would be tested on what was learned. The later one of a
    near-duplicate pair goes to `rejects`."""
    pairs = near_duplicates([r["transcript"] for r in rows], [r["_split"] for r in rows], threshold)
    leaked = most_similar_earlier(pairs)
    for i, (j, sim) in sorted(leaked.items()):
        rejects.append(
            Rejection(
                {k: v for k, v in rows[i].items() if not k.startswith("_")},
                f"near-duplicate (similarity {sim:.2f}) of {rows[j]['video_id']} in "
                f"{rows[j]['_dataset']}/{rows[j]['_split']}",
                stage="leakage",
            )
        )
    return [r for i, r in enumerate(rows) if i not in leaked]


def most_similar_earlier(pairs: list[tuple[int, int, float]]) -> dict[int, tuple[int, float]]:
    """later -> (earlier, similarity): the most similar earlier copy (ties: the first one read) is the one named."""
    leaked: dict[int, tuple[int, float]] = {}
    for later, earlier, sim in pairs:
        if later not in leaked or (sim, -earlier) > (leaked[later][1], -leaked[later][0]):
            leaked[later] = (earlier, sim)
    return leaked


def split_info(split_rows: list[dict[str, Any]], train_freq: Counter, min_tag_freq: int) -> dict[str, Any]:
    """What the manifest says of one split (its shards are added by the caller)."""
    dates = sorted(r["published"] for r in split_rows if r["published"])
    return split_summary(
        len(split_rows),
        len({channel_key(r["channel"]) for r in split_rows}),
        (dates[0], dates[-1]) if dates else None,
        sum(len(r["tags"]) for r in split_rows),
        sum(train_freq[t] >= min_tag_freq for r in split_rows for t in r["tags"]),
    )


def split_summary(rows: int, channels: int, published: tuple[str, str] | None, tags: int, in_vocabulary: int):
    """The manifest's entry for a split from its counts (the Spark engine counts them in Spark)."""
    return {
        "rows": rows,
        "channels": channels,
        "published": list(published) if published else None,
        "tags_per_video": round(tags / max(rows, 1), 2),
        "vocabulary_coverage": round(in_vocabulary / max(tags, 1), 3),
    }


def vocabulary_info(train_freq: Counter | dict[str, int], min_tag_freq: int) -> dict[str, Any]:
    vocabulary = sorted(t for t, n in train_freq.items() if n >= min_tag_freq)
    return {"vocabulary": vocabulary, "tag_train_frequency": {t: train_freq[t] for t in vocabulary}}


def new_output(path: Path) -> Path:
    """An empty output folder (a rebuild replaces the corpus)."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def write_manifest(
    config: BuildConfig,
    source_files: dict[str, Path],
    datasets: dict[str, dict[str, Any]],
    near_duplicates_removed: int,
    rejects: list[Rejection],
    output: Path,
) -> dict[str, Any]:
    """rejects.jsonl and manifest.json; returns the manifest. How it was built (engine, master) is not in it: both
    engines write the same corpus."""
    manifest: dict[str, Any] = {
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "config": config.model_dump(mode="json", exclude={"track", "engine", "master"}),
        "sources": {name: {"file": str(path), "sha256": sha256_of(path)} for name, path in source_files.items()},
        "datasets": datasets,
        "rejected": {"total": len(rejects), "by_stage": dict(Counter(r.stage for r in rejects))},
        "leakage": {"near_duplicates_removed": near_duplicates_removed, "threshold": config.near_duplicate_threshold},
    }
    with (output / "rejects.jsonl").open("w") as handle:
        for rejection in rejects:
            handle.write(json.dumps(rejection.to_row(), default=str) + "\n")
    (output / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return manifest


def build(config: BuildConfig) -> dict[str, Any]:
    """Build the corpus; return the manifest (also written to <output>/manifest.json)."""
    if config.engine == "spark":
        from pipelines.build_corpus_spark import build_spark

        return build_spark(config)
    source_files = {name: settings.require_source_file(name) for name in settings.SOURCE_FILES}
    rejects: list[Rejection] = []
    datasets: dict[str, dict[str, Any]] = {}
    all_rows: list[dict[str, Any]] = []
    for dataset, rows in read_sources(source_files).items():
        cleaned, datasets[dataset] = clean_dataset(dataset, rows, config, rejects)
        all_rows += cleaned
    before = len(all_rows)
    all_rows = remove_leakage(all_rows, config.near_duplicate_threshold, rejects)

    output = new_output(Path(config.output))
    for dataset, info in datasets.items():
        rows = [r for r in all_rows if r["_dataset"] == dataset]
        train_freq = Counter(t for r in rows if r["_split"] == "train" for t in r["tags"])
        info.update(vocabulary_info(train_freq, config.min_tag_freq))
        info["splits"] = {}
        for split in SPLITS:
            split_rows = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows if r["_split"] == split]
            shards = write_shards(split_rows, output / dataset / split, config.rows_per_shard)
            for shard in shards:
                shard["path"] = str(Path(shard["path"]).relative_to(output))
            info["splits"][split] = split_info(split_rows, train_freq, config.min_tag_freq) | {"shards": shards}
    return write_manifest(config, source_files, datasets, before - len(all_rows), rejects, output)


def summary_lines(manifest: dict[str, Any]) -> list[str]:
    lines = []
    for dataset, info in manifest["datasets"].items():
        sizes = ", ".join(f"{s}={info['splits'][s]['rows']}" for s in SPLITS)
        lines.append(
            f"{dataset}: read {info['read']}, contract rejected {info['contract_rejected']}; "
            f"splits {sizes}; vocabulary {len(info['vocabulary'])} tags"
        )
        lines.append(f"  tag rules: {info['tag_rules']}")
    lines.append(
        f"rejected in all: {manifest['rejected']['total']} {manifest['rejected']['by_stage']} "
        f"(reasons in rejects.jsonl)"
    )
    return lines


def log_to_mlflow(manifest: dict[str, Any], output: Path, engine: str = "local", master: str = "") -> None:
    import mlflow

    from tubetags import tracking

    tracking.configure("tubetags-corpus")
    with mlflow.start_run(run_name="build_corpus"):
        mlflow.log_params({f"build.{k}": v for k, v in manifest["config"].items()})
        mlflow.log_params({"build.engine": engine} | ({"build.master": master} if engine == "spark" else {}))
        metrics = {
            "rejected_total": manifest["rejected"]["total"],
            "near_duplicates_removed": manifest["leakage"]["near_duplicates_removed"],
        }
        for stage, n in manifest["rejected"]["by_stage"].items():
            metrics[f"rejected_{stage}"] = n
        for dataset, info in manifest["datasets"].items():
            metrics[f"{dataset}_vocabulary"] = len(info["vocabulary"])
            for split, s in info["splits"].items():
                metrics[f"{dataset}_{split}_rows"] = s["rows"]
            for rule, n in info["tag_rules"].items():
                metrics[f"{dataset}_tags_{rule}"] = n
        mlflow.log_metrics(metrics)
        mlflow.log_artifact(str(output / MANIFEST))
        mlflow.log_artifact(str(output / "rejects.jsonl"))


def run(config: BuildConfig) -> dict[str, Any]:
    """Build the corpus and (with `track`) log it as an MLflow run; returns the manifest."""
    manifest = build(config)
    if config.track:
        log_to_mlflow(manifest, Path(config.output), config.engine, config.master)
    return manifest


JOB = Job(
    "build-corpus",
    BuildConfig,
    run,
    report=lambda config, manifest: [*summary_lines(manifest), f"corpus written to {config.output}"],
    summary="source files -> data contract -> tag rules -> splits -> Parquet shards + manifest",
)
