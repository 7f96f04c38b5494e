"""evaluate: a predictor on a corpus split -> metrics and per-item predictions.

The score threshold for F1 is chosen on validation and applied unchanged to test.
"""

from __future__ import annotations

import time
from typing import Any

from tubetags.corpus import CorpusSplit
from tubetags.metrics import best_threshold, evaluate
from tubetags.predictor import TagPredictor

EVAL_K = 10  # every metric up to @10 is computed from the top 10


def predict_split(predictor: TagPredictor, split: CorpusSplit, batch_size: int = 32) -> list[dict[str, Any]]:
    """Predictions for every item of a split, streamed in batches, with the item's truth."""
    rows = []
    for batch in split.batches(batch_size, columns=("video_id", "transcript", "tags")):
        ranked = predictor.predict(batch["transcript"], EVAL_K)
        for video_id, text, tags, pred in zip(batch["video_id"], batch["transcript"], batch["tags"], ranked):
            rows.append({"video_id": video_id, "words": len(text.split()), "tags": list(tags),
                         "predicted": [[t, round(float(s), 5)] for t, s in pred]})
    return rows


def evaluate_splits(predictor: TagPredictor, valid: CorpusSplit, test: CorpusSplit) -> dict[str, Any]:
    """Metrics on validation and test (prefixed), the tuned threshold, and test predictions."""
    started = time.perf_counter()
    valid_rows = predict_split(predictor, valid)
    test_rows = predict_split(predictor, test)
    elapsed = time.perf_counter() - started
    as_ranked = lambda rows: [[(t, s) for t, s in r["predicted"]] for r in rows]  # noqa: E731
    threshold = best_threshold(as_ranked(valid_rows), [r["tags"] for r in valid_rows])
    metrics = {}
    for name, rows in (("valid", valid_rows), ("test", test_rows)):
        for key, value in evaluate(as_ranked(rows), [r["tags"] for r in rows], threshold).items():
            metrics[f"{name}_{key}"] = value
    metrics["eval_seconds_per_item"] = elapsed / max(len(valid_rows) + len(test_rows), 1)
    return {"metrics": metrics, "threshold": threshold, "test_predictions": test_rows}
