"""Scoring tag suggestions on channels the models never saw: strict P@5 per video, gains with CIs over channels,
and a channel's videos in an order so that older ones can serve as the history of newer ones.

The shared YouTube data has no upload dates (its columns are video_id, title, channel, tags, transcript; the
corpus's `published` is empty for every YouTube video), and its row order is no upload order either (it
concatenates several collections: within one channel, videos of October 2025 come before July's and after
March's). So "older" cannot be known. The videos of a channel are put in a random order (seeded per channel and
order number); each video's history is the videos before it, and the newer half of the order is scored. Over
several orders this is the expected score of a creator whose past videos are a random half of the channel's: fair
to the method, and optimistic compared with a true time order when a channel's topics drift (a run of iPhone 17
videos in one month). The corpus's row order is reported beside it as a second order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from tubetags.evaluation.intervals import cluster_bootstrap_interval
from tubetags.inputs import PastVideo
from tubetags.tags import tag_key

CORPUS_ORDER = -1  # `order` value: the corpus's row order instead of a random one


def channel_order(video_ids: Sequence[str], channel: str, order: int) -> list[int]:
    """Indices of one channel's videos, oldest first, in order number `order` (CORPUS_ORDER: as given)."""
    if order == CORPUS_ORDER:
        return list(range(len(video_ids)))
    seed = int.from_bytes(hashlib.sha256(f"{channel}\x00{order}".encode()).digest()[:8], "little")
    return [int(i) for i in np.random.default_rng(seed).permutation(len(video_ids))]


def histories(rows: Sequence[dict[str, Any]], channels: Sequence[str], order: int) -> list[tuple[PastVideo, ...]]:
    """Per video, its channel's videos before it in order `order` (title and tags), oldest first."""
    out: list[tuple[PastVideo, ...]] = [() for _ in rows]
    by_channel: dict[str, list[int]] = {}
    for i, channel in enumerate(channels):
        by_channel.setdefault(channel, []).append(i)
    for channel, members in by_channel.items():
        ordered = [members[j] for j in channel_order([rows[i]["video_id"] for i in members], channel, order)]
        past: list[PastVideo] = []
        for i in ordered:
            out[i] = tuple(past)
            past.append(PastVideo(rows[i]["title"] or "", tuple(rows[i]["tags"])))
    return out


def newer_half(histories_of: Sequence[Sequence[PastVideo]], channels: Sequence[str]) -> list[int]:
    """The videos scored with a history: those with at least half of their channel's other videos before them."""
    sizes: dict[str, int] = {}
    for channel in channels:
        sizes[channel] = sizes.get(channel, 0) + 1
    return [i for i, (h, c) in enumerate(zip(histories_of, channels)) if sizes[c] > 1 and len(h) >= sizes[c] // 2]


def p_at_k(ranked: Sequence[Sequence[tuple[str, float]]], truths: Sequence[Sequence[str]], k: int = 5) -> np.ndarray:
    """Strict P@k per video: the first k suggestions' spelling keys against the uploader's tags' keys."""
    out = []
    for suggestions, truth in zip(ranked, truths):
        keys = {tag_key(t) for t in truth}
        out.append(len({tag_key(t) for t, _ in suggestions[:k]} & keys) / k)
    return np.array(out, dtype=float)


def gain(system: np.ndarray, reference: np.ndarray, channels: Sequence[str]) -> dict[str, float]:
    """Mean P@5 of a system and a reference, and the gain with a 95% bootstrap CI over channels."""
    mean, low, high = cluster_bootstrap_interval(system - reference, channels)
    return {
        "p_at_5": float(system.mean()),
        "reference_p_at_5": float(reference.mean()),
        "gain": mean,
        "gain_low": low,
        "gain_high": high,
        "videos": len(system),
        "channels": len(set(channels)),
    }
