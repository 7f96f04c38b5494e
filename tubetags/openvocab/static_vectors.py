"""Word and phrase vectors for the keyphrases, from the model2vec vectors distilled from MiniLM, in NumPy.

The served default must stay cheap (≤ 15 ms of CPU for a new 2,000-word transcript), so it does not run the
model2vec tokenizer over the transcript (~6 ms): a word's vector is the sum of its word pieces' vectors (greedy
longest-match WordPiece over MiniLM's uncased vocabulary, as BERT splits words), and a word's pieces are looked
up once per process. A text's vector is the count-weighted mean of its content words' vectors (the one-word
keyphrase candidates: stop words and fillers carry the direction every text shares), a phrase's the mean of its
words'. What they give the ranker: how central a phrase is to what the whole video is about (cosine to the
transcript's vector), how close it is to the title, and which of a channel's past videos this one resembles.
"""

from __future__ import annotations

import json
import re
import shutil
import unicodedata
from collections.abc import Iterable, Sequence
from itertools import chain
from pathlib import Path

import numpy as np
import scipy.sparse as sp

VECTORS_FILE, VOCAB_FILE = "model.safetensors", "tokenizer.json"
_PIECES = re.compile(r"[^\W_]+", re.UNICODE)  # BERT's pre-tokenizer splits at punctuation: 'gpt-5' -> gpt, 5
_CACHE_MAX = 200_000  # words whose pieces are remembered


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


class StaticVectors:
    def __init__(self, vectors: np.ndarray, vocab: dict[str, int], source: Path | None = None):
        # [vocabulary, dim]: distilled as float16, held as float32 (exactly the same values; 15 MB more) so that
        # summing a text's pieces converts nothing per request.
        self.vectors = np.asarray(vectors, np.float32)
        self.vocab = vocab
        self.source = source  # the folder they were loaded from
        self._pieces: dict[str, tuple[int, ...]] = {}

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @classmethod
    def load(cls, directory: Path) -> StaticVectors:
        """From a model2vec model folder (`tubetags.encoders.model2vec_dir()`, or a copy saved with a model)."""
        from safetensors.numpy import load_file

        directory = Path(directory)
        tensors = load_file(str(directory / VECTORS_FILE))
        vectors = tensors.get("embeddings", next(iter(tensors.values())))
        vocab = json.loads((directory / VOCAB_FILE).read_text(encoding="utf-8"))["model"]["vocab"]
        return cls(vectors, vocab, directory)

    def save(self, directory: Path) -> None:
        """The two files `load` reads (15 MB), copied from the model2vec folder they were loaded from."""
        if self.source is None:
            raise ValueError("these vectors were not loaded from a folder: nothing to copy")
        directory.mkdir(parents=True, exist_ok=True)
        for name in (VECTORS_FILE, VOCAB_FILE):
            shutil.copyfile(self.source / name, directory / name)

    def pieces(self, word: str) -> tuple[int, ...]:
        """Vocabulary ids of a word's word pieces (case-folded, accents stripped; unknown pieces dropped)."""
        found = self._pieces.get(word)
        if found is None:
            if len(self._pieces) >= _CACHE_MAX:
                self._pieces.clear()
            ids: list[int] = []
            lowered = word.lower()
            for part in _PIECES.findall(lowered if lowered.isascii() else _strip_accents(lowered)):
                ids += self._word_pieces(part)
            found = self._pieces[word] = tuple(ids)
        return found

    def _word_pieces(self, word: str) -> list[int]:
        """Greedy longest-match-first WordPiece; [] when some part has no piece (BERT's [UNK])."""
        ids, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    ids.append(self.vocab[piece])
                    break
                end -= 1
            if end == start:
                return []
            start = end
        return ids

    def word_vectors(self, words: Sequence[str]) -> np.ndarray:
        """[len(words), dim] float32: each word's pieces summed (zeros for a word without known pieces).

        A sparse (words x pieces) product adds each word's piece vectors in turn, ~10x sooner than
        `np.add.reduceat` over the gathered rows; the few words of 3 pieces or more, which `reduceat` adds in
        another order, are summed by it, so the sums are the very same floats as before."""
        ids = [self.pieces(w) for w in words]
        lengths = np.fromiter(map(len, ids), np.int64, len(ids))
        flat = np.fromiter(chain.from_iterable(ids), np.int64, int(lengths.sum()))
        indptr = np.concatenate(([0], np.cumsum(lengths)))
        pieces = sp.csr_matrix((np.ones(len(flat), np.float32), flat, indptr), shape=(len(words), len(self.vectors)))
        out = np.asarray(pieces @ self.vectors, np.float32)
        long = np.flatnonzero(lengths > 2)
        if len(long):
            rows = [i for word in long for i in ids[word]]
            out[long] = np.add.reduceat(self.vectors[rows], np.cumsum(lengths[long]) - lengths[long], axis=0)
        return out

    def text_vector(self, words: Iterable[str], weights: Iterable[float] | None = None) -> np.ndarray:
        """Unit vector of a bag of words (weighted mean of their piece sums); zeros for no known word."""
        words = list(words)
        if not words:
            return np.zeros(self.dim, np.float32)
        matrix = self.word_vectors(words)
        w = np.ones(len(words), np.float32) if weights is None else np.asarray(list(weights), np.float32)
        return unit(w @ matrix)


def unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)
