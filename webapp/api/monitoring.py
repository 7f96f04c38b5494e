"""Privacy-safe request summaries for drift monitoring: one JSON line per answered POST /api/tags.

File: $TUBETAGS_MONITOR_DIR/requests-YYYYMMDD.jsonl (UTC date; default data/monitoring/ in the repository;
TUBETAGS_MONITOR_DIR=off turns it off). Lines are appended with one write() each (O_APPEND), so the
gunicorn workers can share a file. Never the transcript, the file name or the client address.

Line format (version 1), keys always present:
  {"v": 1,                                    format version
   "ts": "2026-11-23T08:40:00.123Z",          UTC time of the answer
   "model": {"name": "tubetags", "version": "3", "alias": "production", "strategy": "baseline"},
   "input": "json" | "file",                  transcript field or uploaded .srt/.vtt
   "k": 10,                                   tags asked for
   "words": 2000,                             words in the normalised transcript
   "language": "en" | "und",                  tubetags.text.guess_language (function-word share)
   "oov_share": 0.0312 | null,                share of tokens outside the model's vocabulary (null: no vocabulary)
   "tags": [{"tag": "cooking", "score": 0.9855}, ...],   the answer, best first
   "cached": false,                           answered from the prediction cache
   "elapsed_ms": 12.4}                        server time for the request
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path

from django.conf import settings

log = logging.getLogger("api")

FORMAT_VERSION = 1
_made: set[Path] = set()  # folders this process has created already


def monitor_dir() -> Path | None:
    value = str(settings.TUBETAGS_MONITOR_DIR).strip()
    return None if value.lower() in {"", "0", "off", "none"} else Path(value)


def record(model: dict[str, str], source: str, k: int, summary: dict, tags: list[dict], cached: bool,
           elapsed_ms: float) -> None:
    """Append one summary line; a failure is logged and never fails the request."""
    folder = monitor_dir()
    if folder is None:
        return
    now = datetime.now(timezone.utc)
    line = {"v": FORMAT_VERSION, "ts": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "model": model, "input": source, "k": k, "words": summary["words"], "language": summary["language"],
            "oov_share": summary["oov_share"], "tags": tags, "cached": cached, "elapsed_ms": elapsed_ms}
    data = (json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    try:
        if folder not in _made:
            folder.mkdir(parents=True, exist_ok=True)
            _made.add(folder)
        fd = os.open(folder / f"requests-{now:%Y%m%d}.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    except OSError as exc:
        log.warning("could not write the monitoring line to %s: %s", folder, exc)
