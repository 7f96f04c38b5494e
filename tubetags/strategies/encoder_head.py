"""(c) A frozen pretrained encoder feeding an in-house Keras head.

The encoder is either sentence-transformers MiniLM (chunked: it reads 256 word pieces) or any
text encoder `tensorflow_hub.load(handle)` returns (a TF-Hub URL online, a local SavedModel dir
offline). Its outputs are cached per shard, so repeated seeds only retrain the head.
The head: one hidden ReLU layer with dropout (0 hidden units = a linear head), sigmoid per tag,
binary cross-entropy, early stopping on validation loss.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tubetags.corpus import CorpusSplit, multi_hot
from tubetags.encoders import HubEncoder, cached_shard_embeddings, encoder_from_param
from tubetags.predictor import Ranked, TagPredictor
from tubetags.strategies.keras_training import curves, early_stopping, seed_everything
from tubetags.strategies.ranking import top_k


class EncoderHeadTagger(TagPredictor):
    strategy = "encoder_head"

    def __init__(self, seed: int = 0, encoder: str = "minilm", max_chunks: int = 4, hidden_units: int = 512,
                 dropout: float = 0.3, epochs: int = 60, patience: int = 5, batch_size: int = 64,
                 learning_rate: float = 0.001):
        self.seed, self.encoder_param, self.max_chunks = seed, encoder, max_chunks
        self.hidden_units, self.dropout, self.epochs, self.patience = hidden_units, dropout, epochs, patience
        self.batch_size, self.learning_rate = batch_size, learning_rate
        self.encoder = encoder_from_param(encoder, max_chunks=max_chunks)
        # Named after the encoder trained with; a reloaded local SavedModel lives elsewhere but is the same encoder.
        self.encoder_name = self.encoder.name
        self.vocabulary: list[str] = []
        self.head = None

    def init_params(self) -> dict[str, Any]:
        return {"seed": self.seed, "encoder": self.encoder_param, "max_chunks": self.max_chunks,
                "hidden_units": self.hidden_units, "dropout": self.dropout, "epochs": self.epochs,
                "patience": self.patience, "batch_size": self.batch_size, "learning_rate": self.learning_rate}

    def params(self) -> dict[str, Any]:
        return self.init_params() | {"encoder_name": self.encoder_name}

    def _stream(self, split: CorpusSplit, shuffle: bool):
        """tf.data over the cached per-shard embeddings (one shard in memory at a time)."""
        import tensorflow as tf

        n_tags = len(self.vocabulary)
        dim = self.encoder.dim

        def generate():
            for vectors, tags in cached_shard_embeddings(split, self.encoder):
                targets = multi_hot(tags, self.vocabulary)
                yield from zip(vectors, targets)

        data = tf.data.Dataset.from_generator(generate, output_signature=(
            tf.TensorSpec((dim,), tf.float32), tf.TensorSpec((n_tags,), tf.float32)))
        if shuffle:
            data = data.shuffle(1024, seed=self.seed, reshuffle_each_iteration=True)
        return data.batch(self.batch_size).prefetch(2)

    def _head(self, dim: int, n_tags: int):
        import keras

        inputs = keras.Input((dim,))
        x = inputs
        if self.hidden_units:
            x = keras.layers.Dense(self.hidden_units, activation="relu")(x)
            x = keras.layers.Dropout(self.dropout)(x)
        return keras.Model(inputs, keras.layers.Dense(n_tags, activation="sigmoid")(x))

    def fit(self, train: CorpusSplit, valid: CorpusSplit | None, vocabulary: Sequence[str]):
        import keras

        seed_everything(self.seed)
        self.vocabulary = list(vocabulary)
        # Encode (or read from cache) before Keras starts, so the progress bar is not interleaved.
        for split in (train, valid) if valid else (train,):
            for _ in cached_shard_embeddings(split, self.encoder):
                pass
        self.head = self._head(self.encoder.dim, len(self.vocabulary))
        self.head.compile(keras.optimizers.Adam(self.learning_rate), "binary_crossentropy")
        history = self.head.fit(self._stream(train, True),
                                validation_data=self._stream(valid, False) if valid else None,
                                epochs=self.epochs, verbose=0,
                                callbacks=[early_stopping(self.patience)] if valid else [])
        return curves(history)

    def predict(self, transcripts: Sequence[str], k: int = 10) -> list[Ranked]:
        if not len(transcripts):
            return []
        scores = self.head.predict(self.encoder.encode(list(transcripts)), batch_size=256, verbose=0)
        return top_k(scores, self.vocabulary, k)

    def save_state(self, directory: Path) -> None:
        spec = self.encoder.spec()
        if spec["kind"] == "hub" and Path(spec["handle"]).is_dir():
            # A local SavedModel travels with the model, so the registry copy loads anywhere.
            shutil.copytree(spec["handle"], directory / "encoder", dirs_exist_ok=True)
            spec = {**spec, "handle": "encoder"}
        self.head.save(directory / "head.keras")
        (directory / "encoder_head.json").write_text(json.dumps({"encoder": spec, "vocabulary": self.vocabulary}))

    def load_state(self, directory: Path) -> None:
        import keras

        meta = json.loads((directory / "encoder_head.json").read_text())
        if meta["encoder"]["kind"] == "hub" and meta["encoder"]["handle"] == "encoder":
            self.encoder = HubEncoder(str(directory / "encoder"))  # the copy saved with the model
        self.vocabulary = meta["vocabulary"]
        self.head = keras.models.load_model(directory / "head.keras")
