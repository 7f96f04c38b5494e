"""Spark benchmark: the corpus build and batch tagging, one process vs Spark local[2].

1. build: the source files repeated `--scale` times (each copy with its own ids and its transcript's words shuffled,
   so that copies are not near-duplicates of each other; `--exact-copies` keeps them; 64 by default), built by the
   local engine and by `--engine spark --master local[2]`, each in a fresh process;
2. tagging: `--transcripts` corpus transcripts (repeated to that many) tagged by one process calling the pyfunc's
   `predict` in batches, and by the batch_tag job (`spark_udf`, local[2]), each in a fresh process.

Every run's rows/s, CPU seconds and peak RSS (the whole process tree, sampled: Spark's JVM and Python workers count;
RSS is summed per process, so pages the forked Python workers share count once per worker) are printed, then the
ratios spark / local. On a loaded machine wall time stretches; CPU seconds (rows per CPU second: the per-core rate)
do not, much. Needs a registered model (`--model-uri`, default production) and the corpus.

    python scripts/bench_spark.py [--scale 64] [--transcripts 20000] [--model-uri models:/tubetags@production]
    python scripts/bench_spark.py --skip-build   (only the tagging half)

Last line: build_rows_per_s_ratio=<spark/local> build_rss_ratio=<...> build_cpu_ratio=<...> tag_rows_per_s_ratio=<...>
tag_rss_ratio=<...> tag_cpu_ratio=<...>
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tubetags import settings  # noqa: E402


def measured(command: list[str], env: dict[str, str] | None = None, memory_gb: float = 0) -> dict[str, Any]:
    """Run `command` in a fresh process; wall seconds and peak RSS (MB) of its whole process tree. With `memory_gb`
    the process's address space is capped there: a run that needs more fails (`failed`) instead of the machine."""

    def cap() -> None:
        if memory_gb:
            limit = int(memory_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, preexec_fn=cap
    )
    parent, peak = psutil.Process(process.pid), 0
    cpu: dict[int, float] = {}  # pid -> its CPU seconds (user + system) when last seen
    while process.poll() is None:
        try:
            tree = [parent, *parent.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            for p in tree:
                times = p.cpu_times()
                cpu[p.pid] = max(cpu.get(p.pid, 0.0), times.user + times.system)
        except psutil.Error:
            pass
        time.sleep(0.2)
    output = process.stdout.read().decode() if process.stdout else ""
    result = {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": sum(cpu.values()),  # of the tree, sampled: a loaded machine stretches wall time, not this
        "peak_rss_mb": peak / 2**20,
        "output": output,
    }
    if process.returncode:
        if not memory_gb:
            raise SystemExit(f"{' '.join(command)} failed ({process.returncode})")
        result["failed"] = f"exit {process.returncode} within {memory_gb:g} GB of address space"
    return result


def shuffled_words(text: str, seed: int) -> str:
    words = text.split()
    random.Random(seed).shuffle(words)
    return " ".join(words)


def repeated_sources(target: Path, scale: int, exact: bool = False) -> tuple[Path, int]:
    """The two source files with every row repeated `scale` times, each copy with its own video id and (unless
    `exact`) its transcript's words shuffled: the same words, lengths, languages and tags, but not a near-duplicate
    of the original. Exact copies make every rare shingle shared by `scale` transcripts, so the leakage check's
    candidate pairs grow with the square of the scale, as no corpus of distinct videos does."""
    target.mkdir(parents=True, exist_ok=True)
    rows = 0
    for name, id_column in (("ted", "talk_id"), ("youtube", "video_id")):
        source = pd.read_csv(settings.require_source_file(name), dtype=str, keep_default_na=False)
        copies = []
        for n in range(scale):
            copy = source.copy()
            copy[id_column] = copy[id_column] + (f"-r{n}" if n else "")
            if n and not exact:
                copy["transcript"] = [shuffled_words(t, n * len(copy) + i) for i, t in enumerate(copy["transcript"])]
            copies.append(copy)
        frame = pd.concat(copies, ignore_index=True)
        rows += len(frame)
        with gzip.open(target / settings.SOURCE_FILES[name], "wt", compresslevel=1) as handle:
            frame.to_csv(handle, index=False)
    return target, rows


def bench_build(scale: int, work: Path, local_memory_gb: float, exact: bool = False) -> dict[str, dict[str, Any]]:
    data, rows = repeated_sources(work / f"sources-{scale}x", scale, exact)
    env = {"TUBETAGS_DATA_DIR": str(data), "TUBETAGS_WORK_DIR": str(work / "work")}  # no collected/ videos
    out = {}
    for engine, extra in (("local", []), ("spark", ["--master", "local[2]"])):
        command = [sys.executable, "-m", "tubetags", "build-corpus", "--engine", engine, *extra]
        command += ["--output", str(work / f"corpus-{engine}"), "--track", "false"]
        # The local engine's all-pairs leakage check grows with the square of the corpus: capped, it fails alone.
        result = measured(command, env, memory_gb=local_memory_gb if engine == "local" else 0)
        result["rows"] = rows
        result["rows_per_s"] = rows / result["seconds"]
        result["rows_per_cpu_s"] = rows / max(result["cpu_seconds"], 1e-9)
        out[engine] = result
        print(f"build {scale}x ({rows} records) {engine}: {result['seconds']:.1f} s, {result['rows_per_s']:.1f} "
              f"records/s, {result['cpu_seconds']:.0f} CPU s ({result['rows_per_cpu_s']:.1f} records per CPU s), "
              f"peak RSS {result['peak_rss_mb']:.0f} MB"
              + (f", FAILED: {result['failed']}" if "failed" in result else ""), flush=True)  # fmt: skip
    if any("failed" in r for r in out.values()):
        return out
    manifests = [json.loads((work / f"corpus-{e}" / "manifest.json").read_text()) for e in ("local", "spark")]
    for manifest in manifests:
        manifest.pop("built_at"), manifest["config"].pop("output")
    print(f"build {scale}x: manifests identical: {manifests[0] == manifests[1]}", flush=True)
    return out


def transcripts_file(corpus: Path, n: int, target: Path) -> Path:
    from tubetags.corpus import Corpus

    opened = Corpus.open(corpus)
    rows = [
        {"video_id": r["video_id"], "channel": r["channel"], "title": r["title"], "transcript": r["transcript"]}
        for dataset in ("ted", "youtube")
        for split in ("train", "valid", "test")
        for r in opened.split(dataset, split).records(columns=("video_id", "channel", "title", "transcript"))
    ]
    frame = pd.DataFrame(
        [{**rows[i % len(rows)], "video_id": f"{rows[i % len(rows)]['video_id']}-{i}"} for i in range(n)]
    )
    frame.to_parquet(target)
    return target


def single_process(path: str, model_uri: str, batch: int) -> None:
    """Child process: the served model's pyfunc `predict` over the file, `batch` rows at a time."""
    from tubetags.registry import load_served_model

    model = load_served_model(model_uri)
    frame = pd.read_parquet(path)
    started, done = time.perf_counter(), 0
    for start in range(0, len(frame), batch):
        model.pyfunc.predict(frame.iloc[start : start + batch][["transcript", "title"]], params={"k": 40})
        done += len(frame.iloc[start : start + batch])
    print(json.dumps({"rows": done, "predict_seconds": time.perf_counter() - started}))


def bench_tagging(corpus: Path, n: int, model_uri: str, work: Path) -> dict[str, dict[str, Any]]:
    path = transcripts_file(corpus, n, work / "transcripts.parquet")
    single = measured([sys.executable, __file__, "--child", str(path), "--model-uri", model_uri])
    single["rows_per_s"] = n / single["seconds"]
    single["rows_per_cpu_s"] = n / max(single["cpu_seconds"], 1e-9)
    inner = json.loads(single["output"].strip().splitlines()[-1])
    print(f"tag {n} transcripts, one process (pyfunc predict, batches of 1000): {single['seconds']:.1f} s "
          f"({single['rows_per_s']:.1f} rows/s; predict alone {n / inner['predict_seconds']:.1f} rows/s), "
          f"{single['cpu_seconds']:.0f} CPU s ({single['rows_per_cpu_s']:.1f} rows per CPU s), "
          f"peak RSS {single['peak_rss_mb']:.0f} MB", flush=True)  # fmt: skip
    command = [sys.executable, "-m", "tubetags", "batch-tag", "--input", str(path), "--output", str(work / "tagged")]
    command += ["--model", model_uri, "--master", "local[2]", "--track", "false"]
    spark = measured(command)
    spark["rows_per_s"] = n / spark["seconds"]
    spark["rows_per_cpu_s"] = n / max(spark["cpu_seconds"], 1e-9)
    print(f"tag {n} transcripts, spark_udf local[2]: {spark['seconds']:.1f} s ({spark['rows_per_s']:.1f} rows/s), "
          f"{spark['cpu_seconds']:.0f} CPU s ({spark['rows_per_cpu_s']:.1f} rows per CPU s), "
          f"peak RSS {spark['peak_rss_mb']:.0f} MB; job's own figure: {spark['output'].strip().splitlines()[0]}",
          flush=True)  # fmt: skip
    return {"local": single, "spark": spark}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=64, help="copies of the source files for the build")
    parser.add_argument("--transcripts", type=int, default=20_000)
    parser.add_argument("--model-uri", default="models:/tubetags@production")
    parser.add_argument("--corpus", type=Path, default=settings.corpus_dir())
    parser.add_argument("--local-memory-gb", type=float, default=12, help="address-space cap of the local build")
    parser.add_argument("--exact-copies", action="store_true", help="copies keep their transcripts word for word")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--skip-tagging", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        single_process(args.child, args.model_uri, 1000)
        return
    ratios = []
    with tempfile.TemporaryDirectory(prefix="bench_spark_") as tmp:
        work = Path(tmp)
        if not args.skip_build:
            build = bench_build(args.scale, work, args.local_memory_gb, args.exact_copies)
            if "failed" in build["local"]:
                ratios.append("build_rows_per_s_ratio=inf(local failed)")
            else:
                ratios += [
                    f"build_rows_per_s_ratio={build['spark']['rows_per_s'] / build['local']['rows_per_s']:.2f}",
                    f"build_rss_ratio={build['spark']['peak_rss_mb'] / build['local']['peak_rss_mb']:.2f}",
                    f"build_cpu_ratio={build['spark']['cpu_seconds'] / build['local']['cpu_seconds']:.2f}",
                ]
        if not args.skip_tagging:
            tag = bench_tagging(args.corpus, args.transcripts, args.model_uri, work)
            ratios += [
                f"tag_rows_per_s_ratio={tag['spark']['rows_per_s'] / tag['local']['rows_per_s']:.2f}",
                f"tag_rss_ratio={tag['spark']['peak_rss_mb'] / tag['local']['peak_rss_mb']:.2f}",
                f"tag_cpu_ratio={tag['spark']['cpu_seconds'] / tag['local']['cpu_seconds']:.2f}",
            ]
    print(" ".join(ratios))


if __name__ == "__main__":
    main()
