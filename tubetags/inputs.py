"""What a creator can give besides the transcript: the title, the description, and the channel's history.

All optional. A closed-vocabulary model reads the title and the description's opening prepended to the
transcript (`tubetags.text.with_context`); the served default (`tubetags.strategies.hybrid`) reads each as its
own source of candidate tags, and the channel history — the titles and tags of the channel's earlier videos — as
a profile of the tags this creator uses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_HISTORY = 500  # past videos read (the most recent ones, as given)
MAX_HISTORY_TAGS = 100  # tags read per past video
DESCRIPTION_LINES = 3  # the description's opening: what the video is; the rest is links, credits, chapters
DESCRIPTION_CHARS = 400
_URL = re.compile(r"https?://\S+|www\.\S+")
_HASHTAG = re.compile(r"(?<![\w#])#([^\W_][\w]*)")


@dataclass(frozen=True)
class PastVideo:
    """One of the channel's earlier videos: its title and the tags its creator gave it."""

    title: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Video:
    """Everything known about one video at upload time."""

    transcript: str
    title: str | None = None
    description: str | None = None
    history: tuple[PastVideo, ...] = field(default_factory=tuple)

    @classmethod
    def given(cls, transcript: Any, title: Any = None, description: Any = None, history: Any = None) -> Video:
        """A video from what a caller gave (the API, a DataFrame row): a title or description that is not a
        non-empty string is absent; the history as `parse_history` reads it."""
        return cls(
            str(transcript),
            title if isinstance(title, str) and title else None,
            description if isinstance(description, str) and description else None,
            parse_history(history),
        )

    @property
    def setting(self) -> str:
        """Which text inputs it has: `transcript`, `title`, or `description` (title and/or description)."""
        if self.description and self.description.strip():
            return "description"
        return "title" if self.title and self.title.strip() else "transcript"


def description_opening(description: str | None) -> str:
    """The first lines of a description, links removed: where creators say what the video is."""
    lines = [_URL.sub(" ", line).strip() for line in (description or "").splitlines()]
    return "\n".join([line for line in lines if line][:DESCRIPTION_LINES])[:DESCRIPTION_CHARS]


def hashtags(*texts: str | None) -> list[str]:
    """The hashtags of some texts, without '#', in order, once each: '#VibeCoding #python' -> VibeCoding, python."""
    seen: dict[str, None] = {}
    for text in texts:
        for tag in _HASHTAG.findall(text or ""):
            seen.setdefault(tag, None)
    return list(seen)


def parse_history(value: Any) -> tuple[PastVideo, ...]:
    """A channel history from the API or a DataFrame cell: a list (or its JSON) of {"title", "tags"} objects.

    ValueError, naming the problem, for anything else. The last `MAX_HISTORY` videos are kept."""
    if value is None or (isinstance(value, float) and value != value):  # absent, or a NaN cell
        return ()
    if isinstance(value, str):
        if not value.strip():
            return ()
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"channel_history is not valid JSON: {exc.msg}") from exc
    if not isinstance(value, list | tuple):
        raise ValueError("channel_history must be a list of {title, tags} objects")
    out = []
    for i, item in enumerate(value[-MAX_HISTORY:]):
        if isinstance(item, PastVideo):
            out.append(PastVideo(item.title, item.tags[:MAX_HISTORY_TAGS]))
            continue
        if not isinstance(item, Mapping):
            raise ValueError(f"channel_history[{i}] must be an object with title and tags")
        title, tags = item.get("title") or "", item.get("tags") or []
        if not isinstance(title, str):
            raise ValueError(f"channel_history[{i}].title must be a string")
        if not isinstance(tags, list | tuple) or not all(isinstance(t, str) for t in tags):
            raise ValueError(f"channel_history[{i}].tags must be a list of strings")
        out.append(PastVideo(title, tuple(list(tags)[:MAX_HISTORY_TAGS])))
    return tuple(out)


def history_json(history: Sequence[PastVideo]) -> str:
    """The JSON form `parse_history` reads (a DataFrame cell for the registered model)."""
    return json.dumps([{"title": v.title, "tags": list(v.tags)} for v in history])
