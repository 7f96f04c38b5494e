"""batch_tag: every video of a channel or a catalogue tagged on Apache Spark with the registry's model.

    tubetags batch-tag --input data/collected --output data/batch/all [--model production] [--master local[*]]
    tubetags batch-tag --input videos.csv --output out/ --channel @techwithtim --report true
    mlflow run . -e batch_tag --env-manager local -P input=PATH -P output=PATH [-P model=7] [-P master=sc://host:15002]

Input: Parquet (a file or a folder: what `ingest` collects, a corpus split), CSV or JSON lines with a `transcript`
column and optional `video_id`, `title`, `description`, `channel`, `tags` (the uploader's, kept as `current_tags`).
Every row is tagged through `mlflow.pyfunc.spark_udf(env_manager="local")` with one registered version (an alias
is resolved once, so a promotion during the run cannot mix two models). Output: Parquet partitioned by `channel`
with the ranked `tags`, `scores`, `sources`, whether the transcript says each tag (`said`), and the YouTube-ready
string; written with overwrite, so a rerun replaces the output and never duplicates it. Rows that cannot be tagged
(no transcript, not text, too few words) go to `<output>/_rejected` with their reason (Spark readers skip folders
starting with `_`); they are counted, never fail the job. The run is logged to MLflow (experiment
`tubetags-batch`): counts, rows/s, the model version.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import Field

from data_contracts.video_record import MIN_TRANSCRIPT_WORDS
from tubetags import registry, settings
from tubetags import spark as sparkutil
from tubetags.config import JobConfig
from tubetags.jobs import Job, JobError
from tubetags.openvocab.evidence import words
from tubetags.registry import resolve_model
from tubetags.tags import channel_key, youtube_tag_length, youtube_tag_string

log = logging.getLogger(__name__)

REJECTED = "_rejected"  # under the output folder; Spark and pyarrow readers skip names starting with '_'
OPTIONAL_COLUMNS = ("video_id", "title", "description", "channel")
TAGGED_COLUMNS = (
    "video_id",
    "title",
    "current_tags",
    "tags",
    "scores",
    "sources",
    "said",
    "youtube_tags",
    "youtube_chars",
    "words",
    "model_version",
    "channel",  # the partition column, last as Spark writes it
)


class BatchTagConfig(JobConfig):
    job = "batch_tag"

    input: str = Field(description="Parquet file or folder, CSV or JSON lines with a `transcript` column (any URI)")
    output: str = Field(description="output folder (Parquet partitioned by channel); replaced on every run")
    model: str = Field(registry.PRODUCTION, description="registry alias or version number, or a models:/ URI")
    master: str = Field(sparkutil.DEFAULT_MASTER, description="Spark master: local[*], spark://..., or sc://...")
    k: int = Field(40, ge=1, le=100, description="tags ranked per video (the YouTube string keeps what fits)")
    min_words: int = Field(MIN_TRANSCRIPT_WORDS, ge=1, description="shorter transcripts are set aside")
    channel: str = Field("", description="only this channel (its name, or the @handle `ingest` collected it by)")
    partitions: int = Field(0, ge=0, description="tasks to tag with (0: two per core of the cluster)")
    report: bool = Field(False, description="also write the channel report of --channel (see channel-report)")
    report_dir: Path = Field(
        default_factory=lambda: settings.REPO_ROOT / "reports" / "channels", description="where reports go"
    )
    track: bool = Field(True, description="log the run to MLflow")
    experiment: str = Field("tubetags-batch", description="MLflow experiment (inside `mlflow run`: the run's)")


def read_input(spark, path: str):
    """A DataFrame of the input file or folder, by its extension (a folder: Parquet)."""
    lower = path.lower().removesuffix(".gz")
    if lower.endswith(".csv"):
        return spark.read.csv(path, header=True, multiLine=True, escape='"')
    if lower.endswith((".jsonl", ".json", ".ndjson")):
        return spark.read.json(path)
    return spark.read.parquet(path)


def collected_channel_titles(handle: str) -> list[str]:
    """The channel titles `ingest --channel-handle HANDLE` recorded for a handle (its state file), if any."""
    from pipelines.collected_store import CollectedStore, Request, collected_dir

    if not collected_dir().exists():
        return []
    state = CollectedStore(collected_dir()).load_state(Request("handle", handle))
    return [state["channel_title"]] if state and state.get("channel_title") else []


def channel_names(df, channel: str) -> list[str]:
    """The spellings of `channel` (a name or an @handle) among the input's channels, matched by channel key."""
    from pyspark.sql import functions as F

    keys = {channel_key(channel)} | {channel_key(t) for t in collected_channel_titles(channel)}
    present = [r["channel"] for r in df.select("channel").where(F.col("channel").isNotNull()).distinct().collect()]
    return [name for name in present if channel_key(name) in keys]


def with_columns(df):
    """The optional columns present (as strings), the uploader's tags as `current_tags` (a list)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType, StringType

    if "transcript" not in df.columns:
        raise JobError(f"the input has no `transcript` column (columns: {', '.join(df.columns)})")
    for column in OPTIONAL_COLUMNS:
        df = df.withColumn(column, F.col(column).cast("string") if column in df.columns else F.lit(None).cast("string"))
    if "tags" in df.columns:
        tags_type = df.schema["tags"].dataType
        tags = (
            F.col("tags").cast(ArrayType(StringType()))
            if isinstance(tags_type, ArrayType)
            else F.from_json(F.col("tags").cast("string"), ArrayType(StringType()))  # a JSON list in CSV files
        )
        df = df.withColumn("current_tags", tags)
    else:
        df = df.withColumn("current_tags", F.lit(None).cast(ArrayType(StringType())))
    return df


def reject_reason(df, min_words: int):
    """A `reason` column: why a row cannot be tagged (null when it can)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType

    is_text = isinstance(df.schema["transcript"].dataType, StringType)
    text = F.trim(F.col("transcript").cast("string"))
    n_words = F.size(F.split(text, r"\s+"))
    if not is_text:
        reason = F.lit(f"not text: transcript is {df.schema['transcript'].dataType.simpleString()}")
        return df.withColumn("reason", F.when(F.col("transcript").isNull(), "no transcript").otherwise(reason))
    return df.withColumn(
        "reason",
        F.when(F.col("transcript").isNull() | (text == ""), F.lit("no transcript"))
        .when(~text.rlike(r"\p{L}"), F.lit("not text: no letters"))
        .when(
            n_words < min_words,
            F.concat(F.lit("too few words: "), n_words.cast("string"), F.lit(f" < min_words={min_words}")),
        ),
    )


def said_flags(tags: list[str], transcript: str) -> list[bool]:
    """Whether the transcript says each tag, as a whole phrase (plural/singular folded, as the evidence finder)."""
    spoken = f" {' '.join(words(transcript))} "
    return [bool(w := words(tag)) and f" {' '.join(w)} " in spoken for tag in tags]


def finish(frames):
    """mapInPandas: the model's prediction struct -> tags, scores, sources, said, the YouTube string, its length."""
    for frame in frames:
        predicted = frame.pop("prediction")
        tags = [list(p["tags"]) for p in predicted]
        fitted = [youtube_tag_string(t) for t in tags]
        frame["tags"] = tags
        frame["scores"] = [[float(s) for s in p["scores"]] for p in predicted]
        frame["sources"] = [list(p["sources"]) for p in predicted]
        frame["said"] = [said_flags(t, text) for t, text in zip(tags, frame.pop("transcript"))]
        frame["youtube_tags"] = fitted
        frame["youtube_chars"] = [youtube_tag_length(s.split(",")) if s else 0 for s in fitted]
        frame["current_tags"] = [list(t) if t is not None else None for t in frame["current_tags"]]
        yield frame[list(TAGGED_COLUMNS)]


OUTPUT_SCHEMA = (
    "video_id string, title string, current_tags array<string>, tags array<string>, scores array<double>, "
    "sources array<string>, said array<boolean>, youtube_tags string, youtube_chars int, words int, "
    "model_version string, channel string"
)


def tag_frame(spark, df, model_uri: str, version: str, k: int, partitions: int, context: tuple[str, ...] = ()):
    """Rows with a transcript -> the tagged output (lazy): spark_udf over the transcript and the `context` columns
    the input has (title, description), as the web app passes them."""
    import mlflow.pyfunc
    from pyspark.sql import functions as F

    udf = mlflow.pyfunc.spark_udf(spark, model_uri, env_manager="local", params={"k": k})
    n = partitions or 2 * sparkutil.default_parallelism(spark)
    tagged = (
        df.repartition(n)
        .withColumn("prediction", udf(F.struct("transcript", *context)))
        .withColumn("words", F.size(F.split(F.trim(F.col("transcript")), r"\s+")))
        .withColumn("model_version", F.lit(version))
        .select("video_id", "title", "current_tags", "transcript", "prediction", "words", "model_version", "channel")
    )
    return tagged.mapInPandas(finish, OUTPUT_SCHEMA)


def run(config: BatchTagConfig) -> dict[str, Any]:
    from pyspark.sql import functions as F

    spark = sparkutil.session(config.master, "tubetags-batch-tag")
    uri, version = resolve_model(config.model)
    raw = read_input(spark, config.input)
    context = tuple(c for c in ("title", "description") if c in raw.columns)
    df = with_columns(raw)
    if config.channel:
        names = channel_names(df, config.channel)
        if not names:
            raise JobError(f"no video of channel {config.channel!r} in {config.input}")
        df = df.where(F.col("channel").isin(names))
    df = reject_reason(df, config.min_words)
    output, rejected_path = config.output.rstrip("/"), config.output.rstrip("/") + "/" + REJECTED

    started = time.perf_counter()
    good = df.where(F.col("reason").isNull()).withColumn("transcript", F.col("transcript").cast("string"))
    tag_frame(spark, good, uri, version, config.k, config.partitions, context).write.mode("overwrite").partitionBy(
        "channel"
    ).parquet(output)
    seconds = time.perf_counter() - started
    bad = df.where(F.col("reason").isNotNull()).select(
        "video_id", "title", "channel", F.col("transcript").cast("string").alias("transcript"), "reason"
    )
    bad.write.mode("overwrite").parquet(rejected_path)

    tagged_rows = spark.read.parquet(output).count()
    reasons = {
        r["reason"]: int(r["n"])
        for r in spark.read.parquet(rejected_path).groupBy("reason").agg(F.count("*").alias("n")).collect()
    }
    result: dict[str, Any] = {
        "output": output,
        "rejected_path": rejected_path,
        "model_uri": uri,
        "model_version": version,
        "tagged": tagged_rows,
        "rejected": sum(reasons.values()),
        "rejected_by_reason": reasons,
        "seconds": round(seconds, 2),
        "rows_per_s": round(tagged_rows / seconds, 2) if seconds else 0.0,
        "master": config.master,
    }
    if config.track:
        result["run_id"] = log_to_mlflow(config, result)
    if config.report:
        from pipelines.channel_report import ChannelReportConfig, write_report

        if not config.channel:
            raise JobError("--report needs --channel: the report is about one channel")
        result["report"] = write_report(
            ChannelReportConfig.load({"batch": output, "channel": config.channel, "out": config.report_dir})
        )
    return result


def log_to_mlflow(config: BatchTagConfig, result: dict[str, Any]) -> str:
    import mlflow

    from tubetags import tracking

    tracking.configure(config.experiment)
    with mlflow.start_run(run_name="batch_tag") as run:
        tracking.log_new_params(
            {
                "input": config.input,
                "output": config.output,
                "model": config.model,
                "model_uri": result["model_uri"],
                "model_version": result["model_version"],
                "master": config.master,
                "k": config.k,
                "min_words": config.min_words,
                "channel": config.channel,
            }
        )
        mlflow.set_tag("model_version", result["model_version"])
        metrics = {
            "rows_in": result["tagged"] + result["rejected"],
            "rows_tagged": result["tagged"],
            "rows_rejected": result["rejected"],
            "seconds": result["seconds"],
            "rows_per_s": result["rows_per_s"],
        }
        for reason, n in result["rejected_by_reason"].items():
            key = reason.split(":")[0].replace(" ", "_")
            metrics[f"rejected_{key}"] = metrics.get(f"rejected_{key}", 0) + n
        mlflow.log_metrics(metrics)
        mlflow.log_dict(result["rejected_by_reason"], "rejected_by_reason.json")
        return run.info.run_id


def report_lines(config: BatchTagConfig, result: dict[str, Any]) -> list[str]:
    lines = [
        f"tagged {result['tagged']} videos with {result['model_uri']} on {config.master} in {result['seconds']} s "
        f"({result['rows_per_s']} rows/s) -> {result['output']} (partitioned by channel)",
        f"set aside {result['rejected']} rows -> {result['rejected_path']}: "
        + (json.dumps(result["rejected_by_reason"]) if result["rejected"] else "none"),
    ]
    if result.get("report"):
        lines.append(f"channel report: {result['report']['markdown']} and {result['report']['html']}")
    return lines


def read_output(path: str | Path) -> pd.DataFrame:
    """A batch output (or one channel's folder of it) as pandas, without Spark (pyarrow reads the partitions)."""
    import pyarrow.dataset as ds

    return ds.dataset(str(path), format="parquet", partitioning="hive").to_table().to_pandas()


JOB = Job(
    "batch-tag",
    BatchTagConfig,
    run,
    report=report_lines,
    summary="tag every video of a channel or catalogue on Spark (spark_udf) -> Parquet by channel",
)
