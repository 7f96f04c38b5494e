"""POST /api/tags/fit: a tag list the creator edited, fitted into YouTube's tag box by the server's own rules.

The demo page's 500-character meter asks this endpoint instead of re-implementing `tubetags.tags` in JavaScript:
one implementation, so what the meter counts is what the server would return, Unicode rules included (Python's
casefold and \\w differ from JavaScript's). A call costs well under a millisecond of CPU.
"""

from __future__ import annotations

from typing import Any

from tubetags.tags import YOUTUBE_TAG_LIMIT, fit_youtube_tags, variant_key, youtube_ready_tag, youtube_tag_length


def fit(tags: list[str]) -> dict[str, Any]:
    """The tags kept (in order, within 500 characters), and each one dropped with its reason."""
    kept = fit_youtube_tags(tags)
    kept_set, seen, dropped = set(kept), set(), []
    for tag in tags:
        ready = youtube_ready_tag(tag)
        key = variant_key(ready)
        if not ready:
            dropped.append({"tag": tag, "reason": "unusable"})
        elif key in seen:
            dropped.append({"tag": tag, "reason": "duplicate"})
        else:
            seen.add(key)
            if ready not in kept_set:
                dropped.append({"tag": tag, "reason": "over budget"})
    return {
        "youtube_tags": ",".join(kept),
        "kept": kept,
        "dropped": dropped,
        "length": youtube_tag_length(kept),
        "limit": YOUTUBE_TAG_LIMIT,
    }
