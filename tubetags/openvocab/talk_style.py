"""How much a transcript sounds like a talk (TED) rather than a creator's video: a video-level feature of the merge.

Whether the closed vocabulary's topics (`technology`, `science`) are the right tags depends on the kind of
video, not on how confident the closed model is: it is confident about `technology` on a phone review too, whose
uploader tags are `iphone 17 pro` and `camera test`. Talks — TED's own, and TEDx or TED uploads on YouTube — are
tagged with topics; creators' videos with their specifics. A logistic regression learns the difference from the
training splits (TED training talks against the YouTube training channels' videos) from what the keyphrases
compute anyway: the transcript's content-word vector (static MiniLM vectors: what it talks about and how), and
how it is written — punctuation and capitals per word (edited transcripts vs auto-captions), its length. Its
probability is one input of the learned merge (`tubetags.strategies.hybrid`), which learns on held-out videos
how far to trust each list given it. (It read hashed words and punctuation before: ~4 ms of a request.)
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

# What a capitalised word starts with (Latin script): A-Z, À-Ö, Ø-Þ.
_CAPITALS = frozenset(map(chr, [*range(ord("A"), ord("Z") + 1), *range(0xC0, 0xD7), *range(0xD8, 0xDF)]))


def style_features(vector: np.ndarray, text: str) -> np.ndarray:
    """The talk style's input: the content-word vector, then punctuation and capitals per word, log words."""
    tokens = text.split()
    words = len(tokens)
    n = max(words, 1)
    punctuation = sum(text.count(mark) for mark in ".,?!") / n
    # Words whose first letter is a capital: what `(?<!\S)[A-ZÀ-ÖØ-Þ]` counted, without a regex over every char.
    capitals = sum(1 for token in tokens if token[0] in _CAPITALS) / n
    return np.concatenate([np.asarray(vector, np.float64), [punctuation, capitals, math.log1p(words)]])


class TalkStyle:
    def __init__(self, model: Any = None):
        self.model = model

    def fit(self, talks: Sequence[np.ndarray], videos: Sequence[np.ndarray]) -> TalkStyle:
        """`talks`, `videos`: `style_features` of TED talks and of creators' videos."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        if not len(talks) or not len(videos):
            raise ValueError("the talk style needs examples of both talks and other videos")
        x = np.vstack([*talks, *videos])
        y = [1] * len(talks) + [0] * len(videos)
        model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000, class_weight="balanced"))
        self.model = model.fit(x, y)
        return self

    def probability(self, features: Sequence[np.ndarray]) -> np.ndarray:
        """P(talk) per video (`style_features` each); 0.5 (no opinion) when unfitted."""
        if self.model is None or not len(features):
            return np.full(len(features), 0.5)
        scaler, linear = self.model[0], self.model[-1]  # by hand: the pipeline's checks cost more than the sum
        z = (np.vstack(features) - scaler.mean_) / scaler.scale_
        return 1.0 / (1.0 + np.exp(-(z @ linear.coef_[0] + linear.intercept_[0])))

    def of(self, vector: np.ndarray | None, text: str) -> float:
        """P(talk) of one transcript from its content-word vector; a talk style saved before this version (hashed
        words and punctuation) reads the text itself. 0.5 when unfitted or without a vector."""
        if self.model is not None and type(self.model[0]).__name__ == "HashingVectorizer":
            return float(self.model.predict_proba([text])[0, 1])
        if vector is None:
            return 0.5
        return float(self.probability([style_features(vector, text)])[0])

    def save(self, path: Path) -> None:
        with Path(path).open("wb") as handle:
            pickle.dump(self.model, handle)

    @classmethod
    def load(cls, path: Path) -> TalkStyle:
        with Path(path).open("rb") as handle:
            return cls(pickle.load(handle))  # our own artifact, logged with the model
