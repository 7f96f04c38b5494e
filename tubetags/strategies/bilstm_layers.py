"""The BiLSTM's custom Keras layers (registered as `tubetags>Name`, the names saved models refer to).

Kept apart from `bilstm` so that importing the strategy table does not import Keras: `bilstm` imports this
module when it builds or loads a network.
"""

from __future__ import annotations

import keras
from keras import ops
from typing_extensions import override


@keras.saving.register_keras_serializable(package="tubetags")
class WindowMean(keras.layers.Layer):
    """(token vectors (B, T, D), token ids (B, T)) -> mean of the non-padding vectors per window
    of `window_tokens` tokens (B, T / window_tokens, D), 0 for an all-padding window."""

    def __init__(self, window_tokens: int, **kw):
        super().__init__(**kw)
        self.window_tokens = window_tokens

    def call(self, inputs):
        vectors, ids = inputs
        dim = ops.shape(vectors)[-1]
        present = ops.cast(ops.not_equal(ids, 0), vectors.dtype)[..., None]
        vectors = ops.reshape(vectors * present, (-1, ops.shape(ids)[1] // self.window_tokens, self.window_tokens, dim))
        counts = ops.reshape(present, (-1, ops.shape(ids)[1] // self.window_tokens, self.window_tokens, 1))
        return ops.sum(vectors, axis=2) / ops.maximum(ops.sum(counts, axis=2), 1.0)

    def get_config(self):
        return super().get_config() | {"window_tokens": self.window_tokens}


@keras.saving.register_keras_serializable(package="tubetags")
class WindowMask(keras.layers.Layer):
    """token ids (B, T) -> (B, T / window_tokens) bool: the window holds at least one token.
    The first window is always on, so that an empty transcript still has one step."""

    def __init__(self, window_tokens: int, **kw):
        super().__init__(**kw)
        self.window_tokens = window_tokens

    def call(self, ids):
        windows = ops.reshape(ops.not_equal(ids, 0), (-1, ops.shape(ids)[1] // self.window_tokens, self.window_tokens))
        mask = ops.any(windows, axis=2)
        first = ops.arange(ops.shape(mask)[1]) == 0
        return ops.logical_or(mask, first[None, :])

    def get_config(self):
        return super().get_config() | {"window_tokens": self.window_tokens}


@keras.saving.register_keras_serializable(package="tubetags")
class AttentionPooling(keras.layers.Layer):
    """Additive attention over time steps: softmax(v · tanh(W h_t)) over unmasked steps, weighted sum."""

    def __init__(self, units: int, **kw):
        super().__init__(**kw)
        self.supports_masking = True
        self.units = units
        self.hidden = keras.layers.Dense(units, activation="tanh")
        self.score = keras.layers.Dense(1, use_bias=False)

    def build(self, input_shape):
        self.hidden.build(input_shape)
        self.score.build((*input_shape[:-1], self.units))

    def call(self, states, mask=None):
        logits = ops.squeeze(self.score(self.hidden(states)), -1)
        if mask is not None:
            logits = ops.where(mask, logits, -1e9)
        weights = ops.softmax(logits, axis=-1)
        return ops.sum(states * weights[..., None], axis=1)

    @override
    def compute_mask(self, states, mask=None):
        return None  # one vector per item: no time steps left to mask

    def get_config(self):
        return super().get_config() | {"units": self.units}


@keras.saving.register_keras_serializable(package="tubetags")
class MaskedMean(keras.layers.Layer):
    """Mean over the unmasked time steps."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.supports_masking = True

    def call(self, states, mask):
        m = ops.cast(mask, states.dtype)[..., None]
        return ops.sum(states * m, axis=1) / ops.maximum(ops.sum(m, axis=1), 1.0)

    @override
    def compute_mask(self, states, mask=None):
        return None


@keras.saving.register_keras_serializable(package="tubetags")
class DropFrequent(keras.layers.Layer):
    """token ids -> the same ids with the out-of-vocabulary id and the `top` most frequent words set to
    padding (0). TextVectorization numbers words by frequency (0 pad, 1 OOV, 2 the most frequent),
    so this is a stop-word list learned from the corpus."""

    def __init__(self, top: int, **kw):
        super().__init__(**kw)
        self.top = top

    def call(self, ids):
        return ops.where(ops.less_equal(ids, self.top + 1), ops.zeros_like(ids), ids)

    def get_config(self):
        return super().get_config() | {"top": self.top}


@keras.saving.register_keras_serializable(package="tubetags")
class MaskedMax(keras.layers.Layer):
    """Max over the unmasked time steps."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.supports_masking = True

    def call(self, states, mask):
        return ops.max(ops.where(mask[..., None], states, -1e9), axis=1)

    @override
    def compute_mask(self, states, mask=None):
        return None
