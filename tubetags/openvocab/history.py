"""A channel's history as a profile of its tags: the ones its creator reuses, and those of its nearest past videos.

Creators tag a new video much like their earlier ones: a series name, the topics of the channel, the products of
the moment. Given the channel's earlier videos (title and tags each, `tubetags.inputs.PastVideo`), the profile
says per tag how often the channel used it (`share`), how much the past videos closest to this one used it
(`neighbours`: similarity-weighted over the `NEIGHBOURS` nearest, by static word vectors of their titles and
tags against this video's transcript and title), and how close the closest past video with it is. Per channel:
how many past videos, and how many of its tags its titles contain (a channel whose tags repeat its titles). The
learned merge (`tubetags.strategies.hybrid`) reads these beside its other features; without a history the merge
without them answers, so nothing changes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tubetags.inputs import PastVideo
from tubetags.openvocab.static_vectors import StaticVectors, unit, unit_rows
from tubetags.tags import tag_key

NEIGHBOURS = 5
CANDIDATES = 30  # history tags offered to the merge: the most reused, then the nearest videos' tags
HISTORY_FEATURES = (
    "history_share",
    "history_reciprocal_rank",
    "history_neighbours",
    "history_best_similarity",
    "in_history",
    "history_videos",
    "history_title_rate",
)
_MISSING = float("nan")


@dataclass(frozen=True)
class ChannelProfile:
    names: dict[str, str]  # tag key -> the channel's most used spelling, most reused tags first
    share: dict[str, float]
    neighbours: dict[str, float]
    best_similarity: dict[str, float]
    videos: int
    title_rate: float  # share of past tags their video's title contains

    def candidates(self) -> list[tuple[str, float]]:
        """The tags offered to the merge (spelling, share): the most reused ones and the nearest videos' ones."""
        keys = list(self.names)[:CANDIDATES]
        nearest = sorted(self.neighbours, key=lambda key: -self.neighbours[key])
        keys += [key for key in nearest if key not in set(keys)][:CANDIDATES]
        return [(self.names[key], self.share[key]) for key in keys]

    def features(self, key: str, rank: dict[str, int]) -> list[float]:
        """HISTORY_FEATURES of one candidate tag (by spelling key); `rank`: its place among the most reused."""
        return [
            self.share.get(key, 0.0),
            1.0 / (rank[key] + 1) if key in rank else 0.0,
            self.neighbours.get(key, 0.0),
            self.best_similarity.get(key, _MISSING),
            float(key in self.share),
            math.log1p(self.videos),
            self.title_rate,
        ]


def video_vector(transcript: np.ndarray, title: np.ndarray | None) -> np.ndarray:
    """What a new video is about, to find its nearest past videos: its transcript's and title's vectors."""
    return transcript if title is None else unit(transcript + title)


def past_vectors(history: Sequence[PastVideo], vectors: StaticVectors, stop: frozenset[str]) -> np.ndarray:
    """[videos, dim] unit vectors of each past video's title and tags (content words)."""
    bags = []
    for video in history:
        words = [w for w in (video.title + " " + " ".join(video.tags)).casefold().split() if w not in stop]
        bags.append([w.strip(".,:;!?()[]\"'|#") for w in words])
    vocabulary = list(dict.fromkeys(w for bag in bags for w in bag if w))
    if not vocabulary:
        return np.zeros((len(history), vectors.dim), np.float32)
    index = {w: i for i, w in enumerate(vocabulary)}
    word_matrix = unit_rows(vectors.word_vectors(vocabulary))
    counts = np.zeros((len(history), len(vocabulary)), np.float32)
    for row, bag in enumerate(bags):
        for w in bag:
            if w:
                counts[row, index[w]] += 1.0
    return unit_rows(counts @ word_matrix)


def channel_profile(
    history: Sequence[PastVideo], this_video: np.ndarray | None, vectors: StaticVectors | None, stop: frozenset[str]
) -> ChannelProfile:
    """The profile of a channel's history as seen from one new video (`this_video`: its unit vector)."""
    counts: dict[str, int] = {}
    spellings: dict[str, dict[str, int]] = {}
    in_title = total = 0
    past_keys = []
    for video in history:
        keys = {}
        for tag in video.tags:
            key = tag_key(tag)
            if key and key not in keys:
                keys[key] = tag
        past_keys.append(keys)
        title_key = tag_key(video.title)
        for key, tag in keys.items():
            counts[key] = counts.get(key, 0) + 1
            spelling = spellings.setdefault(key, {})
            spelling[tag] = spelling.get(tag, 0) + 1
            in_title += key in title_key
            total += 1
    n = max(len(history), 1)
    order = sorted(counts, key=lambda key: -counts[key])
    names = {key: max(spellings[key].items(), key=lambda kv: kv[1])[0] for key in order}
    neighbours: dict[str, float] = {}
    best: dict[str, float] = {}
    if history and vectors is not None and this_video is not None and np.any(this_video):
        similarity = past_vectors(history, vectors, stop) @ unit(this_video)
        for i in np.argsort(-similarity, kind="stable")[:NEIGHBOURS]:
            for key in past_keys[i]:
                neighbours[key] = neighbours.get(key, 0.0) + max(float(similarity[i]), 0.0)
        weight = sum(max(float(s), 0.0) for s in np.sort(similarity)[::-1][:NEIGHBOURS]) or 1.0
        neighbours = {key: v / weight for key, v in neighbours.items()}
        for i, keys in enumerate(past_keys):
            for key in keys:
                best[key] = max(best.get(key, -1.0), float(similarity[i]))
    return ChannelProfile(
        names,
        {key: counts[key] / n for key in order},
        neighbours,
        best,
        len(history),
        in_title / total if total else 0.0,
    )
