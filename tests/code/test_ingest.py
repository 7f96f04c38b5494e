"""The collector end to end, offline: recorded Data API responses, the transcript API faked at its
network boundary (real TranscriptList / Transcript objects over a fake HTTP session), Whisper stubbed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from googleapiclient.http import HttpMockSequence
from recorded_youtube import FakeTranscriptApi, FakeYoutubeDL
from youtube_transcript_api import RequestBlocked, TranscriptList, VideoUnavailable
from youtube_transcript_api._transcripts import Transcript as CaptionTrack

from pipelines import asr, captions, ingest, video_records
from pipelines.captions import Transcript
from pipelines.collected_store import CollectedStore
from tubetags.jobs import Job, run_job

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "youtube"
SPEECH = (
    "today we look at what happens when you fall into a black hole and why time seems to slow "
    "down near the event horizon while space itself is stretched into spaghetti"
)


def ingest_main(argv: list[str], http: Any = None) -> Any:
    """`tubetags ingest ARGV`, with the Data API answered by `http` (recorded responses)."""
    job: Job[Any] = Job(
        "ingest",
        ingest.IngestConfig,
        lambda config: ingest.run(config, http=http),
        report=ingest.JOB.report,
        exit_code=ingest.JOB.exit_code,
    )
    return run_job(job, argv)


def recorded(name: str, status: int = 200) -> tuple[dict, str]:
    return {"status": str(status)}, (FIXTURES / name).read_text()


@pytest.fixture
def work(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("TUBETAGS_WORK_DIR", str(tmp_path))
    monkeypatch.setenv("YOUTUBE_API_KEY", "test-key")
    return tmp_path


@pytest.fixture
def fake_youtube(monkeypatch) -> list[str]:
    """Captions as the fixture videos have them; Whisper stubbed. Returns the ids sent to Whisper."""
    monkeypatch.setattr(
        FakeTranscriptApi,
        "tracks",
        {
            "aX3kT9pLq2E": [("en", True, "auto " + SPEECH), ("en", False, "[Music] " + SPEECH)],
            "Bm7rQ1sVw0c": [("de", True, "heute " + SPEECH), ("en-US", True, SPEECH + " bacteria")],
            "Kp4nZ8yHj6U": [("en", False, SPEECH)],
        },
    )
    monkeypatch.setattr(captions, "YouTubeTranscriptApi", FakeTranscriptApi)
    whispered: list[str] = []

    def fake_transcribe_video(video_id, backend, model):
        whispered.append(video_id)
        return Transcript(text=SPEECH + " bees", language="en", source="whisper")

    monkeypatch.setattr(asr, "transcribe_video", fake_transcribe_video)
    return whispered


FIVE_IDS = ["aX3kT9pLq2E", "Bm7rQ1sVw0c", "Kp4nZ8yHj6U", "Wh1sper0nly", "Zz9delet3d0"]


def collected(work: Path) -> tuple[pd.DataFrame, list[dict]]:
    folder = work / "collected"
    frames = [pd.read_parquet(p) for p in sorted(folder.glob("*.parquet"))]
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["video_id"])
    rejects = (
        [json.loads(line) for line in (folder / "rejects.jsonl").read_text().splitlines()]
        if (folder / "rejects.jsonl").exists()
        else []
    )
    return rows, rejects


def test_a_batch_lands_in_parquet_and_rejects_keep_their_reason(work, fake_youtube, capsys):
    http = HttpMockSequence([recorded("videos_list_batch.json")])
    summary = ingest_main(["--video-ids", ",".join(FIVE_IDS), "--track", "false"], http=http)

    rows, rejects = collected(work)
    by_id = rows.set_index("video_id")
    assert sorted(by_id.index) == ["Bm7rQ1sVw0c", "Wh1sper0nly", "aX3kT9pLq2E"]
    # Manual captions win over auto ones; caption markers are stripped.
    assert by_id.loc["aX3kT9pLq2E", "transcript_source"] == "manual_captions"
    assert by_id.loc["aX3kT9pLq2E", "transcript"].startswith("today we look")
    # defaultAudioLanguage en-US: its own track is taken over German, and stored as 'en'.
    assert by_id.loc["Bm7rQ1sVw0c", "transcript_source"] == "auto_captions"
    assert by_id.loc["Bm7rQ1sVw0c", "transcript"].endswith("bacteria")
    assert by_id.loc["Bm7rQ1sVw0c", "language"] == "en"
    assert by_id.loc["Wh1sper0nly", "transcript_source"] == "whisper" and fake_youtube == ["Wh1sper0nly"]
    assert list(by_id.loc["aX3kT9pLq2E", "tags"])[:2] == ["black hole", "space"]
    assert by_id.loc["aX3kT9pLq2E", "published"] == "2023-05-10"
    assert by_id.loc["aX3kT9pLq2E", "channel"] == "Kurzgesagt – In a Nutshell"

    reasons = {r["video_id"]: (r["stage"], r["reason"]) for r in rejects}
    assert reasons["Kp4nZ8yHj6U"][0] == "contract" and "tags" in reasons["Kp4nZ8yHj6U"][1]
    assert reasons["Zz9delet3d0"] == ("unavailable", "not returned by videos.list: deleted, private or not a video id")
    assert summary.quota_used == 1 and summary.pending == 0
    out = capsys.readouterr().out
    assert "quota used this run: 1 units" in out and "rejected 2" in out


def test_build_corpus_reads_what_the_collector_wrote(work, fake_youtube):
    from pipelines.sources import read_collected

    ingest_main(
        ["--video-ids", *FIVE_IDS, "--track", "false"], http=HttpMockSequence([recorded("videos_list_batch.json")])
    )
    from data_contracts import validate_records

    accepted, rejected = validate_records(read_collected(work / "collected"))
    assert len(accepted) == 3 and not rejected


def test_rerun_collects_nothing_twice(work, fake_youtube):
    ingest_main(
        ["--video-ids", *FIVE_IDS, "--track", "false"], http=HttpMockSequence([recorded("videos_list_batch.json")])
    )
    http = HttpMockSequence([])  # a request would fail: there must be none
    summary = ingest_main(["--video-ids", *FIVE_IDS, "--track", "false"], http=http)
    assert http.request_sequence == [] and summary.quota_used == 0
    rows, rejects = collected(work)
    assert len(rows) == 3 and len(rejects) == 2


def test_quota_exceeded_stops_cleanly_and_the_same_command_resumes(work, fake_youtube, capsys):
    argv = ["--video-ids", *FIVE_IDS, "--batch-size", "2", "--track", "false"]
    http = HttpMockSequence([recorded("videos_list_batch.json"), recorded("error_403_quota_exceeded.json", 403)])
    with pytest.raises(SystemExit) as stopped:
        ingest_main(argv, http=http)
    assert stopped.value.code == ingest.EXIT_QUOTA
    out = capsys.readouterr().out
    assert "quota is spent" in out and "midnight Pacific" in out and "run the same command again" in out
    rows, _ = collected(work)
    assert sorted(rows.video_id) == ["Bm7rQ1sVw0c", "aX3kT9pLq2E"]  # first batch kept
    state = json.loads(next((work / "collected" / "state").glob("videos-*.json")).read_text())
    assert state["pending"] == FIVE_IDS[2:]

    http = HttpMockSequence([recorded("videos_list_batch.json")] * 2)
    ingest_main(argv, http=http)
    assert len(http.request_sequence) == 2  # only the 3 videos left, in batches of 2
    rows, rejects = collected(work)
    assert sorted(rows.video_id) == ["Bm7rQ1sVw0c", "Wh1sper0nly", "aX3kT9pLq2E"]
    assert sorted(r["video_id"] for r in rejects) == ["Kp4nZ8yHj6U", "Zz9delet3d0"]


def test_channel_is_listed_through_its_uploads_playlist(work, fake_youtube):
    http = HttpMockSequence(
        [
            recorded("channels_list_handle.json"),
            recorded("playlist_items_page1.json"),
            recorded("playlist_items_page2.json"),
            recorded("videos_list_batch.json"),
        ]
    )
    summary = ingest_main(["--channel-handle", "@kurzgesagt", "--track", "false"], http=http)
    assert summary.calls == {"channels.list": 1, "playlistItems.list": 2, "videos.list": 1}
    assert len(collected(work)[0]) == 3


def test_max_videos_stops_listing_early(work, fake_youtube):
    http = HttpMockSequence([recorded("playlist_items_page1.json"), recorded("videos_list_batch.json")])
    summary = ingest_main(
        ["--playlist-id", "UUsXVk37bltHxD1rDPwtNM8Q", "--max-videos", "2", "--track", "false"], http=http
    )
    assert summary.calls["playlistItems.list"] == 1
    assert sorted(collected(work)[0].video_id) == ["Bm7rQ1sVw0c", "aX3kT9pLq2E"]


def test_blocked_caption_requests_leave_the_video_pending(work, fake_youtube, monkeypatch):
    tracks = dict(
        FakeTranscriptApi.tracks, aX3kT9pLq2E=RequestBlocked("aX3kT9pLq2E"), Bm7rQ1sVw0c=VideoUnavailable("Bm7rQ1sVw0c")
    )
    monkeypatch.setattr(FakeTranscriptApi, "tracks", tracks)
    summary = ingest_main(
        ["--video-ids", *FIVE_IDS, "--track", "false"], http=HttpMockSequence([recorded("videos_list_batch.json")])
    )
    assert "aX3kT9pLq2E" in summary.failed and summary.pending == 1
    rows, rejects = collected(work)
    assert "aX3kT9pLq2E" not in set(rows.video_id)
    assert {r["video_id"]: r["stage"] for r in rejects}["Bm7rQ1sVw0c"] == "captions"


def test_no_whisper_leaves_uncaptioned_videos_pending(work, fake_youtube):
    summary = ingest_main(
        ["--video-ids", *FIVE_IDS, "--whisper", "false", "--track", "false"],
        http=HttpMockSequence([recorded("videos_list_batch.json")]),
    )
    assert summary.failed == {"Wh1sper0nly": "no captions and whisper is off"} and fake_youtube == []


def test_missing_api_key_is_one_clear_line(work, monkeypatch, caplog):
    monkeypatch.delenv("YOUTUBE_API_KEY")
    with pytest.raises(SystemExit) as stopped:
        ingest_main(["--video-ids", "aX3kT9pLq2E", "--track", "false"], http=HttpMockSequence([]))
    assert stopped.value.code == 1 and "YOUTUBE_API_KEY" in caplog.text


def test_exactly_one_source_is_required(work, capsys):
    with pytest.raises(SystemExit):
        ingest_main(["--video-ids", "", "--playlist-id", "", "--track", "false"])  # as `mlflow run` passes blanks
    assert "exactly one of --video-ids" in capsys.readouterr().err


def test_a_torn_rejects_line_is_cut_on_restart(tmp_path):
    store = CollectedStore(tmp_path)
    store.rejects.write_text('{"video_id": "a", "source": "youtube"}\n{"video_id": "b", "sou')
    (tmp_path / "batch-x.parquet.tmp").write_bytes(b"half")
    store.repair()
    assert store.rejected_ids() == ["a"] and not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize(
    "default_language, tracks, expected",
    [
        ("en", [("en", True), ("en", False)], ("en", False)),  # manual over auto
        ("de", [("en", False), ("de", True)], ("en", False)),  # manual English over auto German
        ("de", [("fr", True), ("de", True)], ("de", True)),  # the video's own language
        (None, [("fr", False), ("en", True)], ("en", True)),  # no default: English
        ("en", [("fr", True), ("es", False)], ("es", False)),  # else first manual
    ],
)
def test_caption_track_choice(default_language, tracks, expected):
    manual = {c: CaptionTrack(None, "v", "u", c, c, g, []) for c, g in tracks if not g}
    generated = {c: CaptionTrack(None, "v", "u", c, c, g, []) for c, g in tracks if g}
    chosen = captions.choose_track(
        TranscriptList("v", manual, generated, []), captions.preferred_languages(default_language)
    )
    assert (chosen.language_code, chosen.is_generated) == expected


def test_iso_durations():
    assert video_records.parse_duration("PT11M42S") == 702
    assert video_records.parse_duration("PT1H") == 3600
    assert video_records.parse_duration("P1DT2H") == 26 * 3600
    assert video_records.parse_duration("P0D") == 0


def test_audio_download_asks_yt_dlp_for_best_audio(tmp_path, monkeypatch):
    import yt_dlp

    recorded = tmp_path / "recorded.webm"
    recorded.write_bytes(b"audio")
    fake = FakeYoutubeDL.serving({"Wh1sper0nly": (recorded, 95.0)})
    monkeypatch.setattr(yt_dlp, "YoutubeDL", fake)
    fractions = []
    assert asr.download_audio("Wh1sper0nly", tmp_path / "out", on_progress=fractions.append).name == "Wh1sper0nly.webm"
    assert fake.last_options["format"].startswith("bestaudio") and fake.urls[-1].endswith("v=Wh1sper0nly")
    assert fractions[-1] == 1.0


def test_audio_download_refuses_a_video_over_the_limit_before_downloading(tmp_path, monkeypatch):
    import yt_dlp

    recorded = tmp_path / "recorded.webm"
    recorded.write_bytes(b"audio")
    monkeypatch.setattr(yt_dlp, "YoutubeDL", FakeYoutubeDL.serving({"Wh1sper0nly": (recorded, 3 * 3600.0)}))
    with pytest.raises(asr.AudioTooLong) as refused:
        asr.download_audio("Wh1sper0nly", tmp_path / "out", max_seconds=7200)
    assert refused.value.seconds == 3 * 3600 and not (tmp_path / "out").exists()
