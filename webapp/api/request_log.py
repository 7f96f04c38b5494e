"""Privacy-safe request summaries for drift monitoring: one JSON line per answered POST /api/tags.

File: $TUBETAGS_MONITOR_DIR/requests-YYYYMMDD.jsonl (UTC date; default <work dir>/monitoring, i.e. data/monitoring/;
TUBETAGS_MONITOR_DIR=off turns it off). The line is `tubetags.drift.RequestSummary` (format version 1,
documented there), the same model the `monitor` job reads: never the transcript, the file name or the
client address.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings

from tubetags.drift import RequestSummary, TagScore, append_summary, utc_now

log = logging.getLogger("api")


def monitor_dir() -> Path | None:
    value = str(settings.TUBETAGS_MONITOR_DIR).strip()
    return None if value.lower() in {"", "0", "off", "none"} else Path(value)


def record(
    model: dict[str, str],
    source: str,
    k: int,
    summary: dict,
    tags: Iterable[tuple[str, float]],
    cached: bool,
    elapsed_ms: float,
) -> None:
    """Append one summary line (`tags`: (tag, score), best first); a failure is logged and never fails the request."""
    folder = monitor_dir()
    if folder is None:
        return
    line = RequestSummary(
        ts=utc_now(),
        model=model,
        input=source,
        k=k,
        words=summary["words"],
        language=summary["language"],
        oov_share=summary["oov_share"],
        tags=[TagScore(tag=tag, score=score) for tag, score in tags],
        cached=cached,
        elapsed_ms=elapsed_ms,
    )
    try:
        append_summary(line, folder)
    except OSError as exc:
        log.warning("could not write the monitoring line to %s: %s", folder, exc)
