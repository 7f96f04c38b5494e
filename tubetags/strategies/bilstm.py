"""(b) Hierarchical BiLSTM trained from scratch on tf.data minibatches streamed from the shards.

It reads the **whole transcript** (up to `windows * window_tokens` tokens, 3,072 by default; a TED
talk is ~2,000 words): token embeddings are averaged per window of `window_tokens` tokens (the OOV
id and the `drop_frequent` most frequent words count as padding: a stop-word list learned from the
corpus), the window vectors are batch-normalised, a BiLSTM runs over the sequence of windows (~60-96
steps instead of ~2,000: cheap on a CPU, and it keeps the order of the talk), and attention pooling
weighs the windows that say most about the topic. The masked mean and max of the window vectors are
concatenated to the attention output (`bag_skip`), a direct path from words to tags.

What gets a net from scratch off the tag prior on ~1,900 talks (`python -m experiments.studies.ablate_bilstm`):
the whole transcript rather than its first 256 tokens; batch normalisation of the window vectors
(the mean of 32 random word vectors hardly differs from one window to the next, standardising each
dimension makes the differences visible to the BiLSTM; momentum 0.9 so that its inference statistics
are right after one epoch of ~60 updates); a learning rate high enough to move the embeddings (0.01,
one epoch of warm-up, then cosine decay); output biases at each tag's log prior odds; early stopping
on validation P@5 (the headline metric) with the best epoch restored and no stopping in the first
`min_epochs` epochs. Binary cross-entropy; focal loss is available (`loss: focal`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tubetags.corpus import CorpusSplit, multi_hot, tf_dataset
from tubetags.predictor import Ranked, TagPredictor, fitted
from tubetags.strategies.baseline import reservoir_sample
from tubetags.strategies.keras_training import (
    curves,
    early_stopping,
    precision_at_k_stopping,
    prior_log_odds,
    seed_everything,
)
from tubetags.strategies.ranking import top_k


class BiLSTMTagger(TagPredictor):
    strategy = "bilstm"

    def __init__(
        self,
        seed: int = 0,
        max_tokens: int = 30_000,
        windows: int = 96,
        window_tokens: int = 32,
        embedding_dim: int = 64,
        lstm_units: int = 48,
        attention_units: int = 48,
        bag_skip: bool = True,
        drop_frequent: int = 100,
        normalize: bool = True,
        dropout: float = 0.3,
        epochs: int = 12,
        patience: int = 3,
        batch_size: int = 32,
        learning_rate: float = 0.01,
        lr_schedule: str = "cosine",
        loss: str = "bce",
        focal_gamma: float = 2.0,
        prior_bias: bool = True,
        stop_on: str = "p_at_5",
        min_epochs: int = 4,
        adapt_sample: int = 2000,
    ):
        if lr_schedule not in ("cosine", "constant"):
            raise ValueError(f"lr_schedule must be 'cosine' or 'constant', not {lr_schedule!r}")
        if loss not in ("focal", "bce"):
            raise ValueError(f"loss must be 'focal' or 'bce', not {loss!r}")
        if stop_on not in ("p_at_5", "loss"):
            raise ValueError(f"stop_on must be 'p_at_5' or 'loss', not {stop_on!r}")
        self.seed, self.max_tokens, self.windows, self.window_tokens = seed, max_tokens, windows, window_tokens
        self.embedding_dim, self.lstm_units, self.attention_units = embedding_dim, lstm_units, attention_units
        self.bag_skip, self.dropout, self.epochs, self.patience = bag_skip, dropout, epochs, patience
        self.batch_size, self.learning_rate, self.lr_schedule = batch_size, learning_rate, lr_schedule
        self.loss, self.focal_gamma, self.prior_bias, self.stop_on = loss, focal_gamma, prior_bias, stop_on
        self.adapt_sample, self.drop_frequent, self.min_epochs = adapt_sample, drop_frequent, min_epochs
        self.normalize = normalize
        self.vocabulary: list[str] = []
        self.model: Any = None  # keras.Model: string in -> tag probabilities out
        self._serve: Any = None  # its traced serving function
        self.best_epoch: int | None = None

    _PARAMS = (
        "seed",
        "max_tokens",
        "windows",
        "window_tokens",
        "embedding_dim",
        "lstm_units",
        "attention_units",
        "bag_skip",
        "dropout",
        "epochs",
        "patience",
        "batch_size",
        "learning_rate",
        "lr_schedule",
        "loss",
        "focal_gamma",
        "prior_bias",
        "stop_on",
        "min_epochs",
        "drop_frequent",
        "normalize",
        "adapt_sample",
    )

    def init_params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self._PARAMS}

    @property
    def max_length(self) -> int:
        return self.windows * self.window_tokens

    def _network(self, n_tags: int):
        import keras

        from tubetags.strategies import bilstm_layers as layers

        ids = keras.Input((self.max_length,), dtype="int64")
        if self.drop_frequent:
            ids_in, ids = ids, layers.DropFrequent(self.drop_frequent)(ids)
        else:
            ids_in = ids
        tokens = keras.layers.Embedding(self.max_tokens, self.embedding_dim)(ids)
        windows = layers.WindowMean(self.window_tokens)([tokens, ids])
        mask = layers.WindowMask(self.window_tokens)(ids)
        if self.normalize:
            # The mean of 32 word vectors is close to the corpus-wide mean vector; standardising each
            # dimension over the (non-empty) windows of a batch scales up what differs between windows.
            # momentum 0.9: with ~60 updates an epoch the default 0.99 leaves the inference statistics at
            # their initial values for several epochs, and validation scores stay at the prior.
            windows = keras.layers.BatchNormalization(momentum=0.9)(windows, mask=mask)
        windows = keras.layers.Dropout(self.dropout)(windows)
        states = keras.layers.Bidirectional(keras.layers.LSTM(self.lstm_units, return_sequences=True))(
            windows, mask=mask
        )
        pooled = layers.AttentionPooling(self.attention_units)(states, mask=mask)
        if self.bag_skip:
            pooled = keras.layers.Concatenate()(
                [pooled, layers.MaskedMean()(windows, mask), layers.MaskedMax()(windows, mask)]
            )
        pooled = keras.layers.Dropout(self.dropout)(pooled)
        out = keras.layers.Dense(n_tags, activation="sigmoid", name="tags")(pooled)
        return keras.Model(ids_in, out)

    def _optimizer(self, steps_per_epoch: int):
        import keras

        rate = self.learning_rate
        if self.lr_schedule == "cosine":
            warmup = steps_per_epoch if self.epochs > 1 else 0
            rate = keras.optimizers.schedules.CosineDecay(
                self.learning_rate / 10,
                decay_steps=max(steps_per_epoch * self.epochs - warmup, 1),
                alpha=0.05,
                warmup_target=self.learning_rate,
                warmup_steps=warmup,
            )
        return keras.optimizers.Adam(rate, clipnorm=1.0)

    def fit(self, train: CorpusSplit, valid: CorpusSplit | None, vocabulary: Sequence[str]):
        import keras
        import tensorflow as tf

        seed_everything(self.seed)
        self.vocabulary = list(vocabulary)
        vectorize = keras.layers.TextVectorization(self.max_tokens, output_sequence_length=self.max_length)
        sample = reservoir_sample(
            (r["transcript"] for r in train.records(columns=("transcript",))), self.adapt_sample, self.seed
        )
        vectorize.adapt(tf.constant(sample))
        del sample
        network = self._network(len(self.vocabulary))
        if self.prior_bias:
            output = network.get_layer("tags")
            output.bias.assign(prior_log_odds(train.column("tags"), self.vocabulary))
        steps_per_epoch = max(math.ceil(len(train) / self.batch_size), 1)
        loss = (
            keras.losses.BinaryFocalCrossentropy(gamma=self.focal_gamma)
            if self.loss == "focal"
            else keras.losses.BinaryCrossentropy()
        )
        network.compile(self._optimizer(steps_per_epoch), loss)

        def stream(split, seed):
            data = tf_dataset(
                split, self.vocabulary, self.batch_size, shuffle_buffer=512 if seed is not None else 0, seed=seed
            )
            return data.map(lambda text, y: (vectorize(text), y), num_parallel_calls=tf.data.AUTOTUNE)

        callbacks, validation_data = [], None
        if valid is not None and self.stop_on == "p_at_5":
            texts, tags = [], []
            for record in valid.records(columns=("transcript", "tags")):
                texts.append(record["transcript"])
                tags.append(record["tags"])
            ids = np.concatenate([vectorize(tf.constant(texts[i : i + 64])).numpy() for i in range(0, len(texts), 64)])
            stopper = precision_at_k_stopping(
                ids, multi_hot(tags, self.vocabulary), k=5, patience=self.patience, start_from_epoch=self.min_epochs
            )
            callbacks.append(stopper)
        elif valid is not None:
            validation_data = stream(valid, None)
            callbacks.append(early_stopping(self.patience))
        history = network.fit(
            stream(train, self.seed),
            validation_data=validation_data,
            epochs=self.epochs,
            verbose=2,
            callbacks=callbacks,
        )
        if valid is not None and self.stop_on == "p_at_5":
            self.best_epoch = stopper.best_epoch
        text = keras.Input((1,), dtype="string")
        self.model = keras.Model(text, network(vectorize(text)))
        self._serve = None
        return curves(history)

    def predict(self, transcripts: Sequence[str], k: int = 10) -> list[Ranked]:
        if not len(transcripts):
            return []
        import tensorflow as tf

        # Keras 3's predict() does not take string arrays: one traced function instead of eager calls.
        model = fitted(self.model, "the BiLSTM")
        if self._serve is None:
            self._serve = tf.function(
                lambda text: model(text, training=False),
                reduce_retracing=True,
                input_signature=[tf.TensorSpec((None, 1), tf.string)],
            )
        texts = list(transcripts)
        scores = np.concatenate(
            [
                self._serve(tf.constant(texts[i : i + self.batch_size])[:, None]).numpy()
                for i in range(0, len(texts), self.batch_size)
            ]
        )
        return top_k(scores, self.vocabulary, k)

    def save_state(self, directory: Path) -> None:
        fitted(self.model, "the BiLSTM").save(directory / "bilstm.keras")
        (directory / "bilstm.json").write_text(json.dumps({"vocabulary": self.vocabulary}))

    def load_state(self, directory: Path) -> None:
        import keras

        from tubetags.strategies import bilstm_layers  # noqa: F401  (registers the custom layers before loading)

        self.vocabulary = json.loads((directory / "bilstm.json").read_text())["vocabulary"]
        self.model = keras.models.load_model(directory / "bilstm.keras")
