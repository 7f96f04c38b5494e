"""eval_keyphrases: transcript keyphrases scored against uploaders' tags on YouTube channels never trained on.

    python -m experiments.studies.eval_keyphrases [--corpus data/corpus] [--split test] [--old-rev main] [--no-title]

Systems, each on the transcript alone and (unless --no-title) with the title prepended:
- `tfidf-plain`: reference, scikit-learn TF-IDF of the transcript's 1-3-grams (English stop words), DF from
  the training transcripts;
- `new`: `KeyphraseSuggester` fitted on the training transcripts (youtube train + ted train);
- `new-unfitted`: the same without a background (term frequency alone);
- `old` (with --old-rev REV): the `KeyphraseSuggester` at git revision REV
  (the MiniLM/KeyBERT one; slow on CPU), loaded from `git show`.
Tags are compared by spelling key (`tag_key`), as in experiments/open_vocab.py; metrics.evaluate computes P@k/R@k.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tubetags import settings
from tubetags.corpus import Corpus
from tubetags.openvocab.keyphrases import KeyphraseSuggester
from tubetags.ranking_metrics import evaluate
from tubetags.tags import tag_key


def keyed(ranked):
    return [[(tag_key(t), s) for t, s in r] for r in ranked]


def old_suggester(rev: str):
    """The KeyphraseSuggester class at `rev` (tubetags/openvocab/keyphrases.py, or tubetags/keyphrases.py before
    the open-vocabulary modules were grouped), imported from a temporary file."""
    for name in ("tubetags/openvocab/keyphrases.py", "tubetags/keyphrases.py"):
        shown = subprocess.run(["git", "show", f"{rev}:{name}"], capture_output=True, text=True)
        if shown.returncode == 0:
            source = shown.stdout
            break
    else:
        raise FileNotFoundError(f"no keyphrases module at git revision {rev}")
    path = Path(tempfile.mkdtemp()) / "old_keyphrases.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("old_keyphrases", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.KeyphraseSuggester()


def plain_tfidf(train_texts: list[str]):
    """Reference: TF-IDF of 1-3-grams with DF from the training transcripts, no other rule."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(ngram_range=(1, 3), stop_words="english", min_df=1, max_features=200_000)
    vectorizer.fit(train_texts)

    def suggest(texts, k):
        # Fit the vocabulary of each test text itself, weighting it by the training IDF where known.
        idf = dict(zip(vectorizer.get_feature_names_out(), vectorizer.idf_))
        top_idf = float(max(vectorizer.idf_))
        out = []
        for text in texts:
            counter = TfidfVectorizer(ngram_range=(1, 3), stop_words="english", use_idf=False, norm=None)
            try:
                tf = counter.fit_transform([text]).toarray().ravel()
            except ValueError:
                out.append([])
                continue
            grams = counter.get_feature_names_out()
            scores = np.array([tf[i] * idf.get(g, top_idf) for i, g in enumerate(grams)])
            best = np.argsort(-scores, kind="stable")[:k]
            out.append([(grams[i], float(scores[i] / scores[best[0]])) for i in best])
        return out

    return suggest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--split", default="test")
    parser.add_argument("--old-rev", default=None, help="git revision whose keyphrases.py is the 'old' system")
    parser.add_argument("--no-title", action="store_true")
    args = parser.parse_args(argv)

    corpus = Corpus.open(args.corpus or settings.corpus_dir())
    train_texts = [
        r["transcript"]
        for r in itertools.chain(
            corpus.split("youtube", "train").records(columns=("transcript",)),
            corpus.split("ted", "train").records(columns=("transcript",)),
        )
    ]
    rows = list(corpus.split("youtube", args.split).records(columns=("title", "transcript", "tags")))
    truths = [[tag_key(t) for t in r["tags"]] for r in rows]
    inputs = {"transcript": [r["transcript"] for r in rows]}
    if not args.no_title:
        inputs["title + transcript"] = [f"{r['title']}. {r['transcript']}" for r in rows]

    started = time.perf_counter()
    new = KeyphraseSuggester()
    new.fit_texts(train_texts)
    with tempfile.TemporaryDirectory() as tmp:
        new.save(Path(tmp))
        size = sum(f.stat().st_size for f in Path(tmp).iterdir())
    print(
        f"background: {new.n_docs} training transcripts, {len(new.doc_freq)} phrases, {size / 1e6:.1f} MB saved "
        f"({time.perf_counter() - started:.0f} s)",
        file=sys.stderr,
    )
    systems = {
        "tfidf-plain": plain_tfidf(train_texts),
        "new": new.suggest,
        "new-unfitted": KeyphraseSuggester().suggest,
    }
    if args.old_rev:
        systems["old"] = old_suggester(args.old_rev).suggest

    print(f"youtube/{args.split}: {len(rows)} videos, channels never trained on; tags compared by tag_key")
    for (system, suggest), (input_name, texts) in itertools.product(systems.items(), inputs.items()):
        started = time.perf_counter()
        metrics = evaluate(keyed(suggest(texts, 10)), truths, ks=(1, 5, 10))
        print(
            f"  {system:13s} {input_name:19s} P@5 {metrics['p_at_5']:.3f}  R@10 {metrics['r_at_10']:.3f}  "
            f"P@1 {metrics['p_at_1']:.3f}  nDCG@10 {metrics['ndcg_at_10']:.3f}  "
            f"({time.perf_counter() - started:.0f} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
