"""Evaluation as a library: scoring runs, the predictions artifact, CIs, error analysis, costs, promotion.

Modules (each usable on its own; only `compare` talks to MLflow and the registry):
- `scoring`: a predictor on the valid/test splits -> metrics and per-item predictions;
- `predictions`: the typed `evaluation/test_predictions.jsonl` artifact (one writer, one reader);
- `intervals`: t and bootstrap CIs, the per-strategy summary;
- `errors`: error analysis of one system's predictions;
- `costs`: serving cost of a registered model, VM choice;
- `promotion`: the rule that picks `production`;
- `reports`: Markdown and the chart;
- `compare`: the whole comparison (`scripts/compare.py` is its command line).
"""
