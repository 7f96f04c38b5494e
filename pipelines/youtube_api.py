"""YouTube Data API v3: video metadata, playlist listing, channel uploads, with quota accounting.

Retries on 5xx, 429 and 403 rate-limit errors are the client library's own (`execute(num_retries=)`,
exponential backoff with jitter). A 403 `quotaExceeded` is not retried: it raises `QuotaExceeded`,
since the daily quota only comes back at midnight Pacific time.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

API_KEY_ENV = "YOUTUBE_API_KEY"
MAX_IDS_PER_CALL = 50  # videos.list and playlistItems.list both cap at 50
# Units per call (https://developers.google.com/youtube/v3/determine_quota_cost); 10,000 a day by default.
QUOTA_COST = {"videos.list": 1, "playlistItems.list": 1, "channels.list": 1, "search.list": 100}
QUOTA_TIMEZONE = ZoneInfo("America/Los_Angeles")


class MissingApiKey(RuntimeError):
    pass


class QuotaExceeded(RuntimeError):
    """The project's daily quota is spent; work can go on after `resets_at`."""

    def __init__(self, method: str, resets_at: dt.datetime):
        self.method = method
        self.resets_at = resets_at
        super().__init__(f"YouTube API quota exceeded on {method}; it resets at {resets_at:%Y-%m-%d %H:%M %Z}")


class NotFound(LookupError):
    pass


def next_quota_reset(now: dt.datetime | None = None) -> dt.datetime:
    """The next midnight in Pacific time (PST or PDT, whichever is in force then)."""
    now = (now or dt.datetime.now(dt.UTC)).astimezone(QUOTA_TIMEZONE)
    return dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(0), tzinfo=QUOTA_TIMEZONE)


def error_reasons(error: HttpError) -> list[str]:
    """The `reason` fields of a Google API error body ('quotaExceeded', 'videoNotFound', ...)."""
    try:
        body = json.loads(error.content.decode("utf-8"))
        return [e.get("reason", "") for e in body["error"].get("errors", [])]
    except (ValueError, KeyError, TypeError, AttributeError):
        return []


class YouTubeClient:
    """The few YouTube Data API calls the collector needs, each counted against the quota."""

    def __init__(self, service: Any, num_retries: int = 5):
        self.service = service
        self.num_retries = num_retries
        self.calls: Counter[str] = Counter()

    @classmethod
    def connect(cls, api_key: str | None = None, http: Any = None, num_retries: int = 5) -> YouTubeClient:
        """Build the client; `http` is an httplib2.Http-like object (tests pass an HttpMockSequence)."""
        api_key = api_key or os.environ.get(API_KEY_ENV)
        if not api_key:
            raise MissingApiKey(
                f"No YouTube Data API key: set {API_KEY_ENV}. Create one in the Google Cloud console "
                "(APIs & Services > Credentials) for a project with 'YouTube Data API v3' enabled."
            )
        # static_discovery: the discovery document ships with the library, so no request fetches it.
        service = build("youtube", "v3", developerKey=api_key, http=http, static_discovery=True, cache_discovery=False)
        return cls(service, num_retries=num_retries)

    @property
    def quota_used(self) -> int:
        return sum(QUOTA_COST[m] * n for m, n in self.calls.items())

    def _execute(self, method: str, request: Any) -> dict[str, Any]:
        # Counted before executing: YouTube charges a failed call too.
        self.calls[method] += 1
        try:
            return request.execute(num_retries=self.num_retries)
        except HttpError as error:
            if error.status_code == 403 and {"quotaExceeded", "dailyLimitExceeded"} & set(error_reasons(error)):
                raise QuotaExceeded(method, next_quota_reset()) from error
            raise

    def videos(self, video_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Snippet and contentDetails by video id. Deleted, private and unknown ids are simply absent."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(video_ids), MAX_IDS_PER_CALL):
            chunk = video_ids[start : start + MAX_IDS_PER_CALL]
            request = self.service.videos().list(
                part="snippet,contentDetails", id=",".join(chunk), maxResults=MAX_IDS_PER_CALL
            )
            for item in self._execute("videos.list", request).get("items", []):
                found[item["id"]] = item
        return found

    def playlist_pages(self, playlist_id: str, page_token: str | None = None) -> Iterator[tuple[list[str], str | None]]:
        """(video ids, next page token) page by page; the token lets a stopped listing resume."""
        while True:
            request = self.service.playlistItems().list(
                part="contentDetails", playlistId=playlist_id, maxResults=MAX_IDS_PER_CALL, pageToken=page_token
            )
            try:
                response = self._execute("playlistItems.list", request)
            except HttpError as error:
                if error.status_code == 404:
                    raise NotFound(f"playlist {playlist_id} not found (or private)") from error
                raise
            page_token = response.get("nextPageToken")
            yield [item["contentDetails"]["videoId"] for item in response.get("items", [])], page_token
            if not page_token:
                return

    def uploads_playlist(self, channel_id: str | None = None, handle: str | None = None) -> tuple[str, str]:
        """(uploads playlist id, channel title) of a channel given by id (UC...) or handle (@name)."""
        if handle:
            request = self.service.channels().list(
                part="snippet,contentDetails", forHandle=handle if handle.startswith("@") else f"@{handle}"
            )
        else:
            request = self.service.channels().list(part="snippet,contentDetails", id=channel_id)
        items = self._execute("channels.list", request).get("items", [])
        if not items:
            raise NotFound(f"channel {handle or channel_id} not found")
        channel = items[0]
        return channel["contentDetails"]["relatedPlaylists"]["uploads"], channel["snippet"]["title"]
