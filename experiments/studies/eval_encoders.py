"""eval_encoders: (c) encoder + head and (d) zero-shot with MiniLM (4 chunks / every chunk) vs model2vec.

    python -m experiments.studies.eval_encoders [--train-limit 600] [--valid-limit 0] [--full-train-model2vec]
    python -m experiments.studies.eval_encoders --encode-only --train-limit 600  # fill the MiniLM cache (resumable)

Every variant is the real strategy class (`EncoderHeadTagger`, `ZeroShotTagger`) with the
hyper-parameters of configs/strategies/<strategy>.yaml; only the encoding is shared: MiniLM encodes
every 180-word chunk of a talk once (cached per talk in data/cache/eval_encoders/), and the 4-chunk
variant averages the same 4 chunks `chunk_words` picks, so "4 chunks" and "all chunks" are compared on
identical chunk vectors. Heads are trained with `EncoderHeadTagger.fit_head` on the train talks
(the first `--train-limit`; 0 = all), early-stopped on validation, scored with `tubetags.ranking_metrics`
exactly like `evaluate_splits` (F1 threshold chosen on validation). One seed per variant.

Columns: test/valid P@5; encode s = seconds to encode the talks used (train + valid + test; for
"4 chunks" the all-chunk time scaled by the share of chunks it reads, since MiniLM's cost is linear
in chunks); p50 ms = single ~2,000-word transcript through `predictor.predict` (2 warm-up calls,
then 10 timed), in this process, on this (shared) machine.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import yaml

from tubetags import settings
from tubetags.corpus import Corpus, multi_hot
from tubetags.encoders import MiniLMEncoder, Model2VecEncoder, chunk_picks, mean_of_chunks, text_hash
from tubetags.ranking_metrics import best_threshold, evaluate
from tubetags.strategies.ranking import top_k

CONFIGS = settings.REPO_ROOT / "experiments" / "configs"
WORDS_PER_CHUNK = 180


def config_params(strategy: str) -> dict:
    return dict(yaml.safe_load((CONFIGS / f"{strategy}.yaml").read_text())["params"])


def load_split(corpus: Corpus, split: str, limit: int) -> tuple[list[str], list[list[str]]]:
    texts: list[str] = []
    tags: list[list[str]] = []
    for record in corpus.split("ted", split).records(columns=("transcript", "tags")):
        if limit and len(texts) >= limit:
            break
        texts.append(record["transcript"])
        tags.append(list(record["tags"]))
    return texts, tags


def chunk_cache() -> Path:
    folder = settings.cache_dir() / "eval_encoders" / f"minilm-chunks-w{WORDS_PER_CHUNK}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def minilm_chunk_vectors(
    texts: list[str], encoder: MiniLMEncoder, talks_per_batch: int = 8, label: str = ""
) -> tuple[list[np.ndarray], float]:
    """Every chunk's normalised MiniLM vector per talk, cached per talk; and the encoding seconds
    (as measured when each talk was first encoded)."""
    folder = chunk_cache()
    paths = [folder / f"{text_hash(t)}.npz" for t in texts]
    todo = [i for i, p in enumerate(paths) if not p.exists()]
    for start in range(0, len(todo), talks_per_batch):
        batch = todo[start : start + talks_per_batch]
        began = time.perf_counter()
        chunks = encoder.encode_chunks([texts[i] for i in batch])
        seconds = time.perf_counter() - began
        n_chunks = sum(len(c) for c in chunks)
        for i, vectors in zip(batch, chunks):
            tmp = paths[i].with_suffix(".tmp.npz")
            np.savez(tmp, vectors=vectors, seconds=seconds * len(vectors) / n_chunks)
            tmp.replace(paths[i])
        print(
            f"  minilm {label}: {start + len(batch)}/{len(todo)} new talks, {n_chunks / seconds:.1f} chunks/s",
            flush=True,
        )
    out, total = [], 0.0
    for path in paths:
        with np.load(path) as data:
            out.append(data["vectors"])
            total += float(data["seconds"])
    return out, total


def pooled(chunks: list[np.ndarray], max_chunks: int) -> tuple[np.ndarray, int, int]:
    """Chunk-mean vectors reading `max_chunks` chunks per talk (0: all); chunks read, chunks in all."""
    picks = [chunk_picks(len(c), max_chunks) for c in chunks]
    vectors = np.stack([mean_of_chunks(c[p]) for c, p in zip(chunks, picks)])
    return vectors, sum(map(len, picks)), sum(map(len, chunks))


def score(scores_valid, scores_test, vocabulary, tags_valid, tags_test) -> dict[str, float]:
    """As tubetags.evaluation.scoring.evaluate_splits: top 10, threshold chosen on validation."""
    ranked_valid, ranked_test = top_k(scores_valid, vocabulary, 10), top_k(scores_test, vocabulary, 10)
    threshold = best_threshold(ranked_valid, tags_valid)
    valid = evaluate(ranked_valid, tags_valid, threshold)
    test = evaluate(ranked_test, tags_test, threshold)
    return {
        "valid_p_at_5": valid["p_at_5"],
        "test_p_at_5": test["p_at_5"],
        "test_ndcg_at_5": test["ndcg_at_5"],
        "test_r_at_10": test["r_at_10"],
        "test_micro_f1": test["micro_f1"],
        "test_macro_f1": test["macro_f1"],
    }


_LATENCY: dict[str, tuple[float, float]] = {}


def p50_ms(predictor, transcript: str, warmup: int = 2, runs: int = 10) -> tuple[float, float]:
    """p50 wall and CPU milliseconds of one `predict` call on one transcript. The CPU time of this
    process is the steadier number on a shared, loaded machine (wall time includes waiting for a core).
    Measured once per (strategy, encoder): the encoder is the cost (a NumPy head takes < 0.1 ms)."""
    key = f"{predictor.strategy}/{predictor.encoder.name}"
    if key not in _LATENCY:
        _LATENCY[key] = _measure(predictor, transcript, warmup, runs)
    return _LATENCY[key]


def _measure(predictor, transcript: str, warmup: int, runs: int) -> tuple[float, float]:
    for _ in range(warmup):
        predictor.predict([transcript], k=10)
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        predictor.predict([transcript], k=10)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return float(np.percentile(wall, 50)), float(np.percentile(cpu, 50))


def train_head(tagger, vocabulary, x_train, tags_train, x_valid, tags_valid):
    import tensorflow as tf

    tagger.vocabulary = list(vocabulary)

    def data(x, tags, shuffle):
        y = multi_hot(tags, vocabulary).astype(np.float32)
        return tagger.batched(tf.data.Dataset.from_tensor_slices((x.astype(np.float32), y)), shuffle)

    curves = tagger.fit_head(data(x_train, tags_train, True), data(x_valid, tags_valid, False))
    return len(next(iter(curves.values()), []))


def main(argv: list[str] | None = None) -> None:  # noqa: C901 (a study: one pass over every variant)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--train-limit", type=int, default=600, help="first N train talks (0 = all)")
    parser.add_argument("--valid-limit", type=int, default=0, help="first N valid talks (0 = all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--encode-only", action="store_true", help="only fill the MiniLM chunk cache")
    parser.add_argument("--no-model2vec", action="store_true", help="MiniLM variants only")
    parser.add_argument("--no-minilm", action="store_true", help="model2vec variants only (no MiniLM encoding)")
    parser.add_argument(
        "--full-train-model2vec", action="store_true", help="also model2vec heads on every train talk (cheap)"
    )
    parser.add_argument("--json", type=Path, default=None, help="write the rows here too")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from tubetags.evaluation.costs import pick_single, sample_transcripts
    from tubetags.strategies.encoder_head import EncoderHeadTagger
    from tubetags.strategies.zero_shot import ZeroShotTagger

    corpus = Corpus.open(args.corpus or settings.corpus_dir())
    vocabulary = corpus.vocabulary("ted")
    test = load_split(corpus, "test", 0)
    valid = load_split(corpus, "valid", args.valid_limit)
    train = load_split(corpus, "train", args.train_limit)
    single = pick_single(sample_transcripts(args.corpus))
    head_params = {k: v for k, v in config_params("encoder_head").items() if k not in ("encoder", "max_chunks")}
    print(
        f"talks: train {len(train[0])}, valid {len(valid[0])}, test {len(test[0])}; "
        f"latency transcript {len(single.split())} words",
        flush=True,
    )
    rows = []

    def add(variant, train_talks, metrics, encode_s, latency, epochs=None):
        rows.append(
            {
                "variant": variant,
                "train_talks": train_talks,
                **metrics,
                "encode_s": encode_s,
                "p50_ms": latency[0],
                "p50_cpu_ms": latency[1],
                "epochs": epochs,
                "load_average": os.getloadavg()[0],
            }
        )
        print(json.dumps(rows[-1]), flush=True)

    def head_rows(
        label, encoder_param, max_chunks, xs, encode_s, train_tags, heads=("linear", "MLP"), standardize=None
    ):
        for kind in heads:
            hidden = 0 if kind == "linear" else head_params["hidden_units"]
            tagger = EncoderHeadTagger(
                **{
                    **head_params,
                    "seed": args.seed,
                    "encoder": encoder_param,
                    "max_chunks": max_chunks,
                    "hidden_units": hidden,
                    "standardize": standardize,
                }
            )
            epochs = train_head(tagger, vocabulary, xs[0], train_tags, xs[1], valid[1])
            metrics = score(tagger.scores(xs[1]), tagger.scores(xs[2]), vocabulary, valid[1], test[1])
            std = ", standardised" if tagger.standardize else ""
            add(f"(c) {label}, {kind} head{std}", len(train_tags), metrics, encode_s, p50_ms(tagger, single), epochs)

    def zero_shot_row(label, encoder_param, max_chunks, xs, encode_s, center=None):
        tagger = ZeroShotTagger(max_chunks=max_chunks, encoder=encoder_param, center=center)
        # As ZeroShotTagger.fit: the tag names, and with `center` the mean (unlabelled) train vector.
        tagger.vocabulary, tagger.tag_vectors = list(vocabulary), tagger.encoder.encode_phrases(vocabulary)
        if tagger.center:
            tagger.transcript_mean = xs[0].mean(axis=0)
        metrics = score(tagger.scores(xs[1]), tagger.scores(xs[2]), vocabulary, valid[1], test[1])
        add(
            f"(d) zero-shot {label}{', centred' if tagger.center else ''}", 0, metrics, encode_s, p50_ms(tagger, single)
        )

    # model2vec: the whole transcript at once.
    m2v = Model2VecEncoder()
    m2v.model  # noqa: B018  (load, or distil once, before timing)
    started = time.perf_counter()
    m2v_xs = [m2v.encode(texts) for texts in (train[0], valid[0], test[0])]
    m2v_s = time.perf_counter() - started
    if not args.encode_only and not args.no_model2vec:
        head_rows("model2vec (MiniLM distilled, whole transcript)", "model2vec", None, m2v_xs, m2v_s, train[1])
        zero_shot_row("model2vec", "model2vec", None, m2v_xs, m2v_s)
        if args.full_train_model2vec and args.train_limit:
            full = load_split(corpus, "train", 0)
            started = time.perf_counter()
            xs = [m2v.encode(full[0]), *m2v_xs[1:]]
            seconds = (
                time.perf_counter()
                - started
                + m2v_s * (len(valid[0]) + len(test[0])) / sum(map(len, (train[0], valid[0], test[0])))
            )
            head_rows("model2vec, all train talks", "model2vec", None, xs, seconds, full[1])

    if not args.no_minilm:
        minilm = MiniLMEncoder(max_chunks=0)
        chunks, seconds = [], 0.0
        for name, texts in (("test", test[0]), ("valid", valid[0]), ("train", train[0])):  # test first
            vectors, spent = minilm_chunk_vectors(texts, minilm, label=name)
            chunks.append(vectors)
            seconds += spent
        chunks = chunks[::-1]  # (train, valid, test) like the other features
        if args.encode_only:
            return
        for label, max_chunks in (("MiniLM, 4 chunks", 4), ("MiniLM, all chunks", 0)):
            pooled_xs = [pooled(c, max_chunks) for c in chunks]
            xs = [x for x, _, _ in pooled_xs]
            encode_s = seconds * sum(r for _, r, _ in pooled_xs) / sum(n for _, _, n in pooled_xs)
            heads = ("MLP",) if max_chunks else ("linear", "MLP")  # 4 chunks: today's (c)
            head_rows(label, "minilm", max_chunks, xs, encode_s, train[1], heads)
            if not max_chunks:
                head_rows(label, "minilm", max_chunks, xs, encode_s, train[1], standardize=True)
            zero_shot_row(label, "minilm", max_chunks, xs, encode_s)
            if not max_chunks:
                zero_shot_row(label, "minilm", max_chunks, xs, encode_s, center=True)

    print()
    print(
        "| variant | train talks | test P@5 | valid P@5 | test nDCG@5 | test R@10 | encode s "
        "| p50 ms wall / CPU | load avg |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['variant']} | {r['train_talks'] or '—'} | {r['test_p_at_5']:.3f} | {r['valid_p_at_5']:.3f} | "
            f"{r['test_ndcg_at_5']:.3f} | {r['test_r_at_10']:.3f} | {r['encode_s']:.0f} | "
            f"{r['p50_ms']:.0f} / {r['p50_cpu_ms']:.0f} | {r['load_average']:.1f} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
