"""The pieces that get the from-scratch BiLSTM off the tag prior: prior-odds bias init, P@k early stopping,
and the window pooling that lets it read a whole transcript."""

from __future__ import annotations

import numpy as np
import pytest

from tubetags.strategies.keras_training import precision_at_k_matrix, precision_at_k_stopping, prior_log_odds


def test_prior_log_odds_is_the_smoothed_share_of_items_per_tag():
    bias = prior_log_odds([["a", "b"], ["a"], ["a", "a"], ["c"]], ["a", "b", "z"], smoothing=1.0)
    p = np.array([(3 + 1) / 6, (1 + 1) / 6, (0 + 1) / 6])  # duplicates count once; unseen tags get a floor
    np.testing.assert_allclose(bias, np.log(p / (1 - p)), rtol=1e-6)
    np.testing.assert_allclose(1 / (1 + np.exp(-bias)), p, rtol=1e-6)  # sigmoid(bias) = prior


def test_precision_at_k_matrix_counts_true_tags_among_the_top_k():
    y = np.array([[1, 0, 1, 0], [0, 0, 0, 1]], dtype=np.float32)
    scores = np.array([[0.9, 0.8, 0.1, 0.0], [0.1, 0.2, 0.3, 0.4]])
    assert precision_at_k_matrix(y, scores, 1) == pytest.approx((1 + 1) / 2)
    assert precision_at_k_matrix(y, scores, 2) == pytest.approx((1 / 2 + 1 / 2) / 2)
    assert precision_at_k_matrix(y, scores, 3) == pytest.approx((2 / 3 + 1 / 3) / 2)


class _Scripted:
    """Stands in for a Keras model: predict() returns one scripted score matrix per epoch."""

    def __init__(self, per_epoch):
        self.per_epoch, self.epoch, self.weights, self.stop_training = list(per_epoch), 0, None, False

    def predict(self, inputs, batch_size=None, verbose=0):
        return self.per_epoch[self.epoch]

    def get_weights(self):
        return [np.array(self.epoch)]

    def set_weights(self, weights):
        self.weights = weights


def test_p_at_k_stopping_logs_stops_after_patience_and_restores_the_best_epoch():
    y = np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32)
    good, bad = np.array([[0.9, 0.1, 0.0], [0.1, 0.9, 0.0]]), np.array([[0.0, 0.1, 0.9], [0.1, 0.0, 0.9]])
    model = _Scripted([bad, good, bad, bad, good])
    callback = precision_at_k_stopping(np.zeros((2, 4)), y, k=1, patience=2)
    callback.set_model(model)
    history = []
    for epoch in range(5):
        model.epoch = epoch
        logs = {}
        callback.on_epoch_end(epoch, logs)
        history.append(logs["val_p_at_1"])
        if model.stop_training:
            break
    assert history == [0.0, 1.0, 0.0, 0.0]  # stopped two epochs after the best, before epoch 4
    callback.on_train_end()
    assert callback.best_epoch == 1 and int(model.weights[0]) == 1


def test_window_pooling_averages_tokens_per_window_and_masks_padding():
    from keras import ops

    from tubetags.strategies import bilstm_layers as layers

    ids = np.array([[5, 6, 7, 0, 0, 0, 0, 0]])  # windows of 2: [5 6] [7 pad] [pad pad] [pad pad]
    vectors = np.arange(8, dtype=np.float32).reshape(1, 8, 1) + 1.0
    pooled = ops.convert_to_numpy(layers.WindowMean(2)([vectors, ids]))
    np.testing.assert_allclose(pooled[0, :, 0], [1.5, 3.0, 0.0, 0.0])
    mask = ops.convert_to_numpy(layers.WindowMask(2)(ids))
    assert mask.tolist() == [[True, True, False, False]]
    states = np.array([[[1.0], [3.0], [100.0], [100.0]]], dtype=np.float32)
    assert float(ops.convert_to_numpy(layers.MaskedMean()(states, mask))[0, 0]) == pytest.approx(2.0)
    attended = ops.convert_to_numpy(layers.AttentionPooling(4)(states, mask=mask))
    assert 1.0 <= float(attended[0, 0]) <= 3.0  # padding windows get no weight


def test_drop_frequent_turns_oov_and_the_most_frequent_words_into_padding():
    from keras import ops

    from tubetags.strategies import bilstm_layers as layers

    ids = np.array([[0, 1, 2, 3, 4, 5]])  # 0 pad, 1 OOV, 2.. words by falling frequency
    assert ops.convert_to_numpy(layers.DropFrequent(2)(ids)).tolist() == [[0, 0, 0, 0, 4, 5]]
    states = np.array([[[1.0], [3.0], [100.0]]], dtype=np.float32)
    mask = np.array([[True, True, False]])
    assert float(ops.convert_to_numpy(layers.MaskedMax()(states, mask))[0, 0]) == 3.0
