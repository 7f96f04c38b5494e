"""Scoring a predictor on corpus splits: metrics and per-item predictions.

The score threshold for F1 is chosen on validation and applied unchanged to test.
"""

from __future__ import annotations

import time
from typing import Any

from tubetags.corpus import CorpusSplit
from tubetags.evaluation.prediction_log import PredictionRow, ranked, truths
from tubetags.predictor import TagPredictor
from tubetags.ranking_metrics import best_threshold, evaluate

EVAL_K = 10  # every metric up to @10 is computed from the top 10


def predict_split(predictor: TagPredictor, split: CorpusSplit, batch_size: int = 32) -> list[PredictionRow]:
    """Predictions for every item of a split (`TagPredictor.rank_split`, in the split's order), with its truth."""
    rankings = predictor.rank_split(split, EVAL_K, batch_size)
    rows = []
    for batch in split.batches(batch_size, columns=("video_id", "transcript", "tags")):
        for video_id, text, tags in zip(batch["video_id"], batch["transcript"], batch["tags"]):
            pred = next(rankings)
            rows.append(
                PredictionRow(
                    video_id=video_id,
                    words=len(text.split()),
                    tags=list(tags),
                    predicted=[(t, round(float(s), 5)) for t, s in pred],
                )
            )
    if next(rankings, None) is not None:
        raise RuntimeError(f"{type(predictor).__name__}.rank_split gave more rankings than {split.name} has items")
    return rows


def evaluate_splits(predictor: TagPredictor, valid: CorpusSplit, test: CorpusSplit) -> dict[str, Any]:
    """Metrics on validation and test (prefixed), the tuned threshold, and the test predictions."""
    started = time.perf_counter()
    valid_rows = predict_split(predictor, valid)
    test_rows = predict_split(predictor, test)
    elapsed = time.perf_counter() - started
    threshold = best_threshold(ranked(valid_rows), truths(valid_rows))
    metrics = {}
    for name, rows in (("valid", valid_rows), ("test", test_rows)):
        for key, value in evaluate(ranked(rows), truths(rows), threshold).items():
            metrics[f"{name}_{key}"] = value
    metrics["eval_seconds_per_item"] = elapsed / max(len(valid_rows) + len(test_rows), 1)
    return {"metrics": metrics, "threshold": threshold, "test_predictions": test_rows}
