"""The worker as the product runs it: `manage.py rqworker --worker-class api.jobs_worker.VideoWorker` in its own
process, on a private redis-server, with espeak-ng speech muxed into an mp4 and the real Whisper base model."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from jobs_support import COOKING, missing_tools, speech_video, start_worker, stop, wait_for, worker_env

pytestmark = [pytest.mark.slow, pytest.mark.skipif(bool(missing_tools()), reason=f"needs {', '.join(missing_tools())}")]


def upload(api, path: Path) -> dict:
    with path.open("rb") as video:
        answer = api.post("/api/jobs", {"file": video, "k": "5", "title": "Bread at home"})
    assert answer.status_code == 202, answer.content
    return answer.json()


def read(api, created: dict) -> dict:
    answer = api.get(created["status_url"], HTTP_AUTHORIZATION=f"Bearer {created['token']}")
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_an_uploaded_video_is_tagged_by_a_worker_process(jobs_api, settings, registry_uri, redis_url, clips, tmp_path):
    media = Path(settings.TUBETAGS_MEDIA_DIR)
    created = upload(jobs_api, clips["mp4"])
    assert read(jobs_api, created)["state"] == "queued" and any(media.glob("*/input.mp4"))
    worker = start_worker(worker_env(redis_url, registry_uri, media), tmp_path / "worker.log")
    try:
        seen: list[tuple[str, float]] = []

        def finished() -> dict | None:
            status = read(jobs_api, created)
            seen.append((status["state"], status["progress"]))
            return status if status["state"] in ("done", "failed") else None

        done = wait_for(finished, 300, "the job to end", every_s=0.1)
    finally:
        stop(worker)
    assert done["state"] == "done", (done, (tmp_path / "worker.log").read_text()[-3000:])
    assert done["tags"][0]["tag"] == "cooking" and len(done["tags"]) <= 5
    assert done["transcript"]["source"] == "whisper" and done["transcript"]["language"] == "en"
    assert done["video"]["title"] == "Bread at home" and done["video"]["duration_s"] == pytest.approx(13, abs=2)
    said = [s for s in done["transcript"]["segments"] if "oven" in s["text"]]
    assert said and 0 < said[0]["start_s"] < 13
    states = [state for state, _ in seen]
    assert states.index("queued") < states.index("done") and "transcribing" in states
    progress = [p for _, p in seen]
    assert progress == sorted(progress), "the bar never goes back"
    assert not any(media.iterdir()), "the upload is removed"


def test_a_worker_killed_mid_transcription_leaves_a_job_that_is_retried_and_finishes(
    jobs_api, settings, registry_uri, redis_url, tmp_path
):
    """SIGKILL to the worker's whole process group while it transcribes: within the heartbeat's time to live the
    job stops looking like it runs (RQ's abandoned-job clean-up on read) and is queued again; a new worker ends it."""
    media = Path(settings.TUBETAGS_MEDIA_DIR)
    longer = speech_video(tmp_path, COOKING, "longer.mp4", repeat=3)  # ~40 s of speech
    env = worker_env(redis_url, registry_uri, media, TUBETAGS_JOBS_HEARTBEAT_S="2")
    first = start_worker(env, tmp_path / "worker1.log")
    created = upload(jobs_api, longer)
    try:
        wait_for(lambda: read(jobs_api, created)["state"] == "transcribing", 300, "transcribing", every_s=0.1)
    finally:
        stop(first, signal.SIGKILL)
    killed_at = time.monotonic()
    assert read(jobs_api, created)["state"] == "transcribing"  # its heartbeat has not expired yet

    status = wait_for(
        lambda: (s := read(jobs_api, created))["state"] in ("queued", "failed") and s,
        60,
        "the abandoned job to be seen",
    )
    assert status["state"] == "queued" and "worker stopped" in status["detail"], status
    assert time.monotonic() - killed_at < 2 + 15 + 10  # heartbeat + grace, and a margin for the loaded machine
    assert any(media.glob("*/input.mp4")), "the upload stays for the retry"

    second = start_worker(env, tmp_path / "worker2.log")
    try:
        done = wait_for(
            lambda: (s := read(jobs_api, created))["state"] in ("done", "failed") and s, 300, "the retried job to end"
        )
    finally:
        stop(second)
    assert done["state"] == "done", (done, (tmp_path / "worker2.log").read_text()[-3000:])
    assert "cooking" in [t["tag"] for t in done["tags"]] and done["video"]["duration_s"] > 35
    from rq.job import Job

    from api import jobs

    assert Job.fetch(created["job_id"], connection=jobs.connection()).retries_left == 1  # one retry spent
    assert not any(media.iterdir())
