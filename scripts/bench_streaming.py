"""Streaming benchmark: memory and speed of one training pass at 1x and 8x the corpus.

Builds an 8x corpus by repeating the TED train shards (in a temp dir), then runs one full
pass of a Keras training step over tf.data minibatches in a fresh process per size and
reads that process's peak RSS. If the reader streams, the 8x pass takes ~8x the time and
about the same memory.

    python scripts/bench_streaming.py [--corpus data/corpus] [--factor 8]

Last line: rss_ratio_8x_vs_1x=<float> docs_per_s=<float>
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATASET = "ted"


def repeat_corpus(source: Path, target: Path, factor: int) -> Path:
    """A corpus whose train split is `factor` copies of the source's train shards."""
    manifest = json.loads((source / "manifest.json").read_text())
    split = manifest["datasets"][DATASET]["splits"]["train"]
    shards = []
    for copy in range(factor):
        for entry in split["shards"]:
            name = f"{DATASET}/train/copy{copy}-{Path(entry['path']).name}"
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / entry["path"], target / name)
            shards.append({**entry, "path": name})
    split["shards"], split["rows"] = shards, split["rows"] * factor
    (target / "manifest.json").write_text(json.dumps(manifest))
    return target


def one_pass(corpus_dir: Path) -> dict:
    """One epoch of a small Keras tagger over the streamed train split (run in a fresh process)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    from tubetags.corpus import Corpus, tf_dataset

    corpus = Corpus.open(corpus_dir)
    vocabulary = corpus.vocabulary(DATASET)
    split = corpus.split(DATASET, "train")
    vectorize = keras.layers.TextVectorization(max_tokens=20_000, output_sequence_length=400)
    sample = [r["transcript"] for _, r in zip(range(200), split.records(columns=("transcript",)))]
    vectorize.adapt(tf.constant(sample))  # a bounded sample: adapting on the stream would re-read it
    data = tf_dataset(split, vocabulary, batch_size=32, shuffle_buffer=256, seed=0)
    data = data.map(lambda text, y: (vectorize(text), y))
    model = keras.Sequential(
        [
            keras.layers.Embedding(20_000, 32),
            keras.layers.GlobalAveragePooling1D(),
            keras.layers.Dense(len(vocabulary), activation="sigmoid"),
        ]
    )
    model.compile("adam", "binary_crossentropy")
    started = time.perf_counter()
    model.fit(data, epochs=1, verbose=0)
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"docs": split.rows, "seconds": seconds, "docs_per_s": split.rows / seconds, "peak_rss_mb": peak_kb / 1024}


def measure(corpus_dir: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", str(corpus_dir)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--factor", type=int, default=8)
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(one_pass(args.worker)))
        return
    from tubetags import settings

    source = args.corpus or settings.corpus_dir()
    with tempfile.TemporaryDirectory() as tmp:
        small = repeat_corpus(source, Path(tmp) / "x1", 1)
        large = repeat_corpus(source, Path(tmp) / "x8", args.factor)
        results = {}
        for name, path in (("1x", small), (f"{args.factor}x", large)):
            results[name] = measure(path)
            r = results[name]
            print(
                f"{name}: {r['docs']} docs in {r['seconds']:.1f}s ({r['docs_per_s']:.1f} docs/s), "
                f"peak RSS {r['peak_rss_mb']:.0f} MB",
                flush=True,
            )
    ratio = results[f"{args.factor}x"]["peak_rss_mb"] / results["1x"]["peak_rss_mb"]
    print(f"rss_ratio_8x_vs_1x={ratio:.3f} docs_per_s={results[f'{args.factor}x']['docs_per_s']:.1f}")


if __name__ == "__main__":
    main()
