"""Error analysis of one system's test predictions: what it gets wrong, where, and for which tags."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tubetags.evaluation.prediction_log import PredictionRow, ranked, truths
from tubetags.predictor import Ranked
from tubetags.ranking_metrics import per_item

ERROR_K = 5  # a creator reads the first few suggestions: errors are counted in the top 5
HEAD_SHARE = 0.2  # head tags: the 20% most frequent in train


def error_analysis(
    rows: Sequence[PredictionRow], tag_train_frequency: Mapping[str, int] | None, k: int = ERROR_K
) -> dict[str, Any]:
    """Statistics of one system's test predictions (top-k suggestions against the true tags)."""
    suggestions, true_tags = ranked(rows), truths(rows)
    items = per_item(suggestions, true_tags)
    n = len(rows)
    suggested: Counter[str] = Counter()
    false_pos: Counter[str] = Counter()
    false_neg: Counter[str] = Counter()
    carried: Counter[str] = Counter()
    for pred, truth in zip(suggestions, true_tags):
        top = [t for t, _ in pred[:k]]
        suggested.update(top)
        false_pos.update(t for t in top if t not in truth)
        false_neg.update(t for t in set(truth) if t not in top)
        carried.update(set(truth))
    fps = [
        {"tag": t, "talks": c, "share_of_talks": c / n, "precision_when_suggested": 1 - c / suggested[t]}
        for t, c in false_pos.most_common(10)
    ]
    fns = [
        {"tag": t, "missed": c, "talks_with_tag": carried[t], "missed_share": c / carried[t]}
        for t, c in false_neg.most_common(10)
    ]
    p_at_k, ndcg_at_k = items[f"p_at_{k}"], items[f"ndcg_at_{k}"]
    order = sorted(range(n), key=lambda i: (p_at_k[i], ndcg_at_k[i], rows[i].video_id))
    worst = [
        {
            "video_id": rows[i].video_id,
            "words": rows[i].words,
            "p_at_k": float(p_at_k[i]),
            "ndcg_at_k": float(ndcg_at_k[i]),
            "predicted": [t for t, _ in suggestions[i][:k]],
            "true": true_tags[i],
        }
        for i in order[:5]
    ]
    words = np.array([r.words for r in rows], dtype=float)
    edges = np.quantile(words, [0, 0.25, 0.5, 0.75, 1.0])
    bucket = np.searchsorted(edges[1:-1], words, side="right")  # 0..3: quartile of length
    by_length = [
        {
            "quartile": q + 1,
            "words_from": int(words[bucket == q].min()),
            "words_to": int(words[bucket == q].max()),
            "talks": int((bucket == q).sum()),
            "p_at_k": float(p_at_k[bucket == q].mean()),
        }
        for q in range(4)
        if (bucket == q).any()
    ]
    out = {
        "k": k,
        "talks": n,
        "false_positives": fps,
        "false_negatives": fns,
        "worst": worst,
        "by_length": by_length,
        "no_hit_talks": int((p_at_k == 0).sum()),
        "mean_p_at_k": float(p_at_k.mean()),
    }
    if tag_train_frequency:
        out["by_frequency"] = frequency_recall(suggestions, true_tags, tag_train_frequency, k)
    return out


def frequency_recall(
    suggestions: Sequence[Ranked], true_tags: Sequence[Sequence[str]], tag_train_frequency: Mapping[str, int], k: int
) -> dict[str, Any]:
    """Recall@k of true tags, head (top 20% by train frequency) vs tail; micro over tag occurrences."""
    by_freq = sorted(tag_train_frequency.values(), reverse=True)
    threshold = by_freq[max(math.ceil(HEAD_SHARE * len(by_freq)), 1) - 1]  # head: >= this many train examples
    hits = {"head": [0, 0], "tail": [0, 0]}
    for pred, truth in zip(suggestions, true_tags):
        top = {t for t, _ in pred[:k]}
        for tag in set(truth):
            if tag in tag_train_frequency:
                group = "head" if tag_train_frequency[tag] >= threshold else "tail"
                hits[group][0] += tag in top
                hits[group][1] += 1
    return {
        "threshold": int(threshold),
        **{f"{g}_recall": (h / t if t else None) for g, (h, t) in hits.items()},
        **{f"{g}_occurrences": t for g, (_, t) in hits.items()},
    }


def failure_sentences(strategy: str, a: Mapping[str, Any]) -> list[str]:
    """A few typical failures in words, generated from the statistics."""
    k, out = a["k"], []
    if a["false_positives"]:
        fp = a["false_positives"][0]
        out.append(
            f"{strategy} over-predicts the tag '{fp['tag']}': a false positive in {fp['share_of_talks']:.0%} "
            f"of test talks (right only {fp['precision_when_suggested']:.0%} of the times it is in the "
            f"top {k})."
        )
    if a["false_negatives"]:
        fn = a["false_negatives"][0]
        out.append(
            f"'{fn['tag']}' is the most missed true tag: absent from the top {k} in {fn['missed']} of the "
            f"{fn['talks_with_tag']} talks that carry it."
        )
    freq = a.get("by_frequency")
    if freq and freq["head_recall"] is not None and freq["tail_recall"] is not None:
        gap = freq["head_recall"] - freq["tail_recall"]
        verdict = "the model favours frequent tags" if gap > 0.05 else "rare tags are not clearly disadvantaged"
        out.append(
            f"Tail tags (< {freq['threshold']} train examples) are recalled at {freq['tail_recall']:.2f} vs "
            f"{freq['head_recall']:.2f} for head tags in the top {k}: {verdict}."
        )
    if len(a["by_length"]) >= 2:
        short, long_ = a["by_length"][0], a["by_length"][-1]
        diff = long_["p_at_k"] - short["p_at_k"]
        trend = (
            "longer talks are easier"
            if diff > 0.05
            else "shorter talks are easier"
            if diff < -0.05
            else "length makes little difference"
        )
        out.append(
            f"P@{k} is {short['p_at_k']:.2f} on the shortest quarter "
            f"({short['words_from']}–{short['words_to']} words) vs {long_['p_at_k']:.2f} on the longest "
            f"({long_['words_from']}–{long_['words_to']}): {trend}."
        )
    out.append(f"{a['no_hit_talks']} of {a['talks']} test talks get no correct tag in the top {k}.")
    return out
