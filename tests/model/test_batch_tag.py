"""batch_tag on Spark local[2] with a registered model, and the channel report over its output.

One SparkSession (tests/conftest.py `spark`) and one quick baseline registered in a private store (`tiny_model`).
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pandas as pd
import pyarrow.parquet as pq
import pytest

from data_contracts import RECORD_FIELDS
from pipelines import batch_tag, channel_report
from tubetags import registry, settings
from tubetags.jobs import run_job
from tubetags.tags import YOUTUBE_TAG_LIMIT, channel_key, fit_youtube_tags, variant_key, youtube_tag_length

pytestmark = pytest.mark.slow

K = 15
BAD_ROWS = [
    ("bad-none", None, "no transcript"),
    ("bad-digits", "1234 5678 " * 30, "not text: no letters"),
    ("bad-short", "just a few words here", "too few words: 5 < min_words=20"),
]


@pytest.fixture(scope="module")
def videos(tiny_corpus, tmp_path_factory):
    """Real YouTube and TED test videos (with their tags), a row without a title, and three bad rows: Parquet."""
    rows = [
        dict(r)
        for dataset in ("youtube", "ted")
        for _, r in zip(range(20), tiny_corpus.split(dataset, "test").records(columns=RECORD_FIELDS))
    ]
    rows[0]["title"] = None
    for video_id, transcript, _ in BAD_ROWS:
        rows.append({**rows[1], "video_id": video_id, "transcript": transcript})
    frame = pd.DataFrame(rows)[["video_id", "channel", "title", "description", "tags", "transcript"]]
    path = tmp_path_factory.mktemp("batch_input") / "videos.parquet"
    frame.to_parquet(path)
    return frame, path


def tag(path, out, *extra: str):
    return run_job(
        batch_tag.JOB, ["--input", str(path), "--output", str(out), "--master", "local[2]", "--k", str(K), *extra]
    )


@pytest.fixture(scope="module")
def first_run(spark, tiny_model_store, videos, tmp_path_factory):
    """The job as `make`/`mlflow run` runs it, tracked (experiment `tests` of the private store)."""
    out = tmp_path_factory.mktemp("batch") / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", tiny_model_store)
        mlflow.set_tracking_uri(tiny_model_store)
        mlflow.set_registry_uri(tiny_model_store)
        return out, tag(videos[1], out, "--experiment", "tests")


def test_spark_udf_gives_exactly_the_pyfunc_predictions(first_run, videos, tiny_model):
    out, result = first_run
    frame = videos[0]
    good = frame[~frame["video_id"].str.startswith("bad-")].reset_index(drop=True)
    served = registry.load_served_model(registry.model_uri())
    expected = served.pyfunc.predict(good[["transcript", "title", "description"]], params={"k": K})
    tagged = batch_tag.read_output(out).set_index("video_id").loc[good["video_id"]]
    assert result["model_version"] == "1" and set(tagged["model_version"]) == {"1"}
    for i, video_id in enumerate(good["video_id"]):
        row = tagged.loc[video_id]
        assert list(row["tags"]) == list(expected["tags"][i]), video_id
        assert list(row["scores"]) == pytest.approx(list(expected["scores"][i]), rel=1e-12, abs=1e-15)
        assert list(row["sources"]) == list(expected["sources"][i])
        assert row["youtube_tags"] == ",".join(fit_youtube_tags(list(expected["tags"][i])))
        assert row["youtube_chars"] == youtube_tag_length(row["youtube_tags"].split(",")) <= YOUTUBE_TAG_LIMIT
        assert list(row["current_tags"]) == list(good["tags"][i])
        assert len(row["said"]) == len(row["tags"])


def test_output_is_partitioned_by_channel(first_run, videos):
    out, _ = first_run
    folders = {p.name for p in out.iterdir() if p.is_dir() and not p.name.startswith("_")}
    assert folders == {f"channel={c}" for c in videos[0]["channel"].unique()}


def test_bad_rows_are_set_aside_with_their_reason(first_run, tiny_model):
    out, result = first_run
    rejected = pq.read_table(out / batch_tag.REJECTED).to_pandas().set_index("video_id")
    assert {v: rejected.loc[v, "reason"] for v, _, _ in BAD_ROWS} == {v: reason for v, _, reason in BAD_ROWS}
    assert result["rejected"] == len(BAD_ROWS) and result["tagged"] == len(batch_tag.read_output(out))
    run = mlflow.get_run(result["run_id"])
    assert run.data.params["model_version"] == "1"
    assert run.data.metrics["rows_rejected"] == len(BAD_ROWS)
    assert run.data.metrics["rows_tagged"] == result["tagged"] and run.data.metrics["rows_per_s"] > 0


def test_rerun_replaces_the_output(first_run, videos, tiny_model):
    out, first = first_run
    before = batch_tag.read_output(out).sort_values("video_id").reset_index(drop=True)
    again = tag(videos[1], out, "--model", "1", "--track", "false")
    after = batch_tag.read_output(out).sort_values("video_id").reset_index(drop=True)
    assert again["tagged"] == first["tagged"] == len(after) == len(before)
    assert after["video_id"].is_unique
    assert after["youtube_tags"].tolist() == before["youtube_tags"].tolist()
    assert pq.read_table(out / batch_tag.REJECTED).num_rows == len(BAD_ROWS)


def test_channel_report_on_a_shared_data_channel(spark, tiny_model, tmp_path):
    """The raw shared YouTube file (CSV, tags as JSON) filtered to its largest channel, tagged, reported."""
    source = settings.require_source_file("youtube")
    channels = pd.read_csv(source, usecols=["channel"], dtype=str, keep_default_na=False)["channel"]
    channels = channels.map(channel_key).value_counts()
    handle = "@" + channels.index[0]  # the largest channel, by its key as a handle ('@techwithtim')
    result = tag(
        source, tmp_path / "out", "--channel", handle, "--report", "true", "--report-dir", str(tmp_path / "reports"),
        "--track", "false",
    )  # fmt: skip
    report = result["report"]
    analysis = report["analysis"]
    assert report["videos"] == result["tagged"] == channels.iloc[0] - result["rejected"]
    markdown = (tmp_path / "reports" / channel_report.slug(handle) / "report.md").read_text()
    for section in ("Summary", "The 500-character budget", "Recurring tags", "Said in the videos", "Per video"):
        assert f"## {section}" in markdown, section
    html = (tmp_path / "reports" / channel_report.slug(handle) / "report.html").read_text()
    assert f'<img src="{channel_report.CHART}"' in html and "<h2>Per video</h2>" in html
    assert Path(report["chart"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(analysis["videos"]) == report["videos"]
    for video in analysis["videos"]:
        current = {variant_key(t) for t in video["current"]}
        assert set(video["missing"]) <= set(video["suggested"])
        assert not {variant_key(t) for t in video["missing"]} & current
        assert video["current_chars"] == youtube_tag_length(video["current"])
        assert f"| {video['title'].replace('|', chr(92) + '|')} |" in markdown
    assert analysis["recurring"], "a channel's videos share tags"
    assert all(n >= 2 for _, n, _ in analysis["recurring"])
    used = {variant_key(t) for v in analysis["videos"] for t in v["current"]}
    assert all(variant_key(t) not in used for t, _ in analysis["said_never_used"])
    assert json.dumps(result["rejected_by_reason"])  # reasons, if any, are plain text
