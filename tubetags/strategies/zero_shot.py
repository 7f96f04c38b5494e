"""(d) Zero-shot: a fully pretrained sentence encoder, no training on our labels.

A tag's score is the cosine similarity between the transcript (MiniLM chunk-mean embedding)
and the tag's name, mapped from [-1, 1] to [0, 1]. The only things taken from the corpus are
the tag names to choose from (the vocabulary); `fit` encodes them and learns nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tubetags.corpus import CorpusSplit
from tubetags.encoders import MiniLMEncoder
from tubetags.predictor import Ranked, TagPredictor
from tubetags.strategies.ranking import top_k


class ZeroShotTagger(TagPredictor):
    strategy = "zero_shot"
    deterministic = True

    def __init__(self, max_chunks: int = 4):
        self.max_chunks = max_chunks
        self.encoder = MiniLMEncoder(max_chunks=max_chunks)
        self.vocabulary: list[str] = []
        self.tag_vectors: np.ndarray | None = None

    def init_params(self) -> dict[str, Any]:
        return {"max_chunks": self.max_chunks}

    def params(self) -> dict[str, Any]:
        return self.init_params() | {"encoder": self.encoder.name, "score": "(cos+1)/2"}

    def fit(self, train: CorpusSplit, valid: CorpusSplit | None, vocabulary: Sequence[str]):
        self.vocabulary = list(vocabulary)
        self.tag_vectors = self.encoder.encode_phrases(self.vocabulary)
        return {}

    def scores(self, transcript_vectors: np.ndarray) -> np.ndarray:
        return (transcript_vectors @ self.tag_vectors.T + 1.0) / 2.0

    def predict(self, transcripts: Sequence[str], k: int = 10) -> list[Ranked]:
        if not len(transcripts):
            return []
        return top_k(self.scores(self.encoder.encode(list(transcripts))), self.vocabulary, k)

    def save_state(self, directory: Path) -> None:
        np.save(directory / "tag_vectors.npy", self.tag_vectors)
        (directory / "zero_shot.json").write_text(json.dumps({"vocabulary": self.vocabulary}))

    def load_state(self, directory: Path) -> None:
        self.vocabulary = json.loads((directory / "zero_shot.json").read_text())["vocabulary"]
        self.tag_vectors = np.load(directory / "tag_vectors.npy")
