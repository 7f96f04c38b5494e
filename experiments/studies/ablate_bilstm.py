"""Ablation of the from-scratch BiLSTM: which ingredient gets it off the tag prior?

Trains the full `bilstm` configuration (configs/strategies/bilstm.yaml `params`) and then each
variant with one ingredient removed, all with the same seed, on the TED splits; prints a table
(variant, test P@5, valid P@5, best epoch, epochs run, fit wall and CPU seconds) and logs each run to MLflow
under the experiment `tubetags-bilstm-ablation`.

    python -m experiments.studies.ablate_bilstm                       # all variants, seed 0
    python -m experiments.studies.ablate_bilstm --variants full,no_prior_bias --params "epochs=10"
"""

from __future__ import annotations

import argparse
import os
import time

import yaml

from tubetags import settings
from tubetags.config import STRATEGY_CONFIG_DIR

# variant -> (what is removed, parameter overrides over the full configuration)
VARIANTS: dict[str, tuple[str, dict]] = {
    "full": ("nothing: all ingredients", {}),
    "first_256_tokens": ("whole transcript -> first 256 tokens (8 windows of 32), as before", {"windows": 8}),
    "no_prior_bias": ("output bias at the tags' log prior odds -> zeros", {"prior_bias": False}),
    "focal_loss": ("binary cross-entropy -> focal loss (gamma 2)", {"loss": "focal"}),
    "constant_lr": ("warm-up + cosine decay -> constant learning rate", {"lr_schedule": "constant"}),
    "stop_on_val_loss": ("early stopping on validation P@5 -> on validation loss", {"stop_on": "loss"}),
    "no_batch_norm": ("batch normalisation of the window vectors -> none", {"normalize": False}),
    "keep_frequent_words": ("the 100 most frequent words dropped -> kept", {"drop_frequent": 0}),
    "no_bag_skip": ("mean/max-of-windows path next to the attention -> BiLSTM + attention only", {"bag_skip": False}),
}


def _value(text: str):
    return yaml.safe_load(text)


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated, from: " + ", ".join(VARIANTS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--params", default="", help="KEY=VALUE overrides applied to every variant")
    parser.add_argument("--corpus", default=None)
    args = parser.parse_args(argv)

    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow

    from tubetags import tracking
    from tubetags.corpus import Corpus
    from tubetags.evaluation.scoring import evaluate_splits
    from tubetags.strategies.bilstm import BiLSTMTagger

    config = yaml.safe_load((STRATEGY_CONFIG_DIR / "bilstm.yaml").read_text())
    common = {**config["params"], **{k: _value(v) for k, v in (p.split("=", 1) for p in args.params.split())}}
    tracking.configure("tubetags-bilstm-ablation")
    corpus = Corpus.open(args.corpus or settings.corpus_dir())
    dataset = config.get("dataset", "ted")
    vocabulary = corpus.vocabulary(dataset)
    train, valid, test = (corpus.split(dataset, s) for s in ("train", "valid", "test"))
    rows = []
    for name in args.variants.split(","):
        removed, overrides = VARIANTS[name]
        params = {**common, **overrides, "seed": args.seed}
        predictor = BiLSTMTagger(**params)
        with mlflow.start_run(
            run_name=f"ablation-{name}-seed{args.seed}",
            tags={"strategy": "bilstm", "variant": name, "removed": removed},
        ):
            mlflow.log_params({"variant": name, **{f"model.{k}": v for k, v in predictor.params().items()}})
            started, cpu_started = time.perf_counter(), time.process_time()
            history = predictor.fit(train, valid, vocabulary)
            # CPU seconds (all threads) tell the cost on a shared machine, where wall time depends on the neighbours.
            fit_seconds, fit_cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
            for curve, values in history.items():
                for step, value in enumerate(values):
                    mlflow.log_metric(f"curve_{curve}", float(value), step=step)
            metrics = evaluate_splits(predictor, valid, test)["metrics"]
            epochs_run = len(next(iter(history.values()), []))
            mlflow.log_metrics(
                {**metrics, "fit_seconds": fit_seconds, "fit_cpu_seconds": fit_cpu_seconds, "epochs_run": epochs_run}
            )
        row = {
            "variant": name,
            "removed": removed,
            "test_p_at_5": metrics["test_p_at_5"],
            "valid_p_at_5": metrics["valid_p_at_5"],
            "best_epoch": predictor.best_epoch,
            "epochs_run": epochs_run,
            "fit_seconds": fit_seconds,
            "fit_cpu_seconds": fit_cpu_seconds,
        }
        rows.append(row)
        print(
            f"{name}: test P@5 {row['test_p_at_5']:.3f}, valid P@5 {row['valid_p_at_5']:.3f}, "
            f"{fit_seconds:.0f} s ({fit_cpu_seconds:.0f} CPU s)",
            flush=True,
        )
    print("\n| variant | removed | test P@5 | valid P@5 | best epoch | epochs run | fit seconds | fit CPU seconds |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        best = "" if r["best_epoch"] is None else r["best_epoch"] + 1
        print(
            f"| {r['variant']} | {r['removed']} | {r['test_p_at_5']:.3f} | {r['valid_p_at_5']:.3f} | {best} | "
            f"{r['epochs_run']} | {r['fit_seconds']:.0f} | {r['fit_cpu_seconds']:.0f} |"
        )
    return rows


if __name__ == "__main__":
    main()
