"""What the two Keras strategies share: seeding, early stopping, and a history as plain lists."""

from __future__ import annotations

import os


def seed_everything(seed: int) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    keras.utils.set_random_seed(seed)


def early_stopping(patience: int):
    import keras

    return keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)


def curves(history) -> dict[str, list[float]]:
    return {name: [float(v) for v in values] for name, values in history.history.items()}
