"""The per-shard embedding cache belongs to training: `encode` (serving) never reads it."""

from __future__ import annotations

import numpy as np
import pytest

from tubetags import encoders
from tubetags.corpus import CorpusSplit, write_shards
from tubetags.encoders import HubEncoder, MiniLMEncoder, cached_shard_embeddings, text_hash

TEXT = "sourdough bread needs a starter, flour, water and salt " * 30


class FakeSentenceModel:
    """Stands in for the MiniLM network: a deterministic vector per chunk, no model download."""

    def encode(self, texts, **kwargs):
        return np.stack([np.random.default_rng(len(t)).normal(size=MiniLMEncoder.dim) for t in texts]).astype(
            np.float32
        )


def fake_hub_module(texts):
    return np.stack([np.full(8, len(t.numpy()), np.float32) for t in texts])


def _minilm() -> MiniLMEncoder:
    encoder = MiniLMEncoder(max_chunks=2)
    encoder._model = FakeSentenceModel()
    return encoder


def _hub() -> HubEncoder:
    pytest.importorskip("tensorflow")
    encoder = HubEncoder("/nowhere/glove")
    encoder._module = fake_hub_module
    return encoder


@pytest.fixture(autouse=True)
def private_work_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TUBETAGS_WORK_DIR", str(tmp_path / "work"))


def _poison_cache(encoder, text: str) -> np.ndarray:
    """A cache file, as training writes it, whose vector for `text` is wrong."""
    folder = encoders._cache_folder(encoder)
    folder.mkdir(parents=True, exist_ok=True)
    poison = np.full((1, encoder.dim), 7.0, np.float32)
    np.savez(folder / "poisoned.npz", hashes=np.array([text_hash(text)]), vectors=poison)
    return poison[0]


@pytest.mark.parametrize("make_encoder", [_minilm, _hub], ids=["minilm", "hub"])
def test_encode_ignores_a_populated_cache(make_encoder):
    clean = make_encoder().encode([TEXT, "another text"])
    encoder = make_encoder()
    poison = _poison_cache(encoder, TEXT)
    vectors = encoder.encode([TEXT, "another text"])
    assert vectors.dtype == np.float32 and vectors.shape == clean.shape
    np.testing.assert_allclose(vectors, clean)
    assert not np.allclose(vectors[0], poison)


def test_encode_of_nothing_is_an_empty_matrix():
    assert _minilm().encode([]).shape == (0, MiniLMEncoder.dim)


def test_training_reads_and_writes_the_shard_cache(tmp_path):
    rows = [
        {
            "video_id": f"v{i}",
            "source": "test",
            "tags": ["a"],
            "transcript": f"{TEXT} {i}",
            "transcript_source": "provided",
        }
        for i in range(5)
    ]
    shards = write_shards(rows, tmp_path / "split", rows_per_shard=3)
    split = CorpusSplit(tuple(s["path"] for s in shards), len(rows))
    encoder = _minilm()
    first = np.concatenate([v for v, _ in cached_shard_embeddings(split, encoder)])
    np.testing.assert_allclose(first, encoder.encode([r["transcript"] for r in rows]))
    files = sorted(encoders._cache_folder(encoder).glob("*.npz"))
    assert len(files) == len(shards)
    # A second pass reads the files instead of encoding: a changed file shows through.
    with np.load(files[0]) as data:
        hashes, vectors = data["hashes"], data["vectors"]
    np.savez(files[0], hashes=hashes, vectors=np.zeros_like(vectors))
    second = np.concatenate([v for v, _ in cached_shard_embeddings(split, encoder)])
    assert int((second == 0).all(axis=1).sum()) == len(vectors)
