"""Kill the collector with SIGKILL at chosen and at random moments, restart it: nothing lost, nothing twice.

This file is also the child process: run as a script it collects a fake 40-video channel through a
routing fake of the Data API (the restarted child asks for different pages and ids than the first did)
and the fake transcript API of test_ingest.py.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

REPO = Path(__file__).resolve().parents[2]
N_VIDEOS, PAGE = 40, 10
IDS = [f"vid{n:08d}" for n in range(N_VIDEOS)]
DELETED = {i for n, i in enumerate(IDS) if n % 11 == 5}  # absent from videos.list
UNTAGGED = {i for n, i in enumerate(IDS) if n % 7 == 3}  # rejected by the contract
ACCEPTED = set(IDS) - DELETED - UNTAGGED
SPEECH = (
    "we explain how rivers carve canyons over millions of years and why floods move more rock than calm water ever does"
)


class RoutingHttp:
    """httplib2.Http stand-in that answers any playlistItems/videos request from the fake channel."""

    def request(self, uri, method="GET", body=None, headers=None, redirections=1, connection_type=None):
        import httplib2

        url = urlparse(uri)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path.endswith("/channels"):
            content = {
                "kind": "youtube#channelListResponse",
                "items": [
                    {
                        "id": params["id"],
                        "snippet": {"title": "Rivers"},
                        "contentDetails": {"relatedPlaylists": {"uploads": "UUrivers"}},
                    }
                ],
            }
        elif url.path.endswith("/playlistItems"):
            start = int(params.get("pageToken", "0"))
            page = {
                "kind": "youtube#playlistItemListResponse",
                "items": [
                    {"kind": "youtube#playlistItem", "contentDetails": {"videoId": v}}
                    for v in IDS[start : start + PAGE]
                ],
            }
            if start + PAGE < N_VIDEOS:
                page["nextPageToken"] = str(start + PAGE)
            content = page
        elif url.path.endswith("/videos"):
            content = {
                "kind": "youtube#videoListResponse",
                "items": [
                    {
                        "kind": "youtube#video",
                        "id": v,
                        "contentDetails": {"duration": "PT5M"},
                        "snippet": {
                            "title": f"River video {v}",
                            "description": "",
                            "channelTitle": "Rivers",
                            "publishedAt": "2024-02-01T10:00:00Z",
                            "defaultAudioLanguage": "en",
                            "liveBroadcastContent": "none",
                            **({} if v in UNTAGGED else {"tags": ["rivers", "geology"]}),
                        },
                    }
                    for v in params["id"].split(",")
                    if v not in DELETED
                ],
            }
        else:
            raise AssertionError(f"unexpected request {uri}")
        return httplib2.Response({"status": "200"}), json.dumps(content).encode()


def child() -> None:
    """Collect the fake channel; KILL_AT='N:before|after' kills this process around its Nth os.replace."""
    import test_ingest  # beside this file: sys.path[0] when run as a script
    from test_ingest import ingest_main

    from pipelines import captions, collected_store

    delay = float(os.environ.get("CAPTION_DELAY", "0"))

    class SlowTranscriptApi(test_ingest.FakeTranscriptApi):
        tracks = {v: [("en", False, f"{SPEECH} {v}")] for v in IDS}

        def list(self, video_id):
            time.sleep(delay)  # room for a kill to land mid-batch
            return super().list(video_id)

    captions.YouTubeTranscriptApi = SlowTranscriptApi
    if os.environ.get("KILL_AT"):
        nth, when = os.environ["KILL_AT"].split(":")
        real_replace, calls = os.replace, []

        def replace_then_die(src, dst):
            calls.append(dst)
            if len(calls) == int(nth) and when == "before":
                print(f"KILLED before replacing {Path(dst).name}", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)
            real_replace(src, dst)
            if len(calls) == int(nth) and when == "after":
                print(f"KILLED after replacing {Path(dst).name}", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)

        collected_store.os.replace = replace_then_die
    ingest_main(["--channel-id", "UCrivers", "--batch-size", "4", "--track", "false"], http=RoutingHttp())


def run_child(work: Path, kill_at: str | None = None, random_kill: bool = False, delay: float = 0.0):
    env = dict(
        os.environ,
        TUBETAGS_WORK_DIR=str(work),
        YOUTUBE_API_KEY="test-key",
        PYTHONPATH=str(REPO),
        CAPTION_DELAY=str(delay),
        KILL_AT=kill_at or "",
    )
    process = subprocess.Popen(
        [sys.executable, __file__], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    if random_kill:
        # Wait until it is collecting (a batch committed since start), then kill at a random moment.
        before = len(list((work / "collected").glob("*.parquet")))
        deadline = time.time() + 30
        while process.poll() is None and time.time() < deadline:
            if len(list((work / "collected").glob("*.parquet"))) > before:
                break
            time.sleep(0.02)
        time.sleep(random.uniform(0, 0.3))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
    output, _ = process.communicate(timeout=120)
    return process.returncode, output


def outputs(work: Path) -> tuple[list[str], list[str]]:
    import pyarrow.parquet as pq

    folder = work / "collected"
    accepted = [v for p in folder.glob("*.parquet") for v in pq.read_table(p).column("video_id").to_pylist()]
    rejects = folder / "rejects.jsonl"
    rejected = [json.loads(line)["video_id"] for line in rejects.read_text().splitlines()] if rejects.exists() else []
    return accepted, rejected


@pytest.mark.slow
def test_sigkill_at_any_moment_loses_and_duplicates_nothing(tmp_path):
    # Replace calls: listing saves the state per page; then a save after pruning done ids, and per batch
    # its Parquet file then the state. So these land: mid-listing (twice), after a batch's Parquet but
    # before the state, with the state's temp file written but not in place, and on a later batch.
    for kill_at, killed_on in [
        ("3:after", "channel-"),
        ("2:after", "channel-"),
        ("2:after", "batch-"),
        ("3:before", "channel-"),
        ("4:after", "batch-"),
    ]:
        code, output = run_child(tmp_path, kill_at=kill_at)
        assert code == -signal.SIGKILL and f"KILLED {kill_at.split(':')[1]} replacing {killed_on}" in output, output
    for _ in range(2):
        code, output = run_child(tmp_path, random_kill=True, delay=0.03)
        assert code in (0, -signal.SIGKILL), output

    code, output = run_child(tmp_path)
    assert code == 0, output

    accepted, rejected = outputs(tmp_path)
    assert sorted(accepted) == sorted(ACCEPTED)  # each once
    assert sorted(rejected) == sorted(DELETED | UNTAGGED)
    assert not list((tmp_path / "collected").rglob("*.tmp"))
    state = json.loads(next((tmp_path / "collected" / "state").glob("*.json")).read_text())
    assert state["pending"] == [] and state["listing_complete"]


if __name__ == "__main__":
    child()
