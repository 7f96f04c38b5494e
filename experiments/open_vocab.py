"""open_vocab: the served default for any creator — closed vocabulary + transcript keyphrases, merged.

    tubetags open-vocab [--closed-alias production] [--k 10]
    mlflow run . -e open_vocab --env-manager local

The closed model (a registry alias; TED-trained by default) and the keyphrase suggester are joined in a
`HybridTagger`. The keyphrases are ranked by a learned phrase ranker (tubetags.openvocab.phrase_ranker) fitted on the
YouTube training and validation channels and cross-validated grouped by channel against TF-IDF. The merge
(gradient-boosted trees over the candidates of both lists, with the video's talk style) is fitted on videos the
closed model never saw — TED validation talks, and the YouTube channels with their keyphrases ranked out of fold
(by a ranker that never saw their channel), each dataset weighted equally — and judged on both test splits,
against the human tags compared by spelling key (`GPT-5` = `gpt 5`),
transcript only and with the video's title. Also measured: what a creator pastes, the YouTube-ready string
(top tags within 500 characters), and how many of the uploader's tags it holds.

The served default (`production`) is chosen between the closed model and the hybrid: the higher mean P@5 over
the two test sets, provided the hybrid's TED P@5 is not below the closed model's (by more than `ted_tolerance`,
0 by default: adding keyphrases must not cost P@5 on TED-like talks). The hybrid is registered
(strategy `hybrid`, alias `open-vocab`) either way. Defaults: `OpenVocabConfig` below.
"""

from __future__ import annotations

import copy
import json
import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field
from tqdm import tqdm

from tubetags import registry, settings, tracking
from tubetags.config import JobConfig
from tubetags.corpus import Corpus
from tubetags.jobs import Job
from tubetags.openvocab.keyphrases import KeyphraseSuggester
from tubetags.openvocab.phrase_ranker import LabelledVideo, PhraseRanker
from tubetags.predictor import Ranked, fitted
from tubetags.ranking_metrics import evaluate, precision_at_k
from tubetags.strategies.hybrid import HybridTagger, MergeInputs
from tubetags.tags import fit_youtube_tags, tag_key
from tubetags.text import with_context

log = logging.getLogger(__name__)
OPEN_VOCAB_ALIAS = registry.STRATEGY_ALIASES[HybridTagger.strategy]
DATASETS = ("ted", "youtube")
DATASET_NAMES = {"ted": "TED", "youtube": "YouTube"}
# What the merge learns from: videos the closed model never saw. TED: the validation talks (the closed model is
# trained on TED train). YouTube: the training and validation channels (19 channels; the 3 validation channels
# alone are too few — their tags are more generic than most, and a merge fitted on them trusts the closed model).
MERGE_SPLITS = (("ted", "valid"), ("youtube", "train"), ("youtube", "valid"))
STRING_K = 40  # candidates offered to the 500-character YouTube string
# Version tags of a registered hybrid: the closed model it serves, and the held-out one its merge was fitted with.
CLOSED_VERSION, CLOSED_HELD_OUT_VERSION = "closed_version", "closed_held_out_version"


class OpenVocabConfig(JobConfig):
    job = "open_vocab"

    closed_alias: str = Field(registry.PRODUCTION, description="registry alias of the closed-vocabulary model")
    k: int = Field(10, ge=1, le=50, description="suggestions scored per video")
    register_model: bool = Field(True, description=f"register the hybrid and point alias {OPEN_VOCAB_ALIAS!r} at it")
    promote: bool = Field(True, description="make the hybrid `production` when it wins on both test sets")
    ted_tolerance: float = Field(0.0, ge=0, description="TED P@5 the hybrid may lose against the closed model")
    corpus: Path | None = Field(None, description="corpus folder (default: data/corpus)")
    out: Path = Field(Path("reports"), description="folder for open_vocab.md / open_vocab.json")


def closed_model_versions(alias: str) -> tuple[str, str]:
    """(the closed model's version to serve, its held-out version to fit the merge with and score on test).

    The two differ when production is a refit (trained on valid and test too). When `alias` is already a
    hybrid, its closed part's versions, as tagged when it was registered."""
    version = registry.version_behind(alias)
    if version.tags.get("strategy") == HybridTagger.strategy:
        if CLOSED_VERSION not in version.tags:
            raise ValueError(
                f"hybrid version {version.version} has no {CLOSED_VERSION} tag: "
                "run open_vocab with --closed-alias <the closed model's alias>"
            )
        return str(version.tags[CLOSED_VERSION]), str(version.tags[CLOSED_HELD_OUT_VERSION])
    return str(version.version), registry.held_out_version(alias)


def fit_phrase_ranker(
    keyphrases: KeyphraseSuggester, videos: Sequence[dict[str, Any]], corpus: Corpus, folds: int = 5
) -> tuple[PhraseRanker | None, list[Ranked], dict[str, float]]:
    """The keyphrase ranker, fitted on YouTube videos with uploader tags; and, validated grouped by channel
    (GroupKFold: every fold's channels unseen by the ranker scoring them), each video's out-of-fold keyphrases
    and the cross-validated P@5 of the ranker and of TF-IDF. (None, [], {}) with fewer than 2 channels."""
    from sklearn.model_selection import GroupKFold

    channels = [channel_key(r["channel"]) for r in videos]
    if len(set(channels)) < 2:
        log.warning("fewer than 2 YouTube channels with tags: keyphrases stay ranked by TF-IDF")
        return None, [], {}
    # The tag prior: the channels' uploader tags, and TED's editorial tags as one more channel.
    prior = PhraseRanker.tag_prior(
        [(c, r["tags"]) for c, r in zip(channels, videos)]
        + [("ted", tags) for tags in corpus.split("ted", "train").column("tags")]
    )
    ranker = PhraseRanker(prior=prior)
    labelled = [
        LabelledVideo(keyphrases.scored_candidates(r["transcript"], channel=c, ranker=ranker), r["tags"], c)
        for c, r in zip(channels, tqdm(videos, desc="phrase ranker: candidates", unit="video"))
    ]
    out_of_fold: list[Ranked] = [[] for _ in videos]
    for train_idx, test_idx in GroupKFold(min(folds, len(set(channels)))).split(videos, groups=channels):
        fold = PhraseRanker(prior=prior).fit([labelled[i] for i in train_idx])
        for i in test_idx:
            out_of_fold[i] = fold.rank(labelled[i].candidates, STRING_K // 2)
    truths = [[tag_key(t) for t in r["tags"]] for r in videos]
    tfidf = [[(c.key, c.tfidf) for c in v.candidates] for v in labelled]  # candidates come in TF-IDF order
    cv = {
        "ranker_p_at_5": precision_at_k(keyed(out_of_fold), truths, 5),
        "tfidf_p_at_5": precision_at_k(tfidf, truths, 5),
    }
    log.info("phrase ranker, grouped by channel: P@5 %.3f vs TF-IDF %.3f", cv["ranker_p_at_5"], cv["tfidf_p_at_5"])
    return ranker.fit(labelled), out_of_fold, cv


def channel_key(name: str) -> str:
    """One key per channel whatever its spelling (`Tech With Tim` / `tech with tim`)."""
    return tag_key(name or "unknown")


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


def split_rows(corpus: Corpus, dataset: str, split: str) -> list[dict[str, Any]]:
    columns = ("transcript", "title", "tags", "channel") if dataset == "youtube" else ("transcript", "title", "tags")
    return list(corpus.split(dataset, split).records(columns=columns))


def strict_metrics(ranked: Sequence[Ranked], truths: Sequence[Sequence[str]], k: int) -> dict[str, float]:
    """Ranking metrics by spelling key, and what the 500-character string holds."""
    truth_keys = [[tag_key(t) for t in truth] for truth in truths]
    metrics = evaluate(keyed([r[:k] for r in ranked]), truth_keys, ks=(1, 3, 5, 10))
    out = {m: metrics[m] for m in ("p_at_1", "p_at_5", "r_at_10", "ndcg_at_10")}
    return out | youtube_string_stats(ranked, truths)


def choose_default(results: dict[str, dict[str, dict[str, float]]], tolerance: float) -> tuple[str, str]:
    """`closed` or `hybrid`: the higher mean test P@5 over TED and YouTube, if the hybrid keeps TED's P@5."""
    closed, hybrid = results["closed"], results["hybrid"]
    mean = {name: float(np.mean([results[name][d]["p_at_5"] for d in DATASETS])) for name in ("closed", "hybrid")}
    keeps_ted = hybrid["ted"]["p_at_5"] >= closed["ted"]["p_at_5"] - tolerance
    winner = "hybrid" if keeps_ted and mean["hybrid"] > mean["closed"] else "closed"
    why = (
        f"mean test P@5 over TED and YouTube: hybrid {mean['hybrid']:.3f} vs closed {mean['closed']:.3f}; "
        f"TED P@5 hybrid {hybrid['ted']['p_at_5']:.3f} vs closed {closed['ted']['p_at_5']:.3f} "
        f"(tolerance {tolerance}): {'kept' if keeps_ted else 'NOT kept'}"
    )
    return winner, why


def run(config: OpenVocabConfig) -> dict[str, Any]:
    import mlflow

    tracking.configure("tubetags-open-vocab")
    corpus = Corpus.open(config.corpus or settings.corpus_dir())
    closed_versions = closed_model_versions(config.closed_alias)
    log.info("closed model: served version %s, held-out version %s", *closed_versions)
    served_closed, held_out_closed = (registry.load_version_predictor(v) for v in closed_versions)
    # Fitted and scored with the held-out closed model: a refit one has seen TED validation and test.
    hybrid = HybridTagger(held_out_closed, depth=STRING_K // 2)
    # Keyphrase rarity is measured against the training transcripts of both datasets (never valid/test).
    hybrid.keyphrases.fit_texts(
        r["transcript"] for d in DATASETS for r in corpus.split(d, "train").records(columns=("transcript",))
    )
    # The talk style: TED training talks against the YouTube training channels' videos.
    hybrid.style.fit(
        *([r["transcript"] for r in corpus.split(d, "train").records(columns=("transcript",))] for d in DATASETS)
    )
    labelled = {(d, s): split_rows(corpus, d, s) for d, s in MERGE_SPLITS}
    ranker_videos = labelled["youtube", "train"] + labelled["youtube", "valid"]
    tfidf_keyphrases = copy.copy(hybrid.keyphrases)  # the same candidates ranked by TF-IDF: the reference
    hybrid.keyphrases.ranker, out_of_fold, ranker_cv = fit_phrase_ranker(hybrid.keyphrases, ranker_videos, corpus)

    parts: dict[tuple[str, str, str], MergeInputs] = {}
    tfidf_lists: dict[tuple[str, str], list[Ranked]] = {}
    for dataset, split in (("ted", "valid"), *((d, "test") for d in DATASETS)):
        rows = labelled.get((dataset, split)) or split_rows(corpus, dataset, split)
        contexts = {"transcript": [r["transcript"] for r in rows]}
        if split == "test":
            contexts["title"] = [with_context(r["transcript"], r["title"]) for r in rows]
        for context, texts in contexts.items():
            log.info("ranking %s/%s (%s): %d videos", dataset, split, context, len(texts))
            parts[dataset, split, context] = hybrid.parts(texts).with_truths([r["tags"] for r in rows])
            if split == "test":
                tfidf_lists[dataset, context] = tfidf_keyphrases.suggest(texts, hybrid.depth)
    # The YouTube videos the ranker was fitted on enter the merge with keyphrases ranked out of fold (by a ranker
    # that never saw their channel), as an unseen channel's would be.
    youtube_merge = MergeInputs([], [], [])
    if ranker_videos:
        texts = [r["transcript"] for r in ranker_videos]
        youtube_merge = MergeInputs(
            fitted(hybrid.closed, "the closed model").predict(texts, hybrid.depth),
            out_of_fold,
            [float(p) for p in hybrid.style.probability(texts)],
            [r["tags"] for r in ranker_videos],
        )
    hybrid.fit_merge([parts["ted", "valid", "transcript"], youtube_merge])

    results: dict[str, dict[str, dict[str, float]]] = {}
    for context in ("transcript", "title"):
        for dataset in DATASETS:
            inputs = parts[dataset, "test", context]
            systems = {
                "closed": inputs.closed,
                "keyphrases_tfidf": tfidf_lists[dataset, context],
                "keyphrases": inputs.opened,
                "rrf": [[(t, s) for t, s, _ in r] for r in hybrid.merge_parts(inputs, STRING_K, "rrf")],
                "hybrid": [[(t, s) for t, s, _ in r] for r in hybrid.merge_parts(inputs, STRING_K)],
            }
            for name, ranked in systems.items():
                key = name if context == "transcript" else f"{name}+title"
                results.setdefault(key, {})[dataset] = strict_metrics(ranked, inputs.truths, config.k)
    winner, why = choose_default(results, config.ted_tolerance)
    inputs = parts["youtube", "test", "transcript"]
    merged = hybrid.merge_parts(inputs, config.k)
    examples = [
        {
            "tags": t[:15],
            "closed": [x for x, _ in c[:8]],
            "keyphrases": [x for x, _ in o[:8]],
            "hybrid": [f"{x} ({src})" for x, _, src in h[:10]],
        }
        for t, c, o, h in list(zip(inputs.truths, inputs.closed, inputs.opened, merged))[:8]
    ]
    with mlflow.start_run(run_name=f"open_vocab-{config.closed_alias}") as active:
        tracking.log_new_params(
            {
                "closed_alias": config.closed_alias,
                "k": config.k,
                "ted_tolerance": config.ted_tolerance,
                **hybrid.params(),
            }
        )
        mlflow.log_metrics(
            {
                f"{name.replace('+', '_with_')}_{dataset}_{m}": v
                for name, by in results.items()
                for dataset, ms in by.items()
                for m, v in ms.items()
            }
        )
        mlflow.log_metrics({f"ranker_cv_{name}": v for name, v in ranker_cv.items()})
        mlflow.log_dict(
            {"results": results, "served_default": winner, "why": why, "examples": examples, "ranker_cv": ranker_cv},
            "open_vocab.json",
        )
        version = None
        if config.register_model:
            hybrid.closed = served_closed  # served with the refit closed model, when production is one
            with tempfile.TemporaryDirectory() as tmp:
                info = registry.log_predictor(hybrid, Path(tmp))
            version = info.registered_model_version
            registry.tag_version(
                version, {CLOSED_VERSION: closed_versions[0], CLOSED_HELD_OUT_VERSION: closed_versions[1]}
            )
            registry.describe_version(
                version,
                scores={f"{name} test P@5": results["hybrid"][d]["p_at_5"] for d, name in DATASET_NAMES.items()},
                notes=[
                    f"Closed model: version {closed_versions[0]} (its merge fitted with held-out version "
                    f"{closed_versions[1]}), merged with transcript keyphrases."
                ],
            )
            registry.set_alias(OPEN_VOCAB_ALIAS, version)
            if winner == "hybrid" and config.promote:
                registry.set_alias(registry.PRODUCTION, version)
        mlflow.set_tags({"served_default": winner})
        out = {
            "run_id": active.info.run_id,
            "results": results,
            "served_default": winner,
            "why": why,
            "examples": examples,
            "version": version,
            "ranker_cv": ranker_cv,
        }
    config.out.mkdir(parents=True, exist_ok=True)
    (config.out / "open_vocab.json").write_text(json.dumps(out, indent=1))
    (config.out / "open_vocab.md").write_text(results_markdown(out))
    return out


def results_markdown(out: dict[str, Any]) -> str:
    lines = [
        "# The served default on both kinds of video",
        "",
        f"Served default: **{out['served_default']}** — {out['why']}.",
        "",
        "Strict metrics: tags compared by spelling key with the human tags; TED test split (newest talks) and "
        "YouTube test split (channels never trained on). String: the YouTube-ready 500-character tag string.",
        "",
        "| system | TED P@5 | TED nDCG@10 | YouTube P@5 | YouTube R@10 | YouTube nDCG@10 | string tags "
        "| uploader tags in string |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, by in out["results"].items():
        t, y = by["ted"], by["youtube"]
        lines.append(
            f"| {name} | {t['p_at_5']:.3f} | {t['ndcg_at_10']:.3f} | {y['p_at_5']:.3f} | {y['r_at_10']:.3f} "
            f"| {y['ndcg_at_10']:.3f} | {y['youtube_string_tags']:.1f} | {y['youtube_string_recall']:.1%} |"
        )
    if out.get("ranker_cv"):
        cv = out["ranker_cv"]
        lines += [
            "",
            f"Keyphrase ranker, cross-validated grouped by channel on the YouTube training and validation "
            f"channels: P@5 {cv['ranker_p_at_5']:.3f} vs TF-IDF {cv['tfidf_p_at_5']:.3f} on the same candidates. "
            "`keyphrases` is the ranker, `keyphrases_tfidf` the TF-IDF ranking.",
        ]
    lines += [
        "",
        "`+title`: the video's title given with the transcript (a creator knows it at upload time); the "
        "headline is transcript-only.",
        "",
        "Examples (YouTube test):",
        "",
    ]
    for e in out["examples"][:5]:
        lines.append(f"- uploader: {', '.join(e['tags'][:8])}\n  - hybrid: {', '.join(e['hybrid'][:8])}")
    return "\n".join(lines) + "\n"


def report(config: OpenVocabConfig, out: dict[str, Any]) -> list[str]:
    lines = [(config.out / "open_vocab.md").read_text()]
    if out["version"]:
        lines.append(
            f"registered hybrid as version {out['version']}, alias {OPEN_VOCAB_ALIAS!r}; "
            f"production: {out['served_default']}"
        )
    return lines


JOB = Job(
    "open-vocab",
    OpenVocabConfig,
    run,
    report=report,
    summary="the served default: closed vocabulary + transcript keyphrases, merged and registered",
)
