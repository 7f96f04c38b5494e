"""The MLflow UI as a newcomer meets it after `make experiment`: Playwright drives /usr/bin/chromium against
`mlflow ui` serving a small experiment made here (two seeds of the baseline on a synthetic corpus).

Needs the Debian/Ubuntu package `chromium` (Playwright cannot download browsers here); skipped without it.
Set TUBETAGS_SCREENSHOT_DIR to keep the screenshots.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "code" / "webapp"))  # tiny_registry: synthetic videos, as a corpus

from scripts import mlflow_ui  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not mlflow_ui.CHROMIUM.exists(), reason="/usr/bin/chromium missing: `apt-get install -y chromium`"
    ),
]
EXPERIMENT = "tubetags"


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    """`make experiment` in small: the experiment job, 2 seeds of the baseline (quick), in a private store."""
    import mlflow
    from tiny_registry import write_corpus

    from experiments.experiment import ExperimentConfig, run_experiment
    from tubetags.corpus import Corpus

    root = tmp_path_factory.mktemp("mlflow-ui")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MLFLOW_TRACKING_URI", uri)
        env.setenv("MLFLOW_EXPERIMENT_NAME", EXPERIMENT)
        env.setenv("TUBETAGS_WORK_DIR", str(root / "work"))
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        mlflow.create_experiment(EXPERIMENT, artifact_location=(root / "artifacts").as_uri())  # not the repo's mlruns/
        corpus = Corpus.open(write_corpus(root / "corpus"))
        out = run_experiment(
            ExperimentConfig.load({"seeds": 2, "strategies": "baseline", "quick": True, "corpus": corpus.root})
        )
    return {"uri": uri, "corpus": corpus, "runs": out["results"]["baseline"]}


@pytest.fixture(scope="module")
def ui(experiment):
    with mlflow_ui.serve(experiment["uri"]) as base:
        yield base


@pytest.fixture
def page(ui):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(mlflow_ui.CHROMIUM), args=mlflow_ui.CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900})  # a first visit: nothing remembered
        context.set_default_timeout(120_000)  # the 2 CPUs are shared; be patient, not flaky
        page = context.new_page()
        yield page
        browser.close()


def screenshot(page, tmp_path, name):
    folder = Path(os.environ.get("TUBETAGS_SCREENSHOT_DIR", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)


def test_the_experiment_opens_on_its_training_runs_with_their_data_and_p_at_5(page, ui, experiment, tmp_path):
    mlflow_ui.open_training_runs(page, ui, EXPERIMENT)
    assert page.get_by_role("heading", name="Runs").is_visible()  # not the GenAI overview
    assert page.get_by_text("No data available").count() == 0
    mlflow_ui.group_by_strategy(page)
    mlflow_ui.show_metric_column(page)
    from tubetags.tracking import DIGEST_CHARS

    digest = experiment["corpus"].split_digest("ted", "train")[:DIGEST_CHARS]
    for seed, run in enumerate(experiment["runs"]):
        # The table draws a run's row in parts (pinned name column, the rest) that share the run's row id.
        row = page.locator(f'[role=row][row-id$="{run["run_id"]}"]')
        row.first.wait_for()
        text = " | ".join(row.all_inner_texts())
        assert f"baseline-seed{seed}" in text
        assert f"ted-train ({digest})" in text  # the Dataset column: which split, which corpus build
        shown = [float(x) for x in re.findall(r"\d+\.\d+", text)]
        assert any(abs(x - run["metrics"]["test_p_at_5"]) < 1e-4 for x in shown), (text, run["metrics"]["test_p_at_5"])
    screenshot(page, tmp_path, "mlflow-ui-runs.png")

    mlflow_ui.chart_view(page)
    assert page.get_by_text("Group: baseline").first.is_visible()
    screenshot(page, tmp_path, "mlflow-ui-chart.png")


def test_a_registered_version_says_what_it_is_with_its_run_link(page, ui, experiment):
    run = experiment["runs"][0]
    page.goto(f"{ui}/#/models/tubetags/versions/{run['version']}?workflowType=machine_learning")
    description = page.get_by_test_id("note-editor-preview-content")  # the description, as Markdown rendered
    link = description.get_by_role("link", name="baseline-seed0")
    link.wait_for()
    assert (
        f"baseline, seed 0, trained on train: test P@5 {run['metrics']['test_p_at_5']:.3f}." in description.inner_text()
    )
    assert link.get_attribute("href").endswith(f"/runs/{run['run_id']}")
