"""bench_inference: what one registered model costs to serve, measured in this (fresh) process.

    python -m scripts.bench_inference --model-uri models:/tubetags/3 [--latency-runs 10] [--batch-size 32]

Prints one JSON line: artifact size, RSS before/after load, load time, single-transcript latency
p50/p95 (~2,000 words, after warm-up calls) and batch throughput. The model is loaded exactly as a
gunicorn worker loads it (tubetags.registry.load_served_model). Run one process per model
(compare does) so that one model's imports don't count against another.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-uri", required=True)
    parser.add_argument("--tracking-uri", default=None, help="default: the project's store (tubetags.settings)")
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--latency-runs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--batch-runs", type=int, default=2)
    args = parser.parse_args(argv)
    import mlflow

    from tubetags import settings
    from tubetags.evaluation.costs import measure_inference

    uri = args.tracking_uri or settings.tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    result = measure_inference(
        args.model_uri, args.corpus, args.warmup, args.latency_runs, args.batch_size, args.batch_runs
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
