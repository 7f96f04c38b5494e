"""(d) Zero-shot: a fully pretrained sentence encoder, no training on our labels.

A tag's score is the cosine similarity between the transcript (MiniLM chunk-mean embedding, or
with `encoder=model2vec` the mean of static token vectors distilled from MiniLM over the whole
transcript) and the tag's name, mapped from [-1, 1] to [0, 1]. With `center` (default: on for
model2vec) the mean train transcript vector is subtracted first: model2vec means of long texts share
one dominant direction (pairwise cosine ≈ 0.9 between talks) that otherwise outweighs the topic.
The only things taken from the corpus are the tag names to choose from (the vocabulary) and, with
`center`, that mean of the (unlabelled) train transcripts; nothing is learned from the tags.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from typing_extensions import override

from tubetags.corpus import CorpusSplit
from tubetags.encoders import MINILM, MODEL2VEC, Model2VecEncoder, cached_shard_embeddings, encoder_from_param
from tubetags.predictor import Ranked, TagPredictor, fitted
from tubetags.strategies.ranking import top_k


class ZeroShotTagger(TagPredictor):
    strategy = "zero_shot"
    deterministic = True

    def __init__(self, max_chunks: int | None = 4, encoder: str = MINILM, center: bool | None = None):
        self.max_chunks = max_chunks
        self.encoder_param = encoder  # "minilm" or "model2vec" (anything with encode_phrases)
        self.encoder = encoder_from_param(encoder, max_chunks=max_chunks)
        self.center = bool(self.encoder.spec()["kind"] == MODEL2VEC if center is None else center)
        self.transcript_mean: np.ndarray | None = None  # unlabelled train transcripts only, with `center`
        self.vocabulary: list[str] = []
        self.tag_vectors: np.ndarray | None = None

    def init_params(self) -> dict[str, Any]:
        return {"max_chunks": self.max_chunks, "encoder": self.encoder_param, "center": self.center}

    def params(self) -> dict[str, Any]:
        return self.init_params() | {"encoder_name": self.encoder.name, "score": "(cos+1)/2"}

    @override
    def fit(self, train: CorpusSplit, valid: CorpusSplit | None, vocabulary: Sequence[str]):
        self.vocabulary = list(vocabulary)
        self.tag_vectors = self.encoder.encode_phrases(self.vocabulary)
        if self.center:
            total: np.ndarray | None = None
            count = 0
            for batch in train.batches(64, columns=("transcript",)):
                vectors = self.encoder.encode(batch["transcript"])
                total = vectors.sum(axis=0) if total is None else total + vectors.sum(axis=0)
                count += len(vectors)
            self.transcript_mean = (fitted(total, "the transcript mean") / max(count, 1)).astype(np.float32)
        return {}

    def scores(self, transcript_vectors: np.ndarray) -> np.ndarray:
        if self.transcript_mean is not None:
            centred = transcript_vectors - self.transcript_mean
            transcript_vectors = centred / np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-12)
        return (transcript_vectors @ fitted(self.tag_vectors, "the tag vectors").T + 1.0) / 2.0

    def predict(self, transcripts: Sequence[str], k: int = 10) -> list[Ranked]:
        if not len(transcripts):
            return []
        return top_k(self.scores(self.encoder.encode(list(transcripts))), self.vocabulary, k)

    @override
    def rank_split(self, split: CorpusSplit, k: int = 10, batch_size: int = 32) -> Iterator[Ranked]:
        """Scores over the per-shard cached encodings (shared with (c) when the encoder is the same)."""
        for vectors, _ in cached_shard_embeddings(split, self.encoder):
            yield from top_k(self.scores(vectors), self.vocabulary, k)

    def save_state(self, directory: Path) -> None:
        np.save(directory / "tag_vectors.npy", fitted(self.tag_vectors, "the tag vectors"))
        if self.transcript_mean is not None:
            np.save(directory / "transcript_mean.npy", self.transcript_mean)
        spec = self.encoder.spec()
        if spec["kind"] == MODEL2VEC:  # the distilled vectors travel with the model
            self.encoder.name  # noqa: B018 (distils them first if they are missing)
            shutil.copytree(spec["path"], directory / "encoder", dirs_exist_ok=True)
            spec = {**spec, "path": "encoder"}
        (directory / "zero_shot.json").write_text(json.dumps({"encoder": spec, "vocabulary": self.vocabulary}))

    def load_state(self, directory: Path) -> None:
        meta = json.loads((directory / "zero_shot.json").read_text())
        spec = meta.get("encoder", {})
        if spec.get("kind") == MODEL2VEC and spec.get("path") == "encoder":
            # The vectors saved with the model, never the default location (other vectors, or none, there).
            self.encoder = Model2VecEncoder(directory / "encoder")
        self.vocabulary = meta["vocabulary"]
        self.tag_vectors = np.load(directory / "tag_vectors.npy")
        if (directory / "transcript_mean.npy").exists():
            self.transcript_mean = np.load(directory / "transcript_mean.npy")
