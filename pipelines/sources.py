"""Adapters from the source files to raw rows in the shape of the data contract.

They only reshape and normalise text; deciding what is valid is the contract's job.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from tubetags.text import guess_language, normalise_transcript


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _tags(value: Any) -> Any:
    """Tags are a JSON list in the files; a broken list is passed on for the contract to reject."""
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def read_csv_rows(path: Path) -> list[dict[str, Any]]:
    """The file's rows as text ('' for an empty field), as every adapter reads them."""
    return pd.read_csv(path, dtype=str, keep_default_na=False).to_dict("records")


def read_ted(path: Path) -> Iterator[dict[str, Any]]:
    return map(ted_record, read_csv_rows(path))


def read_youtube(path: Path) -> Iterator[dict[str, Any]]:
    return map(youtube_record, read_csv_rows(path))


def ted_record(row: dict[str, Any]) -> dict[str, Any]:
    """One row of ted_talks.csv -> a raw record (the Spark engine maps the same function over its rows)."""
    return {
        "video_id": f"ted-{row['talk_id']}",
        "source": "ted",
        "channel": "TED",
        "title": _text(row.get("title")),
        "description": _text(row.get("description")),
        "published": _text(row.get("published")) or None,
        "language": "en",  # official English transcripts
        "tags": _tags(row.get("tags")),
        "transcript": normalise_transcript(_text(row.get("transcript"))),
        "transcript_source": "provided",
    }


def youtube_record(row: dict[str, Any]) -> dict[str, Any]:
    """One row of youtube_videos.csv -> a raw record."""
    transcript = normalise_transcript(_text(row.get("transcript")))
    return {
        "video_id": _text(row.get("video_id")),
        "source": "youtube",
        "channel": _text(row.get("channel")),
        "title": _text(row.get("title")),
        "description": "",
        "published": None,
        "language": guess_language(transcript),
        "tags": _tags(row.get("tags")),
        "transcript": transcript,
        # Collected by others from caption tracks; whether manual or automatic is unknown.
        "transcript_source": "provided",
    }


def collected_files(folder: Path) -> list[Path]:
    """The collector's Parquet batches, in the order every engine reads them."""
    return sorted(folder.glob("*.parquet"))


def collected_record(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "tags": list(row["tags"])}


def read_collected(folder: Path) -> Iterator[dict[str, Any]]:
    """Records the YouTube collector (pipelines/ingest.py) accepted, as Parquet files."""
    for path in collected_files(folder):
        yield from map(collected_record, pd.read_parquet(path).to_dict("records"))
