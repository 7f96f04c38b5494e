"""The demo page's video panel in a real browser: Playwright drives /usr/bin/chromium against gunicorn, a private
redis-server and a real worker process (`manage.py rqworker`, Whisper base). A dropped mp4 of espeak-ng speech goes
up, the progress bar moves through the job's states, the tags appear with evidence times that seek the video, and
the tag list can be edited with the 500-character meter following.

Set TUBETAGS_SCREENSHOT_DIR to keep the screenshots (docs/images/video-job.png is the one taken mid-transcription).
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import pytest
from test_demo_page import CHROMIUM, REPO, browser, watched_page  # noqa: F401  (the browser fixture)

from tubetags.tags import youtube_tag_length

sys.path.insert(0, str(REPO / "tests" / "code" / "webapp"))  # tiny_registry, jobs_support

from jobs_support import COOKING, missing_tools, redis_server, speech_video, start_worker, stop, worker_env  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium missing: `apt-get install -y chromium`"),
    pytest.mark.skipif(bool(missing_tools()), reason=f"needs {', '.join(missing_tools())}"),
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """gunicorn + a private Redis + one video worker, sharing an uploads folder."""
    from tiny_registry import build_registry

    from scripts.bench_api import serve

    uri = build_registry(tmp_path_factory.getbasetemp() / "webapp-registry")
    scratch = tmp_path_factory.mktemp("video-stack")
    media = scratch / "media"
    with redis_server() as redis_url:
        worker = start_worker(worker_env(redis_url, uri, media), scratch / "worker.log")
        try:
            jobs_env = {"TUBETAGS_JOBS_REDIS_URL": redis_url, "TUBETAGS_MEDIA_DIR": str(media)}
            with serve(uri, workers=1, **jobs_env) as (base, _health):
                yield base, scratch
        finally:
            stop(worker)


@pytest.fixture
def page(browser, stack):  # noqa: F811
    base, _ = stack
    with watched_page(browser, base + "/", 1100, 120_000) as opened:
        yield opened


def screenshot_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("TUBETAGS_SCREENSHOT_DIR", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_a_dropped_video_moves_the_bar_then_gives_editable_tags(page, stack, tmp_path):
    _, scratch = stack
    video = speech_video(tmp_path, COOKING, "bread.mp4", repeat=6)  # ~80 s of speech: three 30-s Whisper windows
    page.fill("#title", "Bread at home")
    page.set_input_files("#video-file", str(video))
    seen: list[tuple[str, float]] = []
    shot = None
    deadline = time.monotonic() + 300
    while not page.locator("#chips .chip").count():
        state = page.get_attribute("#job-state", "data-state") or ""
        value = float(page.eval_on_selector("#job-progress", "p => p.value"))
        if not seen or seen[-1] != (state, value):
            seen.append((state, value))
        if state == "transcribing" and value > 0.1 and shot is None:
            shot = screenshot_dir(tmp_path) / "video-job.png"
            page.screenshot(path=str(shot), full_page=True)
        assert state != "failed" and page.locator("#error").is_hidden(), page.inner_text("#error")
        assert time.monotonic() < deadline, (seen, (scratch / "worker.log").read_text()[-2000:])
        time.sleep(0.1)
    # the chips and the last state come from the same poll: record where the job ended, too
    seen.append((page.get_attribute("#job-state", "data-state") or "", 1.0))

    states = [state for state, _ in seen]
    assert "transcribing" in states and states[-1] in ("tagging", "done"), seen  # (queued: an idle worker is quick)
    job_progress = [value for state, value in seen if state not in ("uploading", "")]
    assert job_progress == sorted(job_progress) and len(set(job_progress)) >= 3, seen  # the bar moves, forward
    assert "about" in page.inner_text("#job-state") or states[-1] in ("tagging", "done")
    assert shot is not None and shot.stat().st_size < 300_000

    # The tags, with evidence times that seek the uploaded video.
    assert page.locator("#chips .chip .tag").first.inner_text() == "cooking"
    assert "Transcript: whisper, en" in page.inner_text("#meta")
    page.locator("#chips .chip").first.click()  # "cooking" is said near the end of each repeat
    assert "said at" in page.inner_text("#evidence-head") and "Cooking" in page.inner_text("#evidence-passage")
    page.locator("#evidence-head button").click()
    assert page.locator("#video-preview").is_visible()
    page.wait_for_function("document.getElementById('video-preview').currentTime > 0")

    # Editing: remove a tag, add one; the meter and the copyable string follow (counted by the server's rules).
    from playwright.sync_api import expect

    expect(page.locator("#meter-text")).to_contain_text("/ 500 characters")
    before = page.input_value("#youtube-tags")
    assert before.startswith("cooking,")
    page.locator("#chips .chip").first.locator(".remove").click()
    expect(page.locator("#youtube-tags")).not_to_have_value(before)
    assert not page.input_value("#youtube-tags").startswith("cooking")
    page.fill("#own-tag", "Sourdough Starter")
    page.click("#add-tag")
    expect(page.locator("#youtube-tags")).to_have_value(re.compile(r",Sourdough Starter$"))
    length = youtube_tag_length(page.input_value("#youtube-tags").split(","))  # with the quotes YouTube counts
    expect(page.locator("#meter-text")).to_contain_text(f"{length} / 500 characters")
    page.screenshot(path=str(screenshot_dir(tmp_path) / "video-tags.png"), full_page=True)


def test_a_link_that_is_not_youtube_is_refused_on_the_page(page):
    page.fill("#video-url", "https://vimeo.com/76979871")
    page.click("#video-submit")
    from playwright.sync_api import expect

    expect(page.locator("#error")).to_contain_text("Only YouTube links")
    assert page.locator("#job").is_hidden()
