"""YouTube Data API client against recorded responses (googleapiclient's HttpMockSequence, no network)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import googleapiclient.http
import pytest
from googleapiclient.errors import HttpError
from googleapiclient.http import HttpMockSequence

from pipelines.youtube_api import MissingApiKey, NotFound, QuotaExceeded, YouTubeClient, next_quota_reset

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "youtube"


def recorded(name: str, status: int = 200) -> tuple[dict, str]:
    return {"status": str(status), "content-type": "application/json; charset=UTF-8"}, (FIXTURES / name).read_text()


def client_for(*responses: tuple[dict, str], num_retries: int = 3) -> tuple[YouTubeClient, HttpMockSequence]:
    http = HttpMockSequence(list(responses))
    return YouTubeClient.connect(api_key="test-key", http=http, num_retries=num_retries), http


def query(uri: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(uri).query).items()}


@pytest.fixture
def backoff_sleeps(monkeypatch) -> list[float]:
    """The library's backoff sleeps, recorded instead of slept."""
    sleeps: list[float] = []
    monkeypatch.setattr(googleapiclient.http.time, "sleep", sleeps.append)
    return sleeps


def test_videos_batch_asks_for_snippet_and_content_details():
    client, http = client_for(recorded("videos_list_batch.json"))
    ids = ["aX3kT9pLq2E", "Bm7rQ1sVw0c", "Kp4nZ8yHj6U", "Wh1sper0nly", "Zz9delet3d0"]
    videos = client.videos(ids)
    assert set(videos) == set(ids) - {"Zz9delet3d0"}  # deleted: absent, not an error
    assert videos["aX3kT9pLq2E"]["snippet"]["tags"][0] == "black hole"
    params = query(http.request_sequence[0][0])
    assert params["id"] == ",".join(ids) and params["part"] == "snippet,contentDetails"
    assert params["key"] == "test-key"
    assert client.quota_used == 1


def test_videos_are_asked_50_at_a_time():
    empty = ({"status": "200"}, json.dumps({"kind": "youtube#videoListResponse", "items": []}))
    client, http = client_for(empty, empty, empty)
    client.videos([f"id{n:08d}" for n in range(120)])
    assert [len(query(uri)["id"].split(",")) for uri, *_ in http.request_sequence] == [50, 50, 20]
    assert client.quota_used == 3


def test_server_error_is_retried_with_backoff(backoff_sleeps):
    client, http = client_for(recorded("error_500_backend.json", 500), recorded("videos_list_batch.json"))
    assert "aX3kT9pLq2E" in client.videos(["aX3kT9pLq2E"])
    assert len(http.request_sequence) == 2 and len(backoff_sleeps) == 1
    assert client.calls["videos.list"] == 1


def test_rate_limit_429_is_retried(backoff_sleeps):
    client, _ = client_for(({"status": "429"}, "{}"), ({"status": "429"}, "{}"), recorded("videos_list_batch.json"))
    assert client.videos(["aX3kT9pLq2E"])
    assert len(backoff_sleeps) == 2 and backoff_sleeps[1] <= 4  # rand() * 2**retry


def test_server_error_beyond_retries_raises(backoff_sleeps):
    client, _ = client_for(*[recorded("error_500_backend.json", 500)] * 3, num_retries=2)
    with pytest.raises(HttpError):
        client.videos(["aX3kT9pLq2E"])


def test_quota_exceeded_is_not_retried_and_says_when_to_resume(backoff_sleeps):
    client, http = client_for(recorded("error_403_quota_exceeded.json", 403), recorded("videos_list_batch.json"))
    with pytest.raises(QuotaExceeded) as caught:
        client.videos(["aX3kT9pLq2E"])
    assert len(http.request_sequence) == 1 and not backoff_sleeps
    resets_at = caught.value.resets_at
    assert (resets_at.hour, resets_at.minute) == (0, 0) and str(resets_at.tzinfo) == "America/Los_Angeles"
    assert "quota" in str(caught.value)


@pytest.mark.parametrize(
    "utc, expected_utc",
    [
        ("2024-01-15T07:59:00", "2024-01-15T08:00:00"),  # 23:59 PST: one minute to go
        ("2024-01-15T08:00:00", "2024-01-16T08:00:00"),  # PST midnight just passed
        ("2024-07-15T12:00:00", "2024-07-16T07:00:00"),  # summer: PDT is UTC-7
    ],
)
def test_quota_resets_at_midnight_pacific(utc, expected_utc):
    now = dt.datetime.fromisoformat(utc).replace(tzinfo=dt.UTC)
    assert next_quota_reset(now).astimezone(dt.UTC).replace(tzinfo=None).isoformat() == expected_utc


def test_channel_handle_gives_uploads_playlist_which_is_paged():
    client, http = client_for(
        recorded("channels_list_handle.json"),
        recorded("playlist_items_page1.json"),
        recorded("playlist_items_page2.json"),
    )
    playlist, title = client.uploads_playlist(handle="kurzgesagt")
    assert playlist == "UUsXVk37bltHxD1rDPwtNM8Q" and title.startswith("Kurzgesagt")
    pages = list(client.playlist_pages(playlist))
    assert [ids for ids, _ in pages] == [["aX3kT9pLq2E", "Bm7rQ1sVw0c", "Kp4nZ8yHj6U"], ["Wh1sper0nly", "Zz9delet3d0"]]
    assert [token for _, token in pages] == ["EAAaBlBUOkNBTQ", None]
    assert query(http.request_sequence[0][0])["forHandle"] == "@kurzgesagt"
    assert query(http.request_sequence[2][0])["pageToken"] == "EAAaBlBUOkNBTQ"
    assert client.quota_used == 3 and client.calls == {"channels.list": 1, "playlistItems.list": 2}


def test_unknown_playlist_is_reported_not_crashed():
    client, _ = client_for(recorded("error_404_playlist_not_found.json", 404))
    with pytest.raises(NotFound, match="PLnope"):
        list(client.playlist_pages("PLnope"))


def test_missing_api_key_says_what_to_set(monkeypatch):
    monkeypatch.delenv("YOUTUBE_API_KEY", raising=False)
    with pytest.raises(MissingApiKey, match="YOUTUBE_API_KEY"):
        YouTubeClient.connect(http=HttpMockSequence([]))
