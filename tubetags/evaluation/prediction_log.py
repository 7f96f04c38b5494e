"""The test-predictions artifact: one writer and one reader for `evaluation/test_predictions.jsonl`.

Each training run logs the ranked suggestions for every test item next to its true tags; the
bootstrap CIs of a deterministic strategy and the error analysis are computed from it later.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from tubetags.predictor import Ranked

ARTIFACT_DIR = "evaluation"
ARTIFACT_FILE = "test_predictions.jsonl"
ARTIFACT_PATH = f"{ARTIFACT_DIR}/{ARTIFACT_FILE}"


class PredictionRow(BaseModel):
    """One test item: its id, length, true tags and the model's ranked (tag, score) suggestions."""

    model_config = ConfigDict(frozen=True)

    video_id: str
    words: int
    tags: list[str]
    predicted: list[tuple[str, float]]


def ranked(rows: Sequence[PredictionRow]) -> list[Ranked]:
    return [list(r.predicted) for r in rows]


def truths(rows: Sequence[PredictionRow]) -> list[list[str]]:
    return [list(r.tags) for r in rows]


def write_predictions(rows: Iterable[PredictionRow], path: Path) -> Path:
    path = Path(path)
    path.write_text("".join(row.model_dump_json() + "\n" for row in rows))
    return path


def read_predictions(path: Path) -> list[PredictionRow]:
    lines = Path(path).read_text().splitlines()
    return [PredictionRow.model_validate(json.loads(line)) for line in lines if line.strip()]


def log_predictions(rows: Iterable[PredictionRow]) -> None:
    """Log the rows as the active MLflow run's predictions artifact."""
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        mlflow.log_artifact(str(write_predictions(rows, Path(tmp) / ARTIFACT_FILE)), artifact_path=ARTIFACT_DIR)


def load_predictions(run_id: str) -> list[PredictionRow]:
    """The predictions artifact of a finished run."""
    import mlflow

    return read_predictions(Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=ARTIFACT_PATH)))
