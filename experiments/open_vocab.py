"""open_vocab: the served default for any creator — closed vocabulary + the video's own phrases + its channel's tags.

    tubetags open-vocab [--closed-alias production] [--k 10] [--loco true] [--ablation true]
    mlflow run . -e open_vocab --env-manager local

The closed model (a registry alias; TED-trained by default) and the keyphrase suggester are joined in a
`HybridTagger`. The video's candidate phrases — from the transcript, the title, the description's opening, its
hashtags, and other channels' tags whose videos it resembles — are ranked by a learned phrase ranker
(tubetags.openvocab.phrase_ranker) fitted on the YouTube training and validation channels, one model per input
setting (transcript only; with the title; with the description), validated grouped by channel (GroupKFold) and
leave-one-channel-out against TF-IDF on the same candidates, with an ablation of its feature groups. The merge
(gradient-boosted trees over the candidates of the closed list, the ranked phrases and, given a channel history,
the channel's reused tags; tubetags.strategies.hybrid) is fitted on videos the closed model never saw — TED
validation talks, and the YouTube channels with their phrases ranked out of fold (by a ranker that never saw
their channel) — and judged on both test splits against the human tags compared by spelling key
(`GPT-5` = `gpt 5`), per input setting, each beside the plain TF-IDF ranking with the gain's 95% bootstrap CI
over channels. The channel history is evaluated within each held-out channel: its videos in an order, the older
ones the history of the newer ones (tubetags.evaluation.unseen_channels says which order and why). Nothing is
fitted on the test channels.

The served default (`production`) is chosen between the closed model and the hybrid: the higher mean P@5 over
the two test sets (transcript only), provided the hybrid's TED P@5 is not below the closed model's (by more than
`ted_tolerance`, 0 by default). The hybrid is registered (strategy `hybrid`, alias `open-vocab`) either way.
Defaults: `OpenVocabConfig` below.
"""

from __future__ import annotations

import copy
import json
import logging
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from tubetags import registry, settings, tracking
from tubetags.config import JobConfig
from tubetags.corpus import Corpus
from tubetags.encoders import Model2VecEncoder
from tubetags.evaluation.unseen_channels import CORPUS_ORDER, gain, histories, newer_half, p_at_k
from tubetags.inputs import PastVideo, Video
from tubetags.jobs import Job
from tubetags.openvocab.history import channel_profile, video_vector
from tubetags.openvocab.keyphrases import KeyphraseSuggester
from tubetags.openvocab.language import detect_language, stop_words
from tubetags.openvocab.phrase_ranker import (
    FEATURE_GROUPS,
    FEATURES,
    TED_EDITORS,
    LabelledVideo,
    PhraseRanker,
    TagVocabulary,
    training_rows,
)
from tubetags.openvocab.static_vectors import StaticVectors
from tubetags.openvocab.talk_style import style_features
from tubetags.openvocab.tree_models import CompiledTrees, fit_trees
from tubetags.predictor import Ranked, fitted
from tubetags.ranking_metrics import evaluate
from tubetags.strategies.hybrid import HybridTagger, LearnedMerge, MergeInputs
from tubetags.tags import channel_key, fit_youtube_tags, tag_key
from tubetags.text import with_context

log = logging.getLogger(__name__)
OPEN_VOCAB_ALIAS = registry.STRATEGY_ALIASES[HybridTagger.strategy]
DATASETS = ("ted", "youtube")
RANKER_SETTINGS = ("transcript", "title")  # YouTube has no descriptions: its rankers fall back to the title's
TEST_SETTINGS = {"ted": ("transcript", "title", "description"), "youtube": ("transcript", "title")}
DATASET_NAMES = {"ted": "TED", "youtube": "YouTube"}
STRING_K = 40  # candidates offered to the 500-character YouTube string
DEPTH = STRING_K // 2  # each list's length in the merge
# Version tags of a registered hybrid: the closed model it serves, and the held-out one its merge was fitted with.
CLOSED_VERSION, CLOSED_HELD_OUT_VERSION = "closed_version", "closed_held_out_version"


class OpenVocabConfig(JobConfig):
    job = "open_vocab"

    closed_alias: str = Field(registry.PRODUCTION, description="registry alias of the closed-vocabulary model")
    k: int = Field(10, ge=1, le=50, description="suggestions scored per video")
    register_model: bool = Field(True, description=f"register the hybrid and point alias {OPEN_VOCAB_ALIAS!r} at it")
    promote: bool = Field(True, description="make the hybrid `production` when it wins on both test sets")
    ted_tolerance: float = Field(0.0, ge=0, description="TED P@5 the hybrid may lose against the closed model")
    folds: int = Field(5, ge=2, description="channel-grouped folds of the ranker's cross-validation")
    ablation: bool = Field(True, description="refit the ranker without each feature group (grouped CV)")
    loco: bool = Field(True, description="leave-one-channel-out table over the training channels")
    history_orders: int = Field(5, ge=1, description="random within-channel orders the history is scored over")
    corpus: Path | None = Field(None, description="corpus folder (default: data/corpus)")
    out: Path = Field(Path("reports"), description="folder for open_vocab.md / open_vocab.json")
    parent_run_id: str | None = Field(None, description="log as a child of this MLflow run (retrain's)")


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


def video_of(row: dict[str, Any], setting: str, history: Sequence[PastVideo] = ()) -> Video:
    """A corpus record as what a creator gives in one input setting."""
    title = row.get("title") if setting != "transcript" else None
    description = row.get("description") if setting == "description" else None
    return Video(row["transcript"], title, description, tuple(history))


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
    columns = ("video_id", "transcript", "title", "description", "tags", "channel")
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


# --- the phrase ranker: fitted, cross-validated by channel, ablated ------------------------------------------


def fold_ranking(
    labelled: Sequence[LabelledVideo],
    train: Sequence[int] | np.ndarray,
    test: Sequence[int] | np.ndarray,
    columns: Sequence[int],
    k: int,
) -> dict[int, list[tuple[str, float]]]:
    """Rankings of the `test` videos by trees fitted on the `train` videos' candidates (feature `columns`)."""
    trees = CompiledTrees(fit_trees(*training_rows([labelled[i] for i in train], columns)))
    out = {}
    for i in test:
        candidates = labelled[i].candidates
        probs = trees.probabilities(candidates.features[:, columns]) if len(candidates) else np.zeros(0)
        order = np.argsort(-probs, kind="stable")[:k]
        out[i] = [(candidates.displays[j], float(probs[j])) for j in order]
    return out


def grouped_folds(channels: Sequence[str], folds: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import GroupKFold

    return list(GroupKFold(min(folds, len(set(channels)))).split(channels, groups=channels))


def out_of_fold(
    labelled: Sequence[LabelledVideo], splits: Sequence[tuple[np.ndarray, np.ndarray]], columns: Sequence[int]
) -> list[Ranked]:
    ranked: list[Ranked] = [[] for _ in labelled]
    for train, test in splits:
        for i, r in fold_ranking(labelled, train, test, columns, DEPTH).items():
            ranked[i] = r
    return ranked


def ranker_data(
    keyphrases: KeyphraseSuggester, ranker: PhraseRanker, rows: Sequence[dict[str, Any]], channels: Sequence[str]
) -> dict[str, list[LabelledVideo]]:
    """Per ranker setting, each labelled video's candidates, its own channel left out of tag-likeness."""
    out = {}
    for setting in RANKER_SETTINGS:
        log.info("phrase ranker: candidates of %d videos (%s)", len(rows), setting)
        out[setting] = [
            LabelledVideo(keyphrases.scored_candidates(video_of(r, setting), channel=c, ranker=ranker), r["tags"], c)
            for r, c in zip(rows, channels)
        ]
    return out


def ablation(
    labelled: dict[str, list[LabelledVideo]], splits, truths: Sequence[Sequence[str]]
) -> dict[str, dict[str, float]]:
    """Grouped-CV P@5 of the ranker with every feature, and without each feature group, per setting."""
    out: dict[str, dict[str, float]] = {}
    for setting, videos in labelled.items():
        runs = {"all features": list(range(len(FEATURES)))}
        for group, names in FEATURE_GROUPS.items():
            if setting == "transcript" and group in ("title", "description"):
                continue  # nothing to remove: they are empty without a title
            runs[f"without {group}"] = [i for i, f in enumerate(FEATURES) if f not in names]
        for name, columns in runs.items():
            log.info("ablation (%s): %s", setting, name)
            out.setdefault(name, {})[setting] = float(p_at_k(out_of_fold(videos, splits, columns), truths).mean())
    return out


# --- merge inputs ---------------------------------------------------------------------------------------------


def youtube_merge_inputs(
    hybrid: HybridTagger,
    rows: Sequence[dict[str, Any]],
    opened: dict[str, list[Ranked]],
    styles: list[float],
    profiles: Sequence[Any] | None = None,
) -> dict[str, MergeInputs]:
    """Per setting, the merge inputs of labelled YouTube videos with their out-of-fold keyphrases."""
    out = {}
    for setting in RANKER_SETTINGS:
        texts = [with_context(r["transcript"], r["title"] if setting != "transcript" else None) for r in rows]
        closed = fitted(hybrid.closed, "the closed model").predict(texts, DEPTH)
        out[setting] = MergeInputs(
            closed,
            opened[setting],
            styles,
            [r["tags"] for r in rows],
            [setting] * len(rows),
            list(profiles) if profiles is not None else [],
        )
    return out


def with_profiles(
    hybrid: HybridTagger, rows, channels, vectors: Sequence[np.ndarray], order: int
) -> tuple[list[int], list[Any]]:
    """(videos that have a history in `order`, each one's channel profile given it); `vectors`: the videos'
    transcript vectors."""
    pasts = histories(rows, channels, order)
    index, profiles = [], []
    for i, (row, past) in enumerate(zip(rows, pasts)):
        if not past:
            continue
        language = detect_language(row["transcript"])
        this = video_vector(vectors[i], hybrid.keyphrases.title_vector(row["title"], language))
        index.append(i)
        profiles.append(channel_profile(past, this, hybrid.keyphrases.vectors, stop_words(language)))
    return index, profiles


# --- the job --------------------------------------------------------------------------------------------------


def run(config: OpenVocabConfig) -> dict[str, Any]:
    import mlflow

    started = time.monotonic()
    tracking.configure("tubetags-open-vocab")
    corpus = Corpus.open(config.corpus or settings.corpus_dir())
    closed_versions = closed_model_versions(config.closed_alias)
    log.info("closed model: served version %s, held-out version %s", *closed_versions)
    served_closed, held_out_closed = (registry.load_version_predictor(v) for v in closed_versions)
    # Fitted and scored with the held-out closed model: a refit one has seen TED validation and test.
    hybrid = HybridTagger(held_out_closed, depth=DEPTH)
    keyphrases = hybrid.keyphrases
    rows = {(d, s): split_rows(corpus, d, s) for d in DATASETS for s in ("train", "valid", "test")}
    # Keyphrase rarity is measured against the training transcripts of both datasets (never valid/test).
    keyphrases.fit_texts(r["transcript"] for d in DATASETS for r in rows[d, "train"])
    keyphrases.vectors = StaticVectors.load(Model2VecEncoder()._ensure())

    # The YouTube channels everything learns from (never the test channels), and what other channels tag.
    labelled = rows["youtube", "train"] + rows["youtube", "valid"]
    channels = [channel_key(r["channel"] or "unknown") for r in labelled]
    truths = [r["tags"] for r in labelled]
    log.info("transcript vectors: %d YouTube videos, %d TED talks", len(labelled), len(rows["ted", "train"]))
    labelled_vectors = [keyphrases.transcript_vector(r["transcript"]) for r in labelled]
    ted_vectors = [keyphrases.transcript_vector(r["transcript"]) for r in rows["ted", "train"]]
    vocabulary = TagVocabulary.build(
        [(c, r["tags"]) for c, r in zip(channels, labelled)] + [(TED_EDITORS, r["tags"]) for r in rows["ted", "train"]],
        labelled_vectors + ted_vectors,
    )
    # The talk style: TED training talks against the YouTube training channels' videos.
    youtube_train = len(rows["youtube", "train"])
    hybrid.style.fit(
        [style_features(v, r["transcript"]) for v, r in zip(ted_vectors, rows["ted", "train"])],
        [style_features(v, r["transcript"]) for v, r in zip(labelled_vectors[:youtube_train], labelled)],
    )
    styles = [
        float(p)
        for p in hybrid.style.probability(
            [style_features(v, r["transcript"]) for v, r in zip(labelled_vectors, labelled)]
        )
    ]

    # The phrase ranker: candidates, grouped CV (out-of-fold rankings for the merge), ablation, final fit.
    ranker = PhraseRanker(vocabulary=vocabulary)
    candidates = ranker_data(keyphrases, ranker, labelled, channels)
    splits = grouped_folds(channels, config.folds)
    all_columns = list(range(len(FEATURES)))
    opened = {s: out_of_fold(candidates[s], splits, all_columns) for s in RANKER_SETTINGS}
    ranker_cv = {
        s: {
            "ranker": float(p_at_k(opened[s], truths).mean()),
            "tfidf": float(p_at_k([v.candidates.tfidf_ranking(5) for v in candidates[s]], truths).mean()),
        }
        for s in RANKER_SETTINGS
    }
    log.info("phrase ranker, grouped by channel: %s", ranker_cv)
    ablated = ablation(candidates, splits, truths) if config.ablation else {}
    for setting in RANKER_SETTINGS:
        ranker.fit(candidates[setting], setting)
    keyphrases.ranker = ranker

    # Merge inputs: TED validation talks (held-out closed model, final ranker), YouTube with out-of-fold rankings,
    # and YouTube with channel profiles (each channel's videos in a random order, older ones the history).
    ted_valid = rows["ted", "valid"]
    ted_merge = {
        s: hybrid.parts([video_of(r, s) for r in ted_valid]).with_truths([r["tags"] for r in ted_valid])
        for s in TEST_SETTINGS["ted"]
    }
    youtube_merge = youtube_merge_inputs(hybrid, labelled, opened, styles)
    history_index, history_profiles = with_profiles(hybrid, labelled, channels, labelled_vectors, order=0)
    history_merge = {s: inputs.subset(history_index) for s, inputs in youtube_merge.items()}
    for inputs in history_merge.values():
        inputs.profiles = list(history_profiles)
    hybrid.fit_merge([*ted_merge.values(), *youtube_merge.values(), *history_merge.values()])

    loco = (
        leave_one_channel_out(candidates, channels, truths, ted_merge, youtube_merge, history_merge, history_index)
        if config.loco
        else {}
    )
    tests = test_results(hybrid, rows, config)
    history_results = history_test(hybrid, rows["youtube", "test"], config.history_orders)
    results = tests["results"]
    winner, why = choose_default(results, config.ted_tolerance)
    wall = time.monotonic() - started
    out_extra = {
        "ranker_cv": ranker_cv,
        "ablation": ablated,
        "loco": loco,
        "settings": tests["settings"],
        "history": history_results,
        "examples": tests["examples"],
        "wall_seconds": wall,
    }
    with tracking.start_run(f"open_vocab-{config.closed_alias}", config.parent_run_id) as active:
        tracking.log_new_params(
            {
                "closed_alias": config.closed_alias,
                "k": config.k,
                "ted_tolerance": config.ted_tolerance,
                "folds": config.folds,
                "history_orders": config.history_orders,
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
            | {f"ranker_cv_{s}_{name}": v for s, by in ranker_cv.items() for name, v in by.items()}
            | {"wall_seconds": wall}
        )
        mlflow.log_dict({"results": results, "served_default": winner, "why": why, **out_extra}, "open_vocab.json")
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
                    f"{closed_versions[1]}), merged with the video's phrases and, when given, its channel's tags."
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
            "version": version,
            **out_extra,
        }
    config.out.mkdir(parents=True, exist_ok=True)
    (config.out / "open_vocab.json").write_text(json.dumps(out, indent=1))
    (config.out / "open_vocab.md").write_text(results_markdown(out))
    return out


def test_results(hybrid: HybridTagger, rows, config: OpenVocabConfig) -> dict[str, Any]:
    """Both test splits in every input setting: each system's strict metrics, and per setting the hybrid and
    the ranker against plain TF-IDF with the gain's CI over channels (YouTube) or talks (TED: one channel)."""
    tfidf = copy.copy(hybrid.keyphrases)
    tfidf.ranker = None  # the same candidates ranked by TF-IDF: the reference a newcomer writes
    results: dict[str, dict[str, dict[str, float]]] = {}
    per_setting: dict[str, dict[str, Any]] = {}
    examples: list[dict[str, Any]] = []
    for dataset in DATASETS:
        test = rows[dataset, "test"]
        truth = [r["tags"] for r in test]
        groups = [channel_key(r["channel"] or "unknown") for r in test] if dataset == "youtube" else None
        for setting in TEST_SETTINGS[dataset]:
            log.info("scoring %s/test (%s): %d videos", dataset, setting, len(test))
            inputs = hybrid.parts([video_of(r, setting) for r in test]).with_truths(truth)
            reference_texts = [
                with_context(r["transcript"], v.title, v.description)
                for r, v in zip(test, (video_of(r, setting) for r in test))
            ]
            systems = {
                "closed": inputs.closed,
                "keyphrases_tfidf": tfidf.suggest(reference_texts, DEPTH),
                "keyphrases": inputs.opened,
                "rrf": [[(t, s) for t, s, _ in r] for r in hybrid.merge_parts(inputs, STRING_K, "rrf")],
                "hybrid": [[(t, s) for t, s, _ in r] for r in hybrid.merge_parts(inputs, STRING_K)],
            }
            suffix = "" if setting == "transcript" else f"+{setting}"
            for name, ranked in systems.items():
                results.setdefault(name + suffix, {})[dataset] = strict_metrics(ranked, truth, config.k)
            reference = p_at_k(systems["keyphrases_tfidf"], truth)
            units = groups or [str(i) for i in range(len(test))]  # TED is one channel: its talks are the units
            per_setting.setdefault(setting, {})[dataset] = {
                name: gain(p_at_k(systems[name], truth), reference, units) for name in ("keyphrases", "hybrid")
            } | {"unit": "channel" if groups else "talk"}
            if dataset == "youtube" and setting == "transcript":
                merged = hybrid.merge_parts(inputs, config.k)
                examples = [
                    {"tags": t[:15], "hybrid": [f"{x} ({src})" for x, _, src in h[:10]]}
                    for t, h in list(zip(truth, merged))[:8]
                ]
    return {"results": results, "settings": per_setting, "examples": examples}


def history_test(hybrid: HybridTagger, test: Sequence[dict[str, Any]], orders: int) -> dict[str, Any]:
    """The channel history within each held-out channel: per order, the newer half scored with the older videos
    as its history, against the same videos without history and against plain TF-IDF."""
    tfidf = copy.copy(hybrid.keyphrases)
    tfidf.ranker = None
    channels = [channel_key(r["channel"] or "unknown") for r in test]
    per_order: dict[str, dict[str, float]] = {}
    pooled: dict[str, list[np.ndarray]] = {}
    pooled_channels: list[str] = []
    for order in [*range(orders), CORPUS_ORDER]:
        pasts = histories(test, channels, order)
        scored = newer_half(pasts, channels)
        rows = [test[i] for i in scored]
        truth = [r["tags"] for r in rows]
        log.info("history, order %s: %d videos scored", order, len(rows))
        systems: dict[str, list[Ranked]] = {}
        for setting in RANKER_SETTINGS:
            tfidf_name, plain_name, told_name = (
                ("keyphrases_tfidf", "hybrid", "hybrid+history")
                if setting == "transcript"
                else ("keyphrases_tfidf+title", "hybrid+title", "hybrid+history+title")
            )
            plain = hybrid.parts([video_of(r, setting) for r in rows])
            told = hybrid.parts([video_of(r, setting, pasts[i]) for r, i in zip(rows, scored)])
            systems[tfidf_name] = tfidf.suggest(
                [with_context(r["transcript"], r["title"] if setting == "title" else None) for r in rows], DEPTH
            )
            systems[plain_name] = [[(t, s) for t, s, _ in r] for r in hybrid.merge_parts(plain, STRING_K)]
            systems[told_name] = [[(t, s) for t, s, _ in r] for r in hybrid.merge_parts(told, STRING_K)]
            if setting == "transcript":
                systems["history_reuse"] = [p.candidates() if p else [] for p in told.profiles]
        name = "corpus_order" if order == CORPUS_ORDER else f"random_{order}"
        per_order[name] = {system: float(p_at_k(ranked, truth).mean()) for system, ranked in systems.items()}
        if order != CORPUS_ORDER:
            for system, ranked in systems.items():
                pooled.setdefault(system, []).append(p_at_k(ranked, truth))
            pooled_channels += [channels[i] for i in scored]
    values = {system: np.concatenate(parts) for system, parts in pooled.items()}
    comparisons = {
        "hybrid+history": "keyphrases_tfidf",
        "hybrid+history+title": "keyphrases_tfidf+title",
        "history_reuse": "keyphrases_tfidf",
    }
    gains = {s: gain(values[s], values[r], pooled_channels) | {"reference": r} for s, r in comparisons.items()}
    gains["history over no history (title)"] = gain(
        values["hybrid+history+title"], values["hybrid+title"], pooled_channels
    ) | {"reference": "hybrid+title"}
    return {"orders": per_order, "gains": gains}


def leave_one_channel_out(
    candidates: dict[str, list[LabelledVideo]],
    channels: Sequence[str],
    truths: Sequence[Sequence[str]],
    ted_merge: dict[str, MergeInputs],
    youtube_merge: dict[str, MergeInputs],
    history_merge: dict[str, MergeInputs],
    history_index: Sequence[int],
) -> dict[str, dict[str, Any]]:
    """Per training channel: the ranker and the merge refitted without it, scored on it (P@5 of TF-IDF, the
    ranker, the hybrid; transcript only, with the title, with the title and its history). The merge of a fold
    learns from the other channels' out-of-fold rankings (5-fold, over all training channels)."""
    columns = list(range(len(FEATURES)))
    table: dict[str, dict[str, Any]] = {}
    for channel in sorted(set(channels)):
        held = [i for i, c in enumerate(channels) if c == channel]
        rest = [i for i, c in enumerate(channels) if c != channel]
        log.info("leave one channel out: %s (%d videos)", channel, len(held))
        ranked = {s: fold_ranking(candidates[s], rest, held, columns, DEPTH) for s in RANKER_SETTINGS}
        rest_history = [j for j, i in enumerate(history_index) if channels[i] != channel]
        held_history = {i: j for j, i in enumerate(history_index) if channels[i] == channel}
        merge = LearnedMerge.fit(
            [ted_merge["transcript"], ted_merge["title"]]
            + [youtube_merge[s].subset(rest) for s in RANKER_SETTINGS]
            + [history_merge["title"].subset(rest_history)]
        )
        truth = [truths[i] for i in held]
        row: dict[str, Any] = {"videos": len(held)}
        row["tfidf"] = float(
            p_at_k([candidates["transcript"][i].candidates.tfidf_ranking(5) for i in held], truth).mean()
        )
        row["ranker"] = float(p_at_k([ranked["transcript"][i] for i in held], truth).mean())
        for setting in RANKER_SETTINGS:
            inputs = youtube_merge[setting]
            merged = [merge.merge(inputs.closed[i], ranked[setting][i], DEPTH, inputs.styles[i], setting) for i in held]
            row[f"hybrid_{setting}"] = float(p_at_k([[(t, s) for t, s, _ in m] for m in merged], truth).mean())
        scored = [i for i in held if i in held_history]
        if scored:
            inputs = history_merge["title"]
            merged = [
                merge.merge(
                    inputs.closed[held_history[i]],
                    ranked["title"][i],
                    DEPTH,
                    inputs.styles[held_history[i]],
                    "title",
                    inputs.profiles[held_history[i]],
                )
                for i in scored
            ]
            row["hybrid_title_history"] = float(
                p_at_k([[(t, s) for t, s, _ in m] for m in merged], [truths[i] for i in scored]).mean()
            )
        table[channel] = row
    return table


# --- the report -----------------------------------------------------------------------------------------------


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A markdown table under a `###` title, as lines."""
    return [
        "",
        f"### {title}",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def _ci(g: dict[str, float]) -> str:
    return f"{g['gain']:+.3f} [{g['gain_low']:+.3f}, {g['gain_high']:+.3f}]"


def results_markdown(out: dict[str, Any]) -> str:
    lines = [
        "# The served default on channels it never saw, and on TED talks",
        "",
        f"Served default: **{out['served_default']}** — {out['why']}.",
        "",
        "Strict P@5: the first 5 suggestions compared with the uploader's tags by spelling key (`GPT-5` = `gpt 5`). "
        "YouTube test: channels no model was fitted on; TED test: the newest talks. Plain TF-IDF: the transcript's "
        "candidate phrases (with the title or description prepended in those settings) ranked by TF-IDF, nothing "
        "learned. Gains: 95% bootstrap CI over channels (YouTube) or talks (TED, one channel).",
        "",
        "## Every input setting",
        "",
        "| test | input | videos | channels | plain TF-IDF | learned ranker | gain over TF-IDF | served default "
        "(hybrid) | gain over TF-IDF |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for setting, by in out["settings"].items():
        for dataset, g in by.items():
            r, h = g["keyphrases"], g["hybrid"]
            lines.append(
                f"| {dataset} | {setting} | {h['videos']} | {h['channels'] if g['unit'] == 'channel' else 1} "
                f"| {h['reference_p_at_5']:.3f} | {r['p_at_5']:.3f} | {_ci(r)} | **{h['p_at_5']:.3f}** | {_ci(h)} |"
            )
    lines += [
        "",
        "YouTube's data has no descriptions: `description` is measured on TED only.",
        "",
        "## With the channel's history (held-out YouTube channels)",
        "",
        "Within each test channel, its videos in an order; the newer half is scored, each video with the videos "
        "before it as its history (title and tags). There are no upload dates in the data: random orders "
        f"(mean over {len([o for o in out['history']['orders'] if o.startswith('random')])}), and the corpus's "
        "row order as a second order.",
        "",
    ]
    orders = out["history"]["orders"]
    systems = list(next(iter(orders.values())))
    lines += ["| order | " + " | ".join(systems) + " |", "|---|" + "---|" * len(systems)]
    for name, by in orders.items():
        lines.append(f"| {name} | " + " | ".join(f"{by[s]:.3f}" for s in systems) + " |")
    lines += [
        "",
        "| system | P@5 (random orders) | reference | its P@5 | gain (CI over channels) |",
        "|---|---|---|---|---|",
    ]
    for system, g in out["history"]["gains"].items():
        lines.append(f"| {system} | {g['p_at_5']:.3f} | {g['reference']} | {g['reference_p_at_5']:.3f} | {_ci(g)} |")
    lines += [
        "",
        "## All systems, strict metrics",
        "",
        "| system | TED P@5 | TED nDCG@10 | YouTube P@5 | YouTube R@10 | YouTube nDCG@10 | string tags "
        "| uploader tags in string |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, by in out["results"].items():
        t, y = by.get("ted"), by.get("youtube")
        ted = f"{t['p_at_5']:.3f} | {t['ndcg_at_10']:.3f}" if t else "— | —"
        yt = (
            f"{y['p_at_5']:.3f} | {y['r_at_10']:.3f} | {y['ndcg_at_10']:.3f} | {y['youtube_string_tags']:.1f} "
            f"| {y['youtube_string_recall']:.1%}"
            if y
            else "— | — | — | — | —"
        )
        lines.append(f"| {name} | {ted} | {yt} |")
    cv = out["ranker_cv"]
    lines += [
        "",
        "## The phrase ranker, validated by channel (YouTube training and validation channels)",
        "",
        "Grouped k-fold (every fold scored by a ranker that never saw its channels): "
        + "; ".join(f"{s}: ranker {v['ranker']:.3f} vs TF-IDF {v['tfidf']:.3f}" for s, v in cv.items())
        + ".",
    ]
    if out.get("ablation"):
        settings_ = list(next(iter(out["ablation"].values())))
        rows = [
            [name, *(f"{by[s]:.3f}" if s in by else "—" for s in settings_)] for name, by in out["ablation"].items()
        ]
        lines += table(
            "Ablation: which features carry (grouped-CV P@5 without each group)", ["ranker", *settings_], rows
        )
    if out.get("loco"):
        columns = ["tfidf", "ranker", "hybrid_transcript", "hybrid_title", "hybrid_title_history"]
        rows = [
            [channel or "(no name)", str(row["videos"]), *(f"{row[c]:.3f}" if c in row else "—" for c in columns)]
            for channel, row in out["loco"].items()
        ]
        means = [np.mean([r[c] for r in out["loco"].values() if c in r]) for c in columns]
        rows.append(["mean over channels", "", *(f"{m:.3f}" for m in means)])
        lines += table(
            "Leave one channel out (ranker and merge refitted without the channel)",
            ["channel", "videos", *columns],
            rows,
        )
    lines += ["", "Examples (YouTube test, transcript only):", ""]
    for e in out["examples"][:5]:
        lines.append(f"- uploader: {', '.join(e['tags'][:8])}\n  - hybrid: {', '.join(e['hybrid'][:8])}")
    lines += ["", f"Wall time of the job: {out['wall_seconds'] / 60:.1f} min."]
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
    summary="the served default: closed vocabulary + the video's phrases + its channel's tags, merged and registered",
)
