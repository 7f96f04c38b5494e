"""What the two Keras strategies share: seeding, early stopping, and a history as plain lists.

Also the pieces that let a multi-label net trained from scratch get off the tag prior: output
biases started at each tag's log prior odds, and early stopping on validation P@k (the headline
metric) with the best epoch's weights restored.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import numpy as np
from typing_extensions import override


def seed_everything(seed: int) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    keras.utils.set_random_seed(seed)


def early_stopping(patience: int):
    import keras

    return keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)


def curves(history) -> dict[str, list[float]]:
    return {name: [float(v) for v in values] for name, values in history.history.items()}


def prior_log_odds(tag_lists: Iterable[Sequence[str]], vocabulary: Sequence[str], smoothing: float = 1.0) -> np.ndarray:
    """log(p / (1 - p)) per tag, p = its (add-`smoothing`) share of training items.

    Used as the output layer's initial bias: at step 0 the net already predicts the prior, so the
    first updates go into what distinguishes items instead of pushing ~300 sigmoids down to ~2%.
    """
    index = {tag: i for i, tag in enumerate(vocabulary)}
    counts = np.zeros(len(vocabulary), dtype=np.float64)
    n = 0
    for tags in tag_lists:
        n += 1
        for tag in set(tags):
            if tag in index:
                counts[index[tag]] += 1
    p = (counts + smoothing) / (n + 2 * smoothing)
    return np.log(p / (1 - p)).astype(np.float32)


def precision_at_k_matrix(y_true: np.ndarray, scores: np.ndarray, k: int) -> float:
    """Mean share of true tags among each row's k highest scores (k in the denominator)."""
    top = np.argpartition(-scores, kth=min(k, scores.shape[1]) - 1, axis=1)[:, :k]
    return float(np.take_along_axis(y_true, top, axis=1).sum(axis=1).mean() / k)


def precision_at_k_stopping(
    inputs: np.ndarray,
    y_true: np.ndarray,
    k: int = 5,
    patience: int = 3,
    batch_size: int = 64,
    start_from_epoch: int = 0,
):
    """A Keras callback: validation P@k after every epoch (logged as `val_p_at_{k}`), training stops
    after `patience` epochs without a new best, and the best epoch's weights are restored.

    Epochs before `start_from_epoch` are not counted towards patience: a net started at the prior
    first drops below it while the biases re-balance and the embeddings are still random."""
    import keras

    class PrecisionAtKStopping(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.key = f"val_p_at_{k}"
            self.best, self.best_epoch, self.best_weights, self.wait = -1.0, -1, None, 0

        def on_epoch_end(self, epoch, logs=None):
            scores = self.model.predict(inputs, batch_size=batch_size, verbose=0)
            value = precision_at_k_matrix(y_true, scores, k)
            if logs is not None:
                logs[self.key] = value  # History runs after user callbacks: it records this
            if value > self.best:
                self.best, self.best_epoch, self.wait = value, epoch, 0
                self.best_weights = self.model.get_weights()
            elif epoch >= start_from_epoch:
                self.wait += 1
                if self.wait >= patience:
                    self.model.stop_training = True

        @override
        def on_train_end(self, logs=None):
            if self.best_weights is not None:
                self.model.set_weights(self.best_weights)

    return PrecisionAtKStopping()
