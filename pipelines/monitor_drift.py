"""monitor: drift of served requests against what the model was validated on.

    tubetags monitor [--days 7] [--files a.jsonl b.jsonl] [--fail-on-alarm true]
    mlflow run . -e monitor --env-manager local

Reads the privacy-safe request summaries the web app writes (TUBETAGS_MONITOR_DIR, default
data/monitoring/requests-YYYYMMDD.jsonl), compares the window with the reference profile
(data/monitoring/reference.json; built on first use from the corpus's held-out transcripts and the
production model's suggestions for them) and writes drift.md / drift.json to --out. PSI per feature;
an alarm at PSI >= 0.25 (tubetags.drift). With --fail-on-alarm true the exit status is 3 on an alarm,
for a cron job or CI to act on.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from tubetags import drift, registry, settings
from tubetags.config import JobConfig, comma_list
from tubetags.jobs import Job

log = logging.getLogger(__name__)
EXIT_ALARM = 3


monitor_dir = drift.monitor_dir  # the app writes there: one default for writer and reader


class MonitorConfig(JobConfig):
    job = "monitor"

    days: int = Field(7, ge=1, description="window: the last N days of request files")
    files: list[Path] = Field(default_factory=list, description="explicit request files (instead of --days)")
    reference: Path | None = Field(None, description="reference profile (default: <monitor dir>/reference.json)")
    rebuild_reference: bool = Field(False, description="rebuild the reference profile from the corpus")
    model_alias: str = Field(registry.PRODUCTION, description="model whose suggestions make the reference")
    corpus: Path | None = Field(None, description="corpus folder (default: data/corpus)")
    out: Path = Field(Path("reports/monitoring"), description="folder for drift.md and drift.json")
    fail_on_alarm: bool = Field(False, description=f"exit with status {EXIT_ALARM} on an alarm")
    track: bool = Field(True, description="log the report as an MLflow run")

    @field_validator("files", mode="before")
    @classmethod
    def split_commas(cls, value: Any) -> Any:
        return comma_list(value)


def window_files(config: MonitorConfig, today: dt.date | None = None) -> list[Path]:
    if config.files:
        return list(config.files)
    today = today or dt.datetime.now(dt.UTC).date()
    days = {(today - dt.timedelta(days=n)).strftime("%Y%m%d") for n in range(config.days)}
    return sorted(p for p in monitor_dir().glob("requests-*.jsonl") if p.stem.removeprefix("requests-") in days)


def build_reference(corpus_dir: Path | None, model_alias: str) -> drift.ReferenceProfile:
    """Held-out transcripts of every dataset, with the served model's suggestions for them."""
    from tubetags.corpus import Corpus

    corpus = Corpus.open(corpus_dir or settings.corpus_dir())
    model = registry.load_served_model(registry.model_uri(model_alias))
    rows = [
        r
        for dataset in corpus.manifest["datasets"]
        for split in ("valid", "test")
        for r in corpus.split(dataset, split).records(columns=("transcript", "language"))
    ]
    texts = [r["transcript"] for r in rows]
    ranked = [pred for start in range(0, len(texts), 64) for pred in model.predict(texts[start : start + 64], k=10)]
    # The app measures OOV with the served model's vocabulary: so does the reference.
    return drift.build_reference(
        texts,
        [r["language"] or "und" for r in rows],
        ranked,
        model.oov_share,
        source=f"{corpus.root} valid+test, {model.uri}",
    )


def run(config: MonitorConfig) -> dict[str, Any]:
    path = config.reference or monitor_dir() / "reference.json"
    if config.rebuild_reference or not path.exists():
        log.info("building the reference profile from the corpus (%s)", path)
        reference = build_reference(config.corpus, config.model_alias)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(reference.model_dump_json())
    reference = drift.ReferenceProfile.model_validate_json(path.read_text())
    files = window_files(config)
    window = drift.read_summaries(files)
    label = ", ".join(p.name for p in files) or "no request files"
    result = drift.drift(reference, window)
    config.out.mkdir(parents=True, exist_ok=True)
    (config.out / "drift.md").write_text(drift.report_markdown(result, reference, label))
    (config.out / "drift.json").write_text(json.dumps(result, indent=1))
    if config.track:
        import mlflow

        from tubetags import tracking

        tracking.configure("tubetags-monitor")
        with mlflow.start_run(run_name="monitor"):
            mlflow.log_metrics(
                {
                    "requests": result["requests"],
                    "max_psi": result["max_psi"],
                    **{f"psi_{f}": s["psi"] for f, s in result["features"].items()},
                }
            )
            mlflow.set_tag("drift_alarm", str(result["alarm"]).lower())
            mlflow.log_artifacts(str(config.out), artifact_path="monitoring")
    return result


def report(config: MonitorConfig, result: dict[str, Any]) -> list[str]:
    lines = [(config.out / "drift.md").read_text()]
    if result["requests"] == 0:
        lines.append("No requests in the window: nothing to compare (is TUBETAGS_MONITOR_DIR right?).")
    return lines


JOB = Job(
    "monitor",
    MonitorConfig,
    run,
    report=report,
    exit_code=lambda config, result: EXIT_ALARM if result["alarm"] and config.fail_on_alarm else 0,
    summary="drift of the served requests against what the model was validated on (PSI)",
)
