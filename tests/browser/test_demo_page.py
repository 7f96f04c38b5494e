"""The demo page in a real browser: Playwright drives /usr/bin/chromium against gunicorn on loopback.

Needs the Debian/Ubuntu package `chromium` (Playwright cannot download browsers here); skipped without it.
Set TUBETAGS_SCREENSHOT_DIR to keep the screenshots.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "code" / "webapp"))  # tiny_registry

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium missing: `apt-get install -y chromium`"),
]

TRANSCRIPT = "Today we bake bread: weigh the flour, add butter and sugar, knead the dough, into the oven. " * 15
SRT = "1\n00:00:01,000 --> 00:00:03,000\n<i>python code: a function in a loop</i>\n\n" * 20


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tiny_registry import build_registry

    from scripts.bench_api import serve

    uri = build_registry(tmp_path_factory.getbasetemp() / "webapp-registry")
    with serve(uri, workers=1) as (base, health):
        yield base


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@contextlib.contextmanager
def watched_page(browser, url: str, height: int, timeout_ms: int):
    """A page at `url` that fails the test on any JS error or console error (CSP violations among them); the
    expected 4xx answers are not page faults."""
    context = browser.new_context(viewport={"width": 1000, "height": height})
    context.set_default_timeout(timeout_ms)  # the 2 CPUs are shared; be patient, not flaky
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.goto(url)
    yield page
    context.close()
    assert not errors, errors  # no JS errors, no CSP violations


@pytest.fixture
def page(browser, server):
    with watched_page(browser, server + "/", 900, 60_000) as opened:
        yield opened


def screenshot(page, tmp_path, name):
    folder = Path(os.environ.get("TUBETAGS_SCREENSHOT_DIR", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)


def test_transcript_gives_tag_chips_and_copyable_string(page, tmp_path):
    assert page.locator("#model option").all_inner_texts() == ["production (v2, baseline)", "baseline (v1, baseline)"]
    page.fill("#transcript", TRANSCRIPT)
    page.fill("#k", "5")
    page.click("#submit")
    chips = page.locator("#chips .chip")
    chips.first.wait_for()
    assert chips.count() == 5
    assert chips.first.locator(".tag").inner_text() == "cooking"
    assert "version 2" in page.inner_text("#meta") and " ms" in page.inner_text("#meta")
    youtube = page.input_value("#youtube-tags")
    assert youtube.startswith("cooking,") and len(youtube.split(",")) == 5
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=page.url.rstrip("/"))
    page.click("#copy")
    from playwright.sync_api import expect

    expect(page.locator("#copy")).to_have_text(re.compile(r"^Copied"))  # the click handler is async
    assert page.evaluate("navigator.clipboard.readText()") == youtube
    screenshot(page, tmp_path, "demo-transcript.png")


def test_subtitle_upload_and_model_choice(page, tmp_path):
    srt = tmp_path / "talk.srt"
    srt.write_text(SRT)
    page.set_input_files("#file", str(srt))
    page.select_option("#model", "baseline")
    page.fill("#title", "Python loops for beginners")
    page.click("#submit")
    page.locator("#chips .chip").first.wait_for()
    assert page.locator("#chips .chip .tag").first.inner_text() == "python"
    assert "version 1" in page.inner_text("#meta") and "alias baseline" in page.inner_text("#meta")
    assert "language: en" in page.inner_text("#meta")
    assert page.locator("#evidence").is_hidden()
    page.locator("#chips .chip").first.click()  # evidence on demand: the passage and its time in the video
    assert "said at 0:01" in page.inner_text("#evidence-head")
    assert "python code" in page.inner_text("#evidence-passage")
    screenshot(page, tmp_path, "demo-evidence.png")


def test_the_description_and_history_boxes_are_sent_with_the_transcript(page):
    page.fill("#transcript", TRANSCRIPT)
    page.fill("#description", "Bread at home. #baking")
    page.fill("#history", "Rye bread | rye, baking\n\n  bagels , weekly bake  \nNo tags | ")
    with page.expect_request("**/api/tags") as sent:
        page.click("#submit")
    body = json.loads(sent.value.post_data or "{}")
    assert body["description"] == "Bread at home. #baking"
    assert body["channel_history"] == [
        {"title": "Rye bread", "tags": ["rye", "baking"]},
        {"title": "", "tags": ["bagels", "weekly bake"]},  # a line without "|" is tags only
        {"title": "No tags", "tags": []},
    ]
    page.locator("#chips .chip").first.wait_for()  # the server took it
    assert page.locator("#chips .chip .tag").first.inner_text() == "cooking"


def test_errors_are_shown(page):
    page.click("#submit")  # nothing entered: caught in the page
    assert "Paste a transcript" in page.inner_text("#error")
    page.fill("#transcript", TRANSCRIPT)
    page.fill("#k", "99")  # the API's message is shown
    page.click("#submit")
    from playwright.sync_api import expect

    # Not wait_for_function: #error is still visible from the first click, and when the answer comes later its
    # polling evaluates the string with eval(), which the page's CSP refuses (a flaky "EvalError").
    expect(page.locator("#error")).to_contain_text("k:", timeout=60_000)
    assert page.locator("#result").is_hidden()


def test_output_is_escaped(page):
    """A hostile tag from the server must show up as text, never as markup."""
    evil = '<img src=x onerror="window.pwned=1">'
    fake = {
        "tags": [{"tag": evil, "score": 0.9}],
        "youtube_tags": evil,
        "model": {"name": "<b>x</b>", "version": "1", "alias": "production", "strategy": "<i>s</i>"},
        "elapsed_ms": 1.0,
    }
    page.route(
        "**/api/tags", lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(fake))
    )
    page.fill("#transcript", TRANSCRIPT)
    page.click("#submit")
    page.locator("#chips .chip").first.wait_for()
    assert page.locator("#chips .chip .tag").first.inner_text() == evil
    assert page.locator("#chips img, #meta b, #meta i").count() == 0
    assert page.evaluate("window.pwned") is None
