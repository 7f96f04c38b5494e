"""Video jobs through the API with a real Redis (a private redis-server) and the real worker class run in this
process (burst mode), so YouTube can be answered from recorded responses: oEmbed, the transcript API's caption
tracks, and a yt-dlp "download" of a recorded speech file. Whisper is the real base model (faster-whisper).

The worker as its own process (an uploaded mp4, a SIGKILL mid-transcription): test_webapp_jobs_worker.py.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/code: recorded_youtube

from jobs_support import COOKING, missing_tools  # noqa: E402
from recorded_youtube import FakeTranscriptApi, FakeYoutubeDL, RecordedOembed  # noqa: E402

pytestmark = pytest.mark.skipif(bool(missing_tools()), reason=f"needs {', '.join(missing_tools())}")

LINK = "https://www.youtube.com/watch?v=aX3kT9pLq2E"
WHISPER_LINK = "https://youtu.be/Wh1sper0nly"


def run_worker() -> None:
    """The video worker class on the jobs queue until it is empty (signal handlers given back afterwards)."""
    from api import jobs
    from api.jobs_worker import VideoWorker

    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        VideoWorker([jobs.queue()], connection=jobs.connection()).work(burst=True)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def read(api, created: dict, token: str | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token or created['token']}"}
    return api.get(created["status_url"], **headers)


def post_link(api, url: str, **fields):
    return api.post("/api/jobs", {"url": url, **fields}, content_type="application/json")


def queued_count() -> int:
    from api import jobs

    return jobs.queue().count


def test_a_link_with_captions_is_tagged_without_whisper(jobs_api, monkeypatch):
    from pipelines import asr

    def no_whisper(*args, **kwargs):
        raise AssertionError("Whisper must not run for a video with captions")

    monkeypatch.setattr(asr, "transcribe_timed", no_whisper)
    created = post_link(jobs_api, LINK, k=5)
    assert created.status_code == 202, created.json()
    body = created.json()
    assert body["state"] == "queued" and created["Location"] == body["status_url"] == f"/api/jobs/{body['job_id']}"
    assert read(jobs_api, body).json()["state"] == "queued"

    run_worker()

    done = read(jobs_api, body).json()
    assert done["state"] == "done" and done["progress"] == 1.0 and done["error"] is None
    assert done["tags"][0]["tag"] == "cooking" and len(done["tags"]) <= 5
    assert done["youtube_tags"].startswith("cooking") and done["model"]["alias"] == "production"
    assert done["transcript"]["source"] == "manual captions" and done["transcript"]["language"] == "en"
    segments = done["transcript"]["segments"]
    assert (
        segments[0]["start_s"] == 0.0
        and segments[1]["start_s"] == 2.5
        and "bread" in " ".join(s["text"] for s in segments)
    )
    assert done["video"] == {
        "kind": "url",
        "video_id": "aX3kT9pLq2E",
        "url": LINK,
        "title": "Baking bread at home: the whole recipe",  # from oEmbed: none was given
        "duration_s": None,
    }


def test_a_link_without_captions_is_transcribed_from_its_downloaded_audio(jobs_api, clips, monkeypatch, settings):
    import yt_dlp

    monkeypatch.setattr(yt_dlp, "YoutubeDL", FakeYoutubeDL.serving({"Wh1sper0nly": (clips["wav"], 13.4)}))
    created = post_link(jobs_api, WHISPER_LINK, title="Bread at home").json()
    run_worker()
    done = read(jobs_api, created).json()
    assert done["state"] == "done", done
    assert done["transcript"]["source"] == "whisper" and done["transcript"]["language"] == "en"
    heard = " ".join(s["text"] for s in done["transcript"]["segments"]).lower()
    assert {"bread", "flour", "oven"} <= set(heard.replace(",", " ").replace(".", " ").split()), heard
    assert all(s["end_s"] >= s["start_s"] for s in done["transcript"]["segments"])
    assert "cooking" in [t["tag"] for t in done["tags"]]
    assert done["video"]["title"] == "Bread at home" and done["video"]["duration_s"] == pytest.approx(13, abs=2)
    assert not any(Path(settings.TUBETAGS_MEDIA_DIR).glob("*/*")), "the download is removed"


def test_a_channel_history_travels_with_the_job_to_the_model(jobs_api, monkeypatch):
    from api.model_cache import LoadedModel
    from tubetags.inputs import PastVideo

    seen = {}
    real = LoadedModel.predict

    def predict(self, transcript, k, title=None, description=None, channel_history=()):
        seen["history"] = channel_history
        return real(self, transcript, k, title, description, channel_history)

    monkeypatch.setattr(LoadedModel, "predict", predict)
    history = [{"title": "Rye <i>bread</i>", "tags": ["rye", "baking"]}, {"tags": ["bagels"]}]
    created = post_link(jobs_api, LINK, k=5, channel_history=history)
    assert created.status_code == 202, created.json()
    run_worker()
    assert read(jobs_api, created.json()).json()["state"] == "done"
    assert seen["history"] == (PastVideo("Rye bread", ("rye", "baking")), PastVideo("", ("bagels",)))
    malformed = post_link(jobs_api, LINK, channel_history=[{"title": "x", "views": 1}])
    assert malformed.status_code == 400 and "unknown field(s): views" in malformed.json()["error"]


def test_a_job_is_read_only_with_its_own_token(jobs_api):
    first = post_link(jobs_api, LINK).json()
    second = post_link(jobs_api, LINK).json()
    assert first["job_id"] != second["job_id"] and len(first["job_id"]) == 22 and len(first["token"]) >= 32
    assert read(jobs_api, first).status_code == 200
    answers = [
        read(jobs_api, first, token=second["token"]),  # another job's token
        jobs_api.get(first["status_url"]),  # no token
        read(jobs_api, {**first, "status_url": "/api/jobs/" + "A" * 22}),  # unknown id
        read(jobs_api, {**first, "status_url": "/api/jobs/not-an-id"}),
    ]
    assert [a.status_code for a in answers] == [404] * 4
    assert len({a.json()["error"] for a in answers}) == 1  # nothing tells an existing job from a missing one


@pytest.mark.parametrize(
    "make, status, words",
    [
        (lambda d: ("virus.mp4", (Path(sys.executable).read_bytes()[:65536])), 415, "not a video or audio file"),
        (lambda d: ("holiday.png", None), 415, "Unsupported file type"),
        (lambda d: ("picture.mp4", "png"), 415, "picture"),
        (lambda d: ("empty.mp4", b""), 422, "empty"),
        (lambda d: ("silent.mp4", "silent"), 422, "no sound track"),
        (lambda d: ("talk.srt", b"1\n00:00:01,000 --> 00:00:02,000\nhello\n"), 415, "POST /api/tags"),
    ],
    ids=["exe-renamed-mp4", "image-extension", "image-renamed-mp4", "empty", "no-audio", "subtitles"],
)
def test_bad_files_are_refused_at_once_and_nothing_is_queued(jobs_api, settings, tmp_path, make, status, words):
    import subprocess

    name, content = make(tmp_path)
    path = tmp_path / name
    if content == "png" or content is None:
        subprocess.run(
            ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1"]
            + ["-f", "image2", "-c:v", "png", str(path)],
            check=True,
        )
    elif content == "silent":
        subprocess.run(
            ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=black:s=64x64:r=5", "-t", "2"]
            + ["-c:v", "libx264", str(path)],
            check=True,
        )
    else:
        path.write_bytes(content)
    with path.open("rb") as upload:
        answer = jobs_api.post("/api/jobs", {"file": upload})
    assert answer.status_code == status and answer["Content-Type"] == "application/json", answer.content
    assert words in answer.json()["error"]
    assert queued_count() == 0 and not any(Path(settings.TUBETAGS_MEDIA_DIR).glob("*"))


def test_an_over_long_video_is_refused_with_the_limit(jobs_api, settings, clips):
    settings.TUBETAGS_JOBS_MAX_DURATION_S = 10  # the clip is 13 s
    with clips["mp4"].open("rb") as upload:
        answer = jobs_api.post("/api/jobs", {"file": upload})
    assert answer.status_code == 413 and answer.json()["limit_s"] == 10
    assert answer.json()["error"] == "The video is 13 s long; the limit is 10 s."
    assert queued_count() == 0


@pytest.mark.parametrize(
    "url, status, words",
    [
        ("https://vimeo.com/76979871", 422, "Only YouTube links"),
        ("https://www.youtube.com/@kurzgesagt", 422, "channel or a playlist"),
        ("https://www.youtube.com/watch?v=short", 422, "does not name a video"),
        ("5]\u00df\u0080U\u0004-\u0015g", 422, "not a web link"),  # schemathesis found this one (a 500 then)
        ("https://www.youtube.com/watch?v=Zz9delet3d0", 404, "does not exist any more"),  # recorded 404
    ],
)
def test_bad_links_are_refused_at_once_and_nothing_is_queued(jobs_api, url, status, words):
    answer = post_link(jobs_api, url)
    assert answer.status_code == status and words in answer.json()["error"], answer.json()
    assert queued_count() == 0


def test_the_other_link_forms_name_the_same_video():
    from pipelines.youtube_links import video_id

    for link in [
        "https://youtu.be/aX3kT9pLq2E?si=abc",
        "https://www.youtube.com/shorts/aX3kT9pLq2E",
        "https://m.youtube.com/watch?v=aX3kT9pLq2E&t=42s",
        "youtube.com/watch?feature=share&v=aX3kT9pLq2E",
        "https://www.youtube.com/live/aX3kT9pLq2E",
        "aX3kT9pLq2E",
    ]:
        assert video_id(link) == "aX3kT9pLq2E", link


def test_a_private_video_is_refused_with_a_way_out(jobs_api, monkeypatch):
    from pipelines import youtube_links

    monkeypatch.setattr(youtube_links, "http_session", RecordedOembed({"Pr1vate0000": (403, "oembed_403.txt")}))
    answer = post_link(jobs_api, "https://youtu.be/Pr1vate0000")
    assert answer.status_code == 422 and "upload the video file" in answer.json()["error"]
    assert queued_count() == 0


def test_redis_down_answers_503_on_jobs_while_tags_keep_working(jobs_api, settings, clips):
    from jobs_support import free_port

    from api import jobs

    settings.TUBETAGS_JOBS_REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    jobs.connection.cache_clear()
    answer = post_link(jobs_api, LINK)
    assert answer.status_code == 503 and answer["Retry-After"] == "60"
    assert "POST /api/tags" in answer.json()["error"]
    with clips["mp4"].open("rb") as upload:
        assert jobs_api.post("/api/jobs", {"file": upload}).status_code == 503
    assert not any(Path(settings.TUBETAGS_MEDIA_DIR).glob("*")), "the upload is not left behind"
    assert jobs_api.get("/api/jobs/" + "A" * 22, HTTP_AUTHORIZATION="Bearer x").status_code == 503
    tags = jobs_api.post("/api/tags", {"transcript": COOKING}, content_type="application/json")
    assert tags.status_code == 200 and tags.json()["tags"][0]["tag"] == "cooking"


def test_a_full_queue_answers_503_before_taking_more(jobs_api, settings):
    settings.TUBETAGS_JOBS_MAX_QUEUED = 2
    assert [post_link(jobs_api, LINK).status_code for _ in range(3)] == [202, 202, 503]
    assert queued_count() == 2


def test_a_video_youtube_will_not_serve_fails_in_words_and_is_not_retried(jobs_api, monkeypatch):
    from youtube_transcript_api import VideoUnavailable

    monkeypatch.setattr(FakeTranscriptApi, "tracks", {"aX3kT9pLq2E": VideoUnavailable("aX3kT9pLq2E")})
    created = post_link(jobs_api, LINK).json()
    run_worker()
    failed = read(jobs_api, created).json()
    assert failed["state"] == "failed" and "not available" in failed["error"] and "Traceback" not in failed["error"]


def test_a_transient_fault_is_tried_again_in_the_job_and_the_job_then_finishes(jobs_api, monkeypatch):
    from youtube_transcript_api import RequestBlocked

    from api import video_jobs

    class BlockedOnce(FakeTranscriptApi):
        calls = 0

        def list(self, video_id):
            BlockedOnce.calls += 1
            if BlockedOnce.calls == 1:
                raise RequestBlocked(video_id)
            return super().list(video_id)

    from pipelines import captions

    monkeypatch.setattr(captions, "YouTubeTranscriptApi", BlockedOnce)
    monkeypatch.setattr(FakeTranscriptApi, "tracks", {"aX3kT9pLq2E": [("en", True, COOKING)]})
    monkeypatch.setattr(video_jobs, "RETRY_WAITS_S", (0.0, 0.0))
    created = post_link(jobs_api, LINK).json()
    run_worker()
    done = read(jobs_api, created).json()
    assert BlockedOnce.calls == 2 and done["state"] == "done" and done["transcript"]["source"] == "auto captions"


def test_a_fault_that_stays_fails_after_the_tries_in_words(jobs_api, monkeypatch):
    from youtube_transcript_api import RequestBlocked

    from api import video_jobs

    monkeypatch.setattr(FakeTranscriptApi, "tracks", {"aX3kT9pLq2E": RequestBlocked("aX3kT9pLq2E")})
    monkeypatch.setattr(video_jobs, "RETRY_WAITS_S", (0.0, 0.0))
    created = post_link(jobs_api, LINK).json()
    run_worker()
    failed = read(jobs_api, created).json()
    assert failed["state"] == "failed" and failed["error"] == "YouTube did not let us read the captions just now."


def test_tags_fit_counts_as_the_server_does():
    from api.tag_fit import fit
    from tubetags.tags import youtube_tag_length, youtube_tag_string

    cases = [
        ["cooking", "sourdough bread", "Cooking", "<b>baking</b>", "!!!", "robots", "robot"],
        [f"tag number {i}" for i in range(60)],
        ["a" * 101, "ok"],
        ["café", "Ünïcode tag", "c++", "c#"],
    ]
    for tags in cases:
        answer = fit(tags)
        assert answer["youtube_tags"] == youtube_tag_string(tags)
        assert answer["length"] == youtube_tag_length(answer["kept"]) <= 500
        assert len(answer["kept"]) + len(answer["dropped"]) == len(tags)
    reasons = {d["tag"]: d["reason"] for d in fit(cases[0])["dropped"]}
    assert reasons == {"Cooking": "duplicate", "!!!": "unusable", "robot": "duplicate"}
    assert {d["reason"] for d in fit(cases[1])["dropped"]} == {"over budget"}


def test_tags_fit_endpoint(api):
    answer = api.post(
        "/api/tags/fit", {"tags": ["my own tag", "cooking", "My Own Tag"]}, content_type="application/json"
    )
    assert answer.status_code == 200
    assert answer.json() == {
        "youtube_tags": "my own tag,cooking",
        "kept": ["my own tag", "cooking"],
        "dropped": [{"tag": "My Own Tag", "reason": "duplicate"}],
        "length": 20,
        "limit": 500,
    }
    assert api.post("/api/tags/fit", {"tags": "cooking"}, content_type="application/json").status_code == 400


def test_eta_follows_the_pace_once_there_is_one():
    from api.jobs import eta_s

    start = 1000.0
    meta = {"state": "transcribing", "duration_s": 600.0, "transcribe_started": start, "rtf": 0.15}
    # Before 5% is done: the expected real-time factor (600 s x 0.15 = 90 s), less the time already spent.
    assert eta_s({**meta, "audio_done_s": 0.0}, start + 10) == 80.0
    # Then the pace so far: 150 s of audio in 30 s -> 450 s left at the same pace = 90 s.
    assert eta_s({**meta, "audio_done_s": 150.0}, start + 30) == 90.0
    assert eta_s({**meta, "state": "tagging", "audio_done_s": 600.0}, start + 99) is None
