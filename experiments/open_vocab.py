"""open_vocab: closed vocabulary vs transcript keyphrases vs both, on YouTube channels never trained on.

    python -m experiments.open_vocab [--closed-alias production] [--k 10]
    mlflow run . -e open_vocab --env-manager local

Defaults: experiments/configs/open_vocab.yaml.

The closed model (a registry alias, TED-trained by default) is wrapped with the keyphrase
suggester into a `HybridTagger`, scored on the YouTube test split (channels held out) against
the uploaders' own tags, and registered (strategy `hybrid`, alias `open-vocab`) so that the web
app can serve it. Tags are compared by spelling key (`GPT-5` = `gpt 5`).

Also measured: what a creator actually pastes, the YouTube-ready string (top tags fitted into
500 characters): how many tags fit and how many of the uploader's tags it contains.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from tubetags import registry, settings, tracking
from tubetags.config import JobConfig
from tubetags.corpus import Corpus
from tubetags.metrics import evaluate
from tubetags.strategies.hybrid import HybridTagger
from tubetags.tags import fit_youtube_tags, tag_key

log = logging.getLogger(__name__)
OPEN_VOCAB_ALIAS = registry.STRATEGY_ALIASES[HybridTagger.strategy]


class OpenVocabConfig(JobConfig):
    job = "open_vocab"

    closed_alias: str = Field(registry.PRODUCTION, description="registry alias of the closed-vocabulary model")
    k: int = Field(10, ge=1, le=50, description="suggestions scored per video")
    dataset: str = Field("youtube", description="corpus dataset to score on")
    split: str = Field("test", description="split to score on (channels never trained on)")
    register_model: bool = Field(True, description=f"register the hybrid and point alias {OPEN_VOCAB_ALIAS!r} at it")
    corpus: Path | None = Field(None, description="corpus folder (default: data/corpus)")


def keyed(ranked):
    return [[(tag_key(t), s) for t, s in r] for r in ranked]


def youtube_string_stats(ranked_long, truths) -> dict[str, float]:
    counts, coverage = [], []
    for ranked, truth in zip(ranked_long, truths):
        kept = fit_youtube_tags([t for t, _ in ranked])
        counts.append(len(kept))
        truth_keys = {tag_key(t) for t in truth}
        coverage.append(len({tag_key(t) for t in kept} & truth_keys) / max(len(truth_keys), 1))
    return {"youtube_string_tags": float(np.mean(counts)), "youtube_string_recall": float(np.mean(coverage))}


def run(config: OpenVocabConfig) -> dict[str, Any]:
    import mlflow

    closed_alias, k, dataset, split = config.closed_alias, config.k, config.dataset, config.split
    tracking.configure("tubetags-open-vocab")
    corpus = Corpus.open(config.corpus or settings.corpus_dir())
    rows = list(corpus.split(dataset, split).records(columns=("transcript", "tags")))
    texts, truths = [r["transcript"] for r in rows], [[tag_key(t) for t in r["tags"]] for r in rows]
    hybrid = HybridTagger(registry.load_registered_predictor(closed_alias))
    long_k = 40  # enough candidates to fill the 500-character box
    closed, opened, merged = hybrid.rank_parts(texts, long_k)
    systems = {"closed": closed, "keyphrases": opened, "hybrid": merged}
    results = {}
    with mlflow.start_run(run_name=f"open_vocab-{closed_alias}") as active:
        tracking.log_new_params({"closed_alias": closed_alias, "dataset": dataset, "split": split,
                                 "items": len(rows), **hybrid.params()})
        for name, ranked in systems.items():
            metrics = evaluate(keyed([r[:k] for r in ranked]), truths, ks=(1, 3, 5, 10))
            metrics.update(youtube_string_stats(ranked, truths))
            results[name] = {m: metrics[m] for m in ("p_at_1", "p_at_5", "r_at_10", "ndcg_at_10", "lrap",
                                                   "youtube_string_tags", "youtube_string_recall")}
            mlflow.log_metrics({f"{name}_{m}": v for m, v in results[name].items()})
        examples = [{"tags": r["tags"][:15], "closed": [t for t, _ in c[:8]], "keyphrases": [t for t, _ in o[:8]],
                     "hybrid": [t for t, _ in h[:10]]} for r, c, o, h in list(zip(rows, closed, opened, merged))[:8]]
        mlflow.log_dict({"results": results, "examples": examples}, "open_vocab.json")
        version = None
        if config.register_model:
            with tempfile.TemporaryDirectory() as tmp:
                info = registry.log_predictor(hybrid, Path(tmp))
            version = info.registered_model_version
            registry.set_alias(OPEN_VOCAB_ALIAS, version)
        return {"run_id": active.info.run_id, "results": results, "examples": examples, "version": version}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    config = OpenVocabConfig.from_cli(argv, __doc__)
    out = run(config)
    print(f"open vocabulary on {config.dataset}/{config.split} (channels never trained on):")
    for name, m in out["results"].items():
        print(f"  {name:10s} P@5 {m['p_at_5']:.3f}  R@10 {m['r_at_10']:.3f}  nDCG@10 {m['ndcg_at_10']:.3f}  "
              f"500-char string: {m['youtube_string_tags']:.1f} tags, "
              f"covers {m['youtube_string_recall']:.1%} of uploader tags")
    if out["version"]:
        print(f"registered hybrid as version {out['version']}, alias {OPEN_VOCAB_ALIAS!r}")
    return out


if __name__ == "__main__":
    main()
