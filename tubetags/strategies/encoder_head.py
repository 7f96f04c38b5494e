"""(c) A frozen pretrained encoder feeding an in-house Keras head.

The encoder is sentence-transformers MiniLM (chunked: it reads 256 word pieces; `max_chunks` 0
reads every chunk), `model2vec` (static token vectors distilled from the same MiniLM: the whole
transcript at once, milliseconds per talk), or any text encoder `tensorflow_hub.load(handle)`
returns (a TF-Hub URL online, a local SavedModel dir offline). Its outputs are cached per shard,
so repeated seeds only retrain the head.
The head: optionally a standardising layer (per-dimension mean/variance adapted on the train
vectors; on by default for model2vec, whose long-text means share one dominant direction), one
hidden ReLU layer with dropout (0 hidden units = a linear head), sigmoid per tag, binary
cross-entropy, early stopping on validation loss. Prediction runs the head's dense layers in NumPy
(Keras' per-call overhead is larger than a static encoder's whole cost).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from typing_extensions import override

from tubetags.corpus import CorpusSplit, multi_hot
from tubetags.encoders import MODEL2VEC, HubEncoder, Model2VecEncoder, cached_shard_embeddings, encoder_from_param
from tubetags.predictor import Ranked, TagPredictor, fitted
from tubetags.strategies.keras_training import curves, early_stopping, seed_everything
from tubetags.strategies.ranking import sigmoid, top_k


class EncoderHeadTagger(TagPredictor):
    strategy = "encoder_head"

    def __init__(
        self,
        seed: int = 0,
        encoder: str = "minilm",
        max_chunks: int | None = 4,
        hidden_units: int = 512,
        dropout: float = 0.3,
        epochs: int = 60,
        patience: int = 5,
        batch_size: int = 64,
        learning_rate: float = 0.001,
        standardize: bool | None = None,
    ):
        self.seed, self.encoder_param, self.max_chunks = seed, encoder, max_chunks
        self.hidden_units, self.dropout, self.epochs, self.patience = hidden_units, dropout, epochs, patience
        self.batch_size, self.learning_rate = batch_size, learning_rate
        self.encoder = encoder_from_param(encoder, max_chunks=max_chunks)
        # None: standardise the encoder's vectors for model2vec only (MiniLM's head stays as before).
        self.standardize = bool(self.encoder.spec()["kind"] == MODEL2VEC if standardize is None else standardize)
        # Named after the encoder trained with; a reloaded local SavedModel lives elsewhere but is the same
        # encoder. Lazy: a model2vec name is its vectors' checksum (distilled on first use, not on construction).
        self._encoder_name: str | None = None
        self.vocabulary: list[str] = []
        self.head: Any = None  # keras.Model, once fitted or loaded
        self._dense: list[tuple[Any, ...]] | None = None  # the head as NumPy layers, for predict

    @property
    def encoder_name(self) -> str:
        if self._encoder_name is None:
            self._encoder_name = self.encoder.name
        return self._encoder_name

    def init_params(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "encoder": self.encoder_param,
            "max_chunks": self.max_chunks,
            "hidden_units": self.hidden_units,
            "dropout": self.dropout,
            "epochs": self.epochs,
            "patience": self.patience,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "standardize": self.standardize,
        }

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

        data = tf.data.Dataset.from_generator(
            generate, output_signature=(tf.TensorSpec((dim,), tf.float32), tf.TensorSpec((n_tags,), tf.float32))
        )
        return self.batched(data, shuffle)

    def batched(self, data, shuffle: bool):
        """(vector, multi-hot) pairs → shuffled (training) minibatches."""
        if shuffle:
            data = data.shuffle(1024, seed=self.seed, reshuffle_each_iteration=True)
        return data.batch(self.batch_size).prefetch(2)

    def _head(self, dim: int, n_tags: int, train_data=None):
        import keras

        inputs = keras.Input((dim,))
        x = inputs
        if self.standardize:
            normalize = keras.layers.Normalization()
            normalize.adapt(train_data.map(lambda vectors, _: vectors))
            x = normalize(x)
        if self.hidden_units:
            x = keras.layers.Dense(self.hidden_units, activation="relu")(x)
            x = keras.layers.Dropout(self.dropout)(x)
        return keras.Model(inputs, keras.layers.Dense(n_tags, activation="sigmoid")(x))

    def fit(self, train: CorpusSplit, valid: CorpusSplit | None, vocabulary: Sequence[str]):
        self.vocabulary = list(vocabulary)
        # Encode (or read from cache) before Keras starts, so the progress bar is not interleaved.
        for split in (train, valid) if valid else (train,):
            for _ in cached_shard_embeddings(split, self.encoder):
                pass
        return self.fit_head(self._stream(train, True), self._stream(valid, False) if valid else None)

    def fit_head(self, train_data, valid_data=None) -> dict[str, list[float]]:
        """Train a fresh head on batched tf.data of (vector, multi-hot); `self.vocabulary` must be set."""
        import keras

        seed_everything(self.seed)
        self.head = self._head(self.encoder.dim, len(self.vocabulary), train_data)
        self._dense = None
        self.head.compile(keras.optimizers.Adam(self.learning_rate), "binary_crossentropy")
        history = self.head.fit(
            train_data,
            validation_data=valid_data,
            epochs=self.epochs,
            verbose=0,
            callbacks=[early_stopping(self.patience)] if valid_data is not None else [],
        )
        return curves(history)

    def _numpy_layers(self) -> list[tuple[Any, ...]]:
        """The trained head as NumPy steps (normalise, dense + activation; dropout is off at inference)."""
        steps: list[tuple[Any, ...]] = []
        for layer in fitted(self.head, "the head").layers:
            kind = type(layer).__name__
            if kind == "Normalization":
                mean, variance = (
                    np.asarray(layer.mean, np.float32).reshape(-1),
                    np.asarray(layer.variance, np.float32).reshape(-1),
                )
                steps.append(("normalize", mean, np.maximum(np.sqrt(variance), 1e-7)))
            elif kind == "Dense":
                kernel, bias = (np.asarray(w, np.float32) for w in layer.get_weights())
                steps.append(("dense", kernel, bias, layer.get_config()["activation"]))
            elif kind not in ("InputLayer", "Dropout"):
                raise TypeError(f"no NumPy path for a {kind} layer")
        return steps

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        """Head outputs for encoder vectors, in NumPy: `Model.predict` costs ~100 ms a call here."""
        if self._dense is None:
            self._dense = self._numpy_layers()
        x = np.asarray(vectors, np.float32)
        for step in self._dense:
            if step[0] == "normalize":
                x = (x - step[1]) / step[2]
                continue
            x = x @ step[1] + step[2]
            if step[3] == "relu":
                x = np.maximum(x, 0.0)
            elif step[3] == "sigmoid":
                x = sigmoid(x)
            elif step[3] != "linear":
                raise ValueError(f"no NumPy path for activation {step[3]}")
        return x

    def predict(self, transcripts: Sequence[str], k: int = 10) -> list[Ranked]:
        if not len(transcripts):
            return []
        return top_k(self.scores(self.encoder.encode(list(transcripts))), self.vocabulary, k)

    @override
    def rank_split(self, split: CorpusSplit, k: int = 10, batch_size: int = 32) -> Iterator[Ranked]:
        """The head over the per-shard cached encodings (the same vectors `encode` gives): evaluating a
        seed retrains nothing and re-encodes nothing."""
        for vectors, _ in cached_shard_embeddings(split, self.encoder):
            yield from top_k(self.scores(vectors), self.vocabulary, k)

    def save_state(self, directory: Path) -> None:
        spec = self.encoder.spec()
        if spec["kind"] == "hub" and Path(spec["handle"]).is_dir():
            # A local SavedModel travels with the model, so the registry copy loads anywhere.
            shutil.copytree(spec["handle"], directory / "encoder", dirs_exist_ok=True)
            spec = {**spec, "handle": "encoder"}
        elif spec["kind"] == MODEL2VEC:  # so do the distilled static vectors (~15 MB)
            self.encoder.name  # noqa: B018 (distils them first if they are missing)
            shutil.copytree(spec["path"], directory / "encoder", dirs_exist_ok=True)
            spec = {**spec, "path": "encoder"}
        fitted(self.head, "the head").save(directory / "head.keras")
        (directory / "encoder_head.json").write_text(json.dumps({"encoder": spec, "vocabulary": self.vocabulary}))

    def load_state(self, directory: Path) -> None:
        import keras

        meta = json.loads((directory / "encoder_head.json").read_text())
        kind = meta["encoder"]["kind"]
        # The encoder saved with the model (a local SavedModel, model2vec's distilled vectors): read that copy,
        # never the default location, which may hold other vectors or nothing on a serving host.
        if kind == "hub" and meta["encoder"]["handle"] == "encoder":
            self._encoder_name = self.encoder.name  # named after the handle it was trained with
            self.encoder = HubEncoder(str(directory / "encoder"))
        elif kind == MODEL2VEC and meta["encoder"]["path"] == "encoder":
            self.encoder = Model2VecEncoder(directory / "encoder")  # same vectors, so the same checksum name
            self._encoder_name = None
        self.vocabulary = meta["vocabulary"]
        self.head = keras.models.load_model(directory / "head.keras")
        self._dense = None


class FastEncoderHeadTagger(EncoderHeadTagger):
    """(c) with the fast pretrained encoder: static vectors distilled from the same MiniLM (model2vec) over the
    whole transcript, ~10 ms per talk instead of MiniLM's ~50 ms per 180-word chunk. Its own arm of the
    comparison, so its quality and serving cost sit next to the MiniLM head's in every report."""

    strategy = "encoder_head_fast"

    def __init__(
        self,
        seed: int = 0,
        encoder: str = MODEL2VEC,
        max_chunks: int | None = None,
        hidden_units: int = 512,
        dropout: float = 0.3,
        epochs: int = 60,
        patience: int = 5,
        batch_size: int = 64,
        learning_rate: float = 0.001,
        standardize: bool | None = None,
    ):
        super().__init__(
            seed, encoder, max_chunks, hidden_units, dropout, epochs, patience, batch_size, learning_rate, standardize
        )
