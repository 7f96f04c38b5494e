"""(b) BiLSTM trained from scratch on tf.data minibatches streamed from the shards.

Long transcripts (TED: ~2,000 words, up to 9,000) are handled by **chunk pooling**: the first
`chunks * chunk_tokens` tokens are cut into `chunks` pieces, one shared BiLSTM reads each piece,
and the piece vectors are max-pooled. Why: an LSTM over 2,000 steps is slow on a CPU and forgets
the start; short pieces read in parallel keep the cost linear and let a topic mentioned in any
piece fire its tags. The opening minutes of a talk state its topic, so the pieces come from the start.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tubetags.corpus import CorpusSplit, tf_dataset
from tubetags.predictor import Ranked, TagPredictor
from tubetags.strategies.baseline import reservoir_sample
from tubetags.strategies.keras_training import curves, early_stopping, seed_everything
from tubetags.strategies.ranking import top_k


class BiLSTMTagger(TagPredictor):
    strategy = "bilstm"

    def __init__(self, seed: int = 0, max_tokens: int = 20_000, chunks: int = 4, chunk_tokens: int = 128,
                 embedding_dim: int = 64, lstm_units: int = 48, dropout: float = 0.3, epochs: int = 12,
                 patience: int = 2, batch_size: int = 32, learning_rate: float = 0.003, adapt_sample: int = 2000):
        self.seed, self.max_tokens, self.chunks, self.chunk_tokens = seed, max_tokens, chunks, chunk_tokens
        self.embedding_dim, self.lstm_units, self.dropout = embedding_dim, lstm_units, dropout
        self.epochs, self.patience, self.batch_size = epochs, patience, batch_size
        self.learning_rate, self.adapt_sample = learning_rate, adapt_sample
        self.vocabulary: list[str] = []
        self.model = None  # string in -> tag probabilities out

    def init_params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("seed", "max_tokens", "chunks", "chunk_tokens", "embedding_dim",
                                              "lstm_units", "dropout", "epochs", "patience", "batch_size",
                                              "learning_rate", "adapt_sample")}

    def params(self) -> dict[str, Any]:
        return self.init_params() | {"long_text": "chunk max-pooling"}

    def _network(self, n_tags: int):
        import keras

        tokens = keras.Input((self.chunks * self.chunk_tokens,), dtype="int64")
        x = keras.layers.Embedding(self.max_tokens, self.embedding_dim)(tokens)
        x = keras.layers.Reshape((self.chunks, self.chunk_tokens, self.embedding_dim))(x)
        x = keras.layers.TimeDistributed(keras.layers.Bidirectional(keras.layers.LSTM(self.lstm_units)))(x)
        x = keras.layers.GlobalMaxPooling1D()(x)  # over chunks
        x = keras.layers.Dropout(self.dropout)(x)
        out = keras.layers.Dense(n_tags, activation="sigmoid")(x)
        return keras.Model(tokens, out)

    def fit(self, train: CorpusSplit, valid: CorpusSplit | None, vocabulary: Sequence[str]):
        import keras
        import tensorflow as tf

        seed_everything(self.seed)
        self.vocabulary = list(vocabulary)
        vectorize = keras.layers.TextVectorization(self.max_tokens,
                                                   output_sequence_length=self.chunks * self.chunk_tokens)
        sample = reservoir_sample((r["transcript"] for r in train.records(columns=("transcript",))),
                                  self.adapt_sample, self.seed)
        vectorize.adapt(tf.constant(sample))
        del sample
        network = self._network(len(self.vocabulary))
        network.compile(keras.optimizers.Adam(self.learning_rate), "binary_crossentropy")

        def stream(split, seed):
            data = tf_dataset(split, self.vocabulary, self.batch_size, shuffle_buffer=256 if seed is not None else 0,
                              seed=seed)
            return data.map(lambda text, y: (vectorize(text), y), num_parallel_calls=tf.data.AUTOTUNE)

        history = network.fit(stream(train, self.seed), validation_data=stream(valid, None) if valid else None,
                              epochs=self.epochs, verbose=2,
                              callbacks=[early_stopping(self.patience)] if valid else [])
        text = keras.Input((1,), dtype="string")
        self.model = keras.Model(text, network(vectorize(text)))
        return curves(history)

    def predict(self, transcripts: Sequence[str], k: int = 10) -> list[Ranked]:
        if not len(transcripts):
            return []
        import tensorflow as tf

        # Called directly: Keras 3's predict() does not take string arrays.
        texts = list(transcripts)
        scores = np.concatenate([
            self.model(tf.constant(texts[i : i + self.batch_size])[:, None], training=False).numpy()
            for i in range(0, len(texts), self.batch_size)])
        return top_k(scores, self.vocabulary, k)

    def save_state(self, directory: Path) -> None:
        self.model.save(directory / "bilstm.keras")
        (directory / "bilstm.json").write_text(json.dumps({"vocabulary": self.vocabulary}))

    def load_state(self, directory: Path) -> None:
        import keras

        self.vocabulary = json.loads((directory / "bilstm.json").read_text())["vocabulary"]
        self.model = keras.models.load_model(directory / "bilstm.keras")
