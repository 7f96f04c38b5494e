"""A YouTube link -> the video id, and whether the video is there, before any work is queued for it.

`video_id` reads the link forms people paste: watch?v=, youtu.be/, /shorts/, /live/, /embed/ (www., m., music.
and youtube-nocookie.com hosts). `look_up` asks YouTube's oEmbed endpoint (no API key, no quota, one small GET):
200 gives the title; 404 (or 400 for an id YouTube does not know) means removed or never existed; 403 private.
A 401 means the owner turned off embedding, which says nothing against reading the video: it goes ahead without a
title. YouTube not answering is not the video's fault: the job goes ahead and finds out itself.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import requests

OEMBED_URL = os.environ.get("TUBETAGS_YOUTUBE_OEMBED_URL", "https://www.youtube.com/oembed")
_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_HOSTS = {"youtube.com", "m.youtube.com", "music.youtube.com", "youtube-nocookie.com"}
_PATH_FORMS = ("shorts", "live", "embed", "v", "e")


class BadLink(ValueError):
    """Not a link to one YouTube video; the message says what it is instead."""


class VideoGone(LookupError):
    """YouTube says the video is not there (removed, private, or a mistyped id); the message says which."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status  # YouTube's answer


@dataclass(frozen=True)
class VideoInfo:
    video_id: str
    title: str | None  # None when YouTube did not say (embedding off, or no answer)
    author: str | None


def watch_url(video_id: str, at_s: float | None = None) -> str:
    """The video's page, at a moment when given (what the demo page links a tag's evidence to)."""
    return f"https://www.youtube.com/watch?v={video_id}" + (f"&t={int(at_s)}s" if at_s is not None else "")


def video_id(link: str) -> str:
    """The 11-character id of the video a link points to; BadLink for anything else."""
    text = link.strip()
    if _ID.match(text):
        return text  # a bare id
    try:
        parts = urlsplit(text if "://" in text else f"https://{text}")
        host = (parts.hostname or "").lower().removeprefix("www.")
    except ValueError as error:  # e.g. an unbalanced "[" read as an IPv6 address
        raise BadLink(
            "That is not a web link. Paste the video's YouTube link, e.g. https://www.youtube.com/watch?v=…"
        ) from error
    if parts.scheme not in {"http", "https"} or not host:
        raise BadLink("That is not a web link. Paste the video's YouTube link, e.g. https://www.youtube.com/watch?v=…")
    segments = [s for s in parts.path.split("/") if s]
    if host == "youtu.be":
        found = segments[0] if segments else ""
    elif host in _HOSTS:
        if segments[:1] == ["watch"]:
            found = (parse_qs(parts.query).get("v") or [""])[0]
        elif len(segments) >= 2 and segments[0] in _PATH_FORMS:
            found = segments[1]
        elif segments and segments[0] in {"playlist", "channel", "c", "user"} or (segments and segments[0][:1] == "@"):
            raise BadLink(
                "That link is to a channel or a playlist, not to one video: open the video and copy its link."
            )
        else:
            found = ""
    else:
        raise BadLink(
            f"Only YouTube links are supported, and this one is on {host}. Paste a link like "
            "https://www.youtube.com/watch?v=…, https://youtu.be/… or https://www.youtube.com/shorts/…"
        )
    if not _ID.match(found):
        raise BadLink("That YouTube link does not name a video (a video's id is 11 letters, digits, - or _).")
    return found


def http_session() -> requests.Session:
    """The HTTP client of the look-up (tests replace it with recorded answers)."""
    return requests.Session()


def look_up(video: str, timeout_s: float = 5.0) -> VideoInfo:
    """Title and channel from oEmbed; VideoGone when YouTube says the video is not there."""
    try:
        response = http_session().get(OEMBED_URL, params={"url": watch_url(video), "format": "json"}, timeout=timeout_s)
    except requests.RequestException:
        return VideoInfo(video, None, None)  # YouTube unreachable: the job will retry, and tell
    if response.status_code in (400, 404):
        raise VideoGone(
            "This YouTube video does not exist any more (it was removed, or the link is mistyped).",
            response.status_code,
        )
    if response.status_code == 403:
        raise VideoGone(
            "This YouTube video is private: only its owner can watch it. If it is yours, upload the video file "
            "instead.",
            403,
        )
    if response.status_code != 200:
        return VideoInfo(video, None, None)  # 401: embedding turned off; 5xx: YouTube's trouble
    try:
        found = response.json()
    except ValueError:
        return VideoInfo(video, None, None)
    return VideoInfo(video, found.get("title") or None, found.get("author_name") or None)
