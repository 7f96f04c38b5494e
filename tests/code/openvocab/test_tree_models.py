"""The small tree models' shared parts: NumPy prediction equal to scikit-learn's, and feature-checked persistence."""

import numpy as np
import pytest

from tubetags.openvocab.tree_models import CompiledTrees, fit_trees, load_model, save_model


def test_compiled_trees_predict_what_scikit_learn_predicts_missing_values_included():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 6))
    x[rng.random(x.shape) < 0.1] = np.nan  # missing values go where the split sent them in training
    y = np.nan_to_num(x[:, 0]) + np.nan_to_num(x[:, 3]) * np.isnan(x[:, 1]) + rng.normal(0, 0.5, 3000) > 0.3
    model = fit_trees(x, y.astype(int), weights=rng.uniform(0.5, 2.0, 3000))
    new = rng.normal(size=(400, 6))
    new[rng.random(new.shape) < 0.2] = np.nan
    compiled = CompiledTrees(model)
    assert compiled.n_trees == model.n_iter_ and compiled.depth <= 3
    np.testing.assert_allclose(compiled.probabilities(new), model.predict_proba(new)[:, 1], rtol=0, atol=1e-12)
    assert compiled.probabilities(np.zeros((0, 6))).shape == (0,)


def test_a_column_never_filled_does_not_stop_fitting():
    rng = np.random.default_rng(1)
    x = np.column_stack([rng.normal(size=500), np.full(500, np.nan)])  # e.g. title features without titles
    model = fit_trees(x, (x[:, 0] > 0).astype(int))
    assert CompiledTrees(model).probabilities(np.array([[2.0, np.nan], [-2.0, np.nan]])).round().tolist() == [1, 0]
    with pytest.raises(ValueError, match="no .or only. true tags"):
        fit_trees(x, np.zeros(500, dtype=int))


def test_a_model_saved_with_other_features_is_refused(tmp_path):
    save_model(tmp_path / "m.pkl", ["a", "b"], {"weights": [1, 2]}, extra=3)
    state = load_model(tmp_path / "m.pkl", ("a", "b"), "merge")
    assert state["model"] == {"weights": [1, 2]} and state["extra"] == 3
    with pytest.raises(ValueError, match="saved merge was fitted on other features"):
        load_model(tmp_path / "m.pkl", ["a", "b", "c"], "merge")
