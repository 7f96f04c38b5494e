"""What the video-job tests share: a private redis-server, espeak-ng speech muxed into an mp4, a worker process.

Used by tests/code/webapp/test_webapp_jobs*.py and tests/browser/test_demo_page.py.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/code: recorded_youtube

from recorded_youtube import FakeTranscriptApi, RecordedOembed  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
WEBAPP = REPO / "webapp"
COOKING = (
    "Today we bake bread in the kitchen. Mix the flour, the sugar and the butter into a dough, add a little salt, "
    "and bake it in the oven until the crust is golden. Cooking it takes one hour."
)


def missing_tools() -> list[str]:
    return [tool for tool in ("redis-server", "espeak-ng", "ffmpeg", "ffprobe") if not shutil.which(tool)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check: Callable[[], Any], timeout_s: float, what: str, every_s: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(every_s)


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A throw-away redis-server on a free loopback port (no persistence); yields its URL."""
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def answers() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    try:
        wait_for(answers, 10, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def speech_audio(folder: Path, text: str = COOKING, name: str = "speech.wav") -> Path:
    path = folder / name
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(path), text], check=True)
    return path


def speech_video(folder: Path, text: str = COOKING, name: str = "speech.mp4", repeat: int = 1) -> Path:
    """espeak-ng speech (the text `repeat` times) muxed with a black picture into an H.264/AAC mp4."""
    audio = speech_audio(folder, " ".join([text] * repeat), name + ".wav")
    path = folder / name
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=black:s=160x120:r=5", "-i", str(audio)]
        + ["-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "48k", str(path)],
        check=True,
    )
    audio.unlink()
    return path


# ---- fixtures (imported by the test modules that use them)


@pytest.fixture(scope="module")
def redis_url():
    with redis_server() as url:
        yield url


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    return {"mp4": speech_video(folder), "wav": speech_audio(folder)}


@pytest.fixture
def jobs_api(api, settings, redis_url, tmp_path, monkeypatch):
    """The API's test client with the job queue in a clean private Redis, uploads under tmp_path, recorded YouTube."""
    import redis

    from api import jobs
    from pipelines import captions, youtube_links

    settings.TUBETAGS_JOBS_REDIS_URL = redis_url
    settings.TUBETAGS_MEDIA_DIR = str(tmp_path / "media")
    settings.TUBETAGS_JOBS_MAX_QUEUED = 1000  # generated requests may queue many; one test sets a small limit
    jobs.connection.cache_clear()
    redis.Redis.from_url(redis_url).flushdb()
    oembed = RecordedOembed({"aX3kT9pLq2E": (200, "oembed_aX3kT9pLq2E.json"), "Wh1sper0nly": (401, "oembed_401.txt")})
    monkeypatch.setattr(youtube_links, "http_session", oembed)
    monkeypatch.setattr(captions, "YouTubeTranscriptApi", FakeTranscriptApi)
    monkeypatch.setattr(FakeTranscriptApi, "tracks", {"aX3kT9pLq2E": [("en", False, COOKING)]})
    yield api
    jobs.connection.cache_clear()


def worker_env(redis_url: str, registry_uri: str, media_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_DEBUG": "1",
        "TUBETAGS_JOBS_REDIS_URL": redis_url,
        "MLFLOW_TRACKING_URI": registry_uri,
        "TUBETAGS_MEDIA_DIR": str(media_dir),
        "TUBETAGS_MONITOR_DIR": str(media_dir.parent / "monitoring"),
        "TUBETAGS_PREDICTION_CACHE_TTL_S": "0",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        **extra,
    }


def start_worker(env: dict[str, str], log: Path, *extra_args: str) -> subprocess.Popen:
    """`manage.py rqworker` with the video worker class, in its own process group (so a test can kill it all)."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "manage.py", "rqworker", "--worker-class", "api.jobs_worker.VideoWorker", *extra_args]
            + ["videos"],
            cwd=WEBAPP,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop a process started with start_new_session, and its children (the scheduler), if still running."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
