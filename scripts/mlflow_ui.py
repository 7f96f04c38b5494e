r"""The MLflow UI as a newcomer uses it: `mlflow ui` on a store, the experiment's training runs, and the strategies
compared in three clicks (Group by > strategy, chart view, search `^test_p_at_\d+$`), saved as a screenshot.

    python scripts/mlflow_ui.py [--experiment tubetags] [--out docs/images/mlflow-ui-strategies.png]

Serves the project's store (MLFLOW_TRACKING_URI, default mlruns/mlflow.db) on a free loopback port with its own
`mlflow ui`, stopped at the end. Needs /usr/bin/chromium (Debian package `chromium`: Playwright cannot download
browsers here). The browser test (tests/browser/test_mlflow_ui.py) makes the same clicks through these functions.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scripts.bench_api import HOST, free_port, stop_group  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
HEADLINE = "test_p_at_5"
CHART_SEARCH = r"^test_p_at_\d+$"  # P@1, P@3, P@5, P@10; not their CIs, nor the parent's per-strategy summary
MAX_PNG_BYTES = 300_000


@contextlib.contextmanager
def serve(tracking_uri: str, startup_timeout: float = 300) -> Iterator[str]:
    """`mlflow ui` (one worker, no GenAI job runner) on `tracking_uri` and a free port; yields its base URL and
    stops it, with every process it started, on the way out (also on failure)."""
    port = free_port()
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "MLFLOW_DISABLE_TELEMETRY": "true"}
    log = tempfile.NamedTemporaryFile("w+", prefix="mlflow-ui-", suffix=".log", delete=False)  # noqa: SIM115
    command = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", tracking_uri]
    proc = subprocess.Popen(
        [*command, "--host", HOST, "--port", str(port), "--workers", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: uvicorn and its worker stop with it
    )
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"mlflow ui exited with {proc.returncode}; log:\n{Path(log.name).read_text()[-3000:]}"
                )
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=10) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"mlflow ui did not answer within {startup_timeout} s; log in {log.name}"
                    ) from None
                time.sleep(1)
        yield base
    finally:
        stop_group(proc)
        log.close()
        Path(log.name).unlink()


def open_training_runs(page, base: str, experiment: str) -> None:
    """Open the link `make ui` prints (the runs table, model-training workflow) and wait for the runs."""
    from tubetags import tracking

    page.goto(tracking.runs_page_url(base, experiment))
    page.get_by_text("matching runs").wait_for()
    close = page.get_by_role("button", name="Close")  # the assistant panel, open on a first visit
    if close.count():
        close.first.click()


def group_by_strategy(page) -> None:
    """Click 1: Group by > strategy (the runs' tag): one row per strategy, its seeds averaged, under it."""
    page.get_by_role("button", name="Group by").click()
    page.get_by_role("menu").get_by_text("strategy", exact=True).first.click()
    page.keyboard.press("Escape")
    page.get_by_text("Group: ", exact=False).first.wait_for()


def show_metric_column(page, metric: str = HEADLINE) -> None:
    """In the table: Columns > the metric (MLflow shows no metric column until one is chosen)."""
    page.get_by_test_id("column-selection-dropdown").first.click()
    page.get_by_role("dialog").get_by_text(metric, exact=True).click()
    page.keyboard.press("Escape")


def chart_view(page, search: str = CHART_SEARCH) -> None:
    """Click 2: chart view; click 3: search the charts (a regular expression) for the test precisions, one bar per
    strategy (the mean of its seeds)."""
    page.locator("label:has(input[value=CHART])").click()
    page.get_by_placeholder("Search metric charts").fill(search)
    page.get_by_text(HEADLINE, exact=True).first.wait_for()


def screenshot_png(page, path: Path, max_bytes: int = MAX_PNG_BYTES) -> int:
    """Save the page as a PNG of at most `max_bytes` (palette-quantised with Pillow); returns its size."""
    from PIL import Image

    image = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    for colours in (256, 128, 64, 32):
        out = io.BytesIO()
        image.quantize(colors=colours, method=Image.Quantize.MEDIANCUT).save(out, "PNG", optimize=True)
        if out.tell() <= max_bytes:
            break
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())
    return out.tell()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiment", default="tubetags")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images" / "mlflow-ui-strategies.png")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from tubetags import settings, tracking

    tracking.configure()
    with serve(settings.tracking_uri()) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.set_default_timeout(120_000)
        open_training_runs(page, base, args.experiment)
        group_by_strategy(page)
        chart_view(page)
        time.sleep(2)  # the charts animate in
        size = screenshot_png(page, args.out)
        browser.close()
    print(f"{args.out}: {size / 1000:.0f} kB")


if __name__ == "__main__":
    main()
