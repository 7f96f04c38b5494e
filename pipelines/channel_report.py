"""channel_report: what a creator reads in a minute about one channel, from its batch-tag output.

    make channel-report CHANNEL=@handle           (tags the collected videos of the channel, then reports)
    tubetags channel-report --batch data/batch/all --channel "Tech With Tim" [--out reports/channels]
    tubetags batch-tag ... --channel @handle --report true      (the same report right after tagging)

Sections: the 500-character budget each video uses (now and with the suggestion; chart `budget.png`), the
channel's recurring tags, tags its videos say but the channel never uses, and per video its current tags, the
suggested ones, and the suggested tags it lacks. Written as `report.md` and `report.html` (same content) in
`<out>/<channel>/`. Tags are compared by `variant_key` (spelling, case and singular/plural folded).
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import Field

from tubetags import settings
from tubetags.config import JobConfig
from tubetags.jobs import Job, JobError
from tubetags.tags import YOUTUBE_TAG_LIMIT, channel_key, variant_key, youtube_tag_length

log = logging.getLogger(__name__)

CHART = "budget.png"
MAX_CHART_VIDEOS = 20  # bars in the chart: the videos with the most room left
TOP = 20  # rows of the channel-wide tables


class ChannelReportConfig(JobConfig):
    job = "channel_report"

    batch: str = Field(description="batch-tag output folder (Parquet partitioned by channel)")
    channel: str = Field(description="the channel: its name, or the @handle `ingest` collected it by")
    out: Path = Field(default_factory=lambda: settings.REPO_ROOT / "reports" / "channels", description="reports folder")
    min_videos: int = Field(2, ge=1, description="a tag on at least this many videos recurs")


@dataclass
class Section:
    """One heading with optional text, a table and an image: rendered to Markdown and HTML alike."""

    title: str
    text: list[str] = field(default_factory=list)
    header: Sequence[str] = ()
    rows: list[Sequence[Any]] = field(default_factory=list)
    image: str | None = None


def slug(channel: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", channel.lower()).strip("-") or "channel"


def read_channel(batch: str | Path, channel: str) -> pd.DataFrame:
    """The channel's rows of a batch output, matched by channel key (or by the @handle's collected title)."""
    from pipelines.batch_tag import collected_channel_titles, read_output

    frame = read_output(batch)
    keys = {channel_key(channel)} | {channel_key(t) for t in collected_channel_titles(channel)}
    rows = frame[frame["channel"].fillna("").map(channel_key).isin(keys)]
    if rows.empty:
        known = sorted(frame["channel"].dropna().unique())[:20]
        raise JobError(f"no video of channel {channel!r} in {batch} (channels there: {', '.join(known)})")
    return rows.reset_index(drop=True)


def _text(value: Any) -> str:
    """A cell as text: '' for a missing one (None, or NaN in pandas' string columns)."""
    return value if isinstance(value, str) else ""


def _tags(value: Any) -> list[str]:
    return [] if value is None or isinstance(value, float) else [str(t) for t in value]


def _fitted(row: Any) -> list[str]:
    return [t for t in _text(row["youtube_tags"]).split(",") if t]


def analyse(rows: pd.DataFrame, min_videos: int = 2) -> dict[str, Any]:
    """Everything the report shows, as data (the test reads it too)."""
    videos: list[dict[str, Any]] = []
    for _, row in rows.iterrows():
        current = _tags(row["current_tags"])
        current_keys = {variant_key(t) for t in current}
        suggested = _fitted(row)
        videos.append(
            {
                "video_id": _text(row["video_id"]),
                "title": _text(row["title"]) or _text(row["video_id"]),
                "current": current,
                "suggested": suggested,
                "missing": [t for t in suggested if variant_key(t) not in current_keys],
                "current_chars": youtube_tag_length(current),
                "suggested_chars": int(row["youtube_chars"]),
            }
        )
    used = Counter(variant_key(t) for v in videos for t in {variant_key(x): x for x in v["current"]}.values())
    spelling: dict[str, Counter] = {}
    for v in videos:
        for t in v["current"]:
            spelling.setdefault(variant_key(t), Counter())[t] += 1
    recurring = [
        (spelling[key].most_common(1)[0][0], n, n / len(videos)) for key, n in used.most_common() if n >= min_videos
    ]
    said: dict[str, Counter] = {}
    for _, row in rows.iterrows():
        said_flags = [] if row["said"] is None or isinstance(row["said"], float) else [bool(x) for x in row["said"]]
        for tag, is_said in zip(_tags(row["tags"]), said_flags):
            key = variant_key(tag)
            if is_said and key and key not in used:
                said.setdefault(key, Counter())[tag] += 1
    never_used = sorted(
        ((forms.most_common(1)[0][0], sum(forms.values())) for forms in said.values()), key=lambda x: (-x[1], x[0])
    )
    return {"videos": videos, "recurring": recurring, "said_never_used": never_used}


def plot_budget(videos: Sequence[dict[str, Any]], path: Path, channel: str) -> Path:
    """Left: how much of the box every video uses, now and with the suggestion (histogram, any number of
    videos). Right: the videos with the most room left, one bar pair each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = sorted(videos, key=lambda v: v["current_chars"])[:MAX_CHART_VIDEOS]
    fig, (hist, bars) = plt.subplots(1, 2, figsize=(11, 4.5), gridspec_kw={"width_ratios": [1, 1.3]})
    bins = list(range(0, YOUTUBE_TAG_LIMIT + 26, 25))
    hist.hist([v["current_chars"] for v in videos], bins=bins, alpha=0.7, label="current tags")
    hist.hist([v["suggested_chars"] for v in videos], bins=bins, alpha=0.7, label="suggested string")
    hist.axvline(YOUTUBE_TAG_LIMIT, color="black", linestyle="--", linewidth=1, label="limit (500)")
    hist.set_xlabel("characters of the tag box used")
    hist.set_ylabel("videos")
    hist.set_title(f"all {len(videos)} videos", fontsize=10)
    hist.legend(fontsize=8)
    labels = [(v["title"][:38] + "…") if len(v["title"]) > 39 else v["title"] for v in shown]
    y = list(range(len(shown)))
    bars.barh([i + 0.2 for i in y], [v["current_chars"] for v in shown], height=0.4, label="current tags")
    bars.barh([i - 0.2 for i in y], [v["suggested_chars"] for v in shown], height=0.4, label="suggested string")
    bars.axvline(YOUTUBE_TAG_LIMIT, color="black", linestyle="--", linewidth=1)
    bars.set_yticks(y, labels, fontsize=7)
    bars.invert_yaxis()
    bars.set_xlim(0, YOUTUBE_TAG_LIMIT * 1.05)
    bars.set_xlabel("characters")
    bars.set_title(f"the {len(shown)} videos with the most room left", fontsize=10)
    fig.suptitle(f"{channel}: YouTube's 500-character tag box", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def sections(analysis: dict[str, Any], model_version: str) -> list[Section]:
    videos = analysis["videos"]
    n = len(videos)
    mean = lambda key: sum(v[key] for v in videos) / max(n, 1)  # noqa: E731
    without = sum(not v["current"] for v in videos)
    summary = Section(
        "Summary",
        [
            f"{n} videos tagged by model version {model_version} on {dt.date.today().isoformat()}; "
            f"{without} have no tags of their own.",
            f"Tag box used: {mean('current_chars'):.0f} of {YOUTUBE_TAG_LIMIT} characters on average now, "
            f"{mean('suggested_chars'):.0f} with the suggested tags; "
            f"{sum(len(v['missing']) for v in videos) / max(n, 1):.1f} suggested tags per video are not on it yet.",
        ],
    )
    quarter = sum(v["current_chars"] < YOUTUBE_TAG_LIMIT / 4 for v in videos)
    budget = Section(
        "The 500-character budget",
        [
            f"{quarter} of {n} videos use less than a quarter of YouTube's tag box; the fullest uses "
            f"{max((v['current_chars'] for v in videos), default=0)} characters. Per video: the table below."
        ],
        image=CHART,
    )
    recurring = Section(
        "Recurring tags",
        [
            "Tags on several of the channel's videos. Tags on nearly every video name the channel more than the video:"
            " they cost characters that a video-specific tag could use."
        ],
        ("tag", "videos", "share"),
        [(t, c, f"{s:.0%}") for t, c, s in analysis["recurring"][:TOP]],
    )
    if not recurring.rows:
        recurring.text.append("No tag is on more than one video.")
    said = Section(
        "Said in the videos, never used as a tag",
        ["Suggested tags the transcripts say word for word that no video of the channel carries."],
        ("tag", "videos that say it"),
        [(t, c) for t, c in analysis["said_never_used"][:TOP]],
    )
    if not said.rows:
        said.text.append("None: every suggested tag the videos say is already in use.")
    per_video = Section(
        "Per video",
        [
            "Current tags, the suggested YouTube string, the suggested tags the video lacks, and the characters of"
            f" the {YOUTUBE_TAG_LIMIT}-character box used now → with the suggestion. Least used box first."
        ],
        ("video", "current tags", "suggested", "lacks", "box now → suggested"),
        [
            (
                v["title"],
                ", ".join(v["current"]) or "—",
                ", ".join(v["suggested"]),
                ", ".join(v["missing"]) or "—",
                f"{v['current_chars']} → {v['suggested_chars']}",
            )
            for v in sorted(videos, key=lambda v: v["current_chars"])
        ],
    )
    return [summary, budget, recurring, said, per_video]


def _md_cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def to_markdown(title: str, parts: Sequence[Section]) -> str:
    lines = [f"# {title}", ""]
    for part in parts:
        lines += [f"## {part.title}", ""]
        lines += [*part.text, ""] if part.text else []
        if part.image:
            lines += [f"![{part.title}]({part.image})", ""]
        if part.rows:
            lines.append("| " + " | ".join(part.header) + " |")
            lines.append("|" + "---|" * len(part.header))
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in part.rows]
            lines.append("")
    return "\n".join(lines)


def to_html(title: str, parts: Sequence[Section]) -> str:
    e = html.escape
    body = [f"<h1>{e(title)}</h1>"]
    for part in parts:
        body.append(f"<h2>{e(part.title)}</h2>")
        body += [f"<p>{e(t)}</p>" for t in part.text]
        if part.image:
            body.append(f'<img src="{e(part.image)}" alt="{e(part.title)}" style="max-width:100%">')
        if part.rows:
            head = "".join(f"<th>{e(h)}</th>" for h in part.header)
            rows = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in part.rows)
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.4}"
        "table{border-collapse:collapse;font-size:0.9em}td,th{border:1px solid #ccc;padding:3px 6px;"
        "vertical-align:top;text-align:left}"
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>'
        f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n"
    )


def write_report(config: ChannelReportConfig) -> dict[str, Any]:
    rows = read_channel(config.batch, config.channel)
    name = str(rows["channel"].dropna().mode().iloc[0]) if rows["channel"].notna().any() else config.channel
    analysis = analyse(rows, config.min_videos)
    folder = Path(config.out) / slug(config.channel)
    folder.mkdir(parents=True, exist_ok=True)
    plot_budget(analysis["videos"], folder / CHART, name)
    versions = ", ".join(sorted(set(rows["model_version"].astype(str))))
    parts = sections(analysis, versions)
    title = f"Tags for {name}" + (f" ({config.channel})" if channel_key(config.channel) != channel_key(name) else "")
    (folder / "report.md").write_text(to_markdown(title, parts))
    (folder / "report.html").write_text(to_html(title, parts))
    return {
        "channel": name,
        "videos": len(rows),
        "markdown": str(folder / "report.md"),
        "html": str(folder / "report.html"),
        "chart": str(folder / CHART),
        "analysis": analysis,
    }


JOB = Job(
    "channel-report",
    ChannelReportConfig,
    write_report,
    report=lambda _config, r: [f"{r['channel']}: {r['videos']} videos -> {r['markdown']}, {r['html']}, {r['chart']}"],
    summary="one channel's tags from its batch-tag output: budget, recurring, said but unused, per video",
)
