"""How much a transcript sounds like a talk (TED) rather than a creator's video: a video-level feature of the merge.

Whether the closed vocabulary's topics (`technology`, `science`) are the right tags depends on the kind of
video, not on how confident the closed model is: it is confident about `technology` on a phone review too, whose
uploader tags are `iphone 17 pro` and `camera test`. Talks — TED's own, and TEDx or TED uploads on YouTube — are
tagged with topics; creators' videos with their specifics. A linear model over hashed words and punctuation
(stage markers, "subscribe", "guys", sentence length all show) learns the difference from the training splits:
TED training talks against the YouTube training channels' videos. Its probability is one input of the learned
merge (`tubetags.strategies.hybrid`), which learns on held-out videos how far to trust each list given it.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


class TalkStyle:
    def __init__(self, model: Any = None):
        self.model = model

    @staticmethod
    def _pipeline():
        from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        # Case and punctuation kept: how a transcript is written is part of its style.
        words = HashingVectorizer(
            n_features=2**18, alternate_sign=False, lowercase=False, token_pattern=r"(?u)\b\w+\b|[()\[\].,?!]"
        )
        return make_pipeline(
            words,
            TfidfTransformer(sublinear_tf=True),
            LogisticRegression(C=1.0, max_iter=1000, class_weight="balanced"),
        )

    def fit(self, talks: Sequence[str], videos: Sequence[str]) -> TalkStyle:
        if not talks or not videos:
            raise ValueError("the talk style needs examples of both talks and other videos")
        self.model = self._pipeline().fit(list(talks) + list(videos), [1] * len(talks) + [0] * len(videos))
        return self

    def probability(self, texts: Sequence[str]) -> np.ndarray:
        """P(talk) per text; 0.5 (no opinion) when unfitted."""
        if self.model is None or not len(texts):
            return np.full(len(texts), 0.5)
        return self.model.predict_proba(list(texts))[:, 1]

    def save(self, path: Path) -> None:
        with Path(path).open("wb") as handle:
            pickle.dump(self.model, handle)

    @classmethod
    def load(cls, path: Path) -> TalkStyle:
        with Path(path).open("rb") as handle:
            return cls(pickle.load(handle))  # our own artifact, logged with the model
