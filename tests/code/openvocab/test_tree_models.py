"""The small tree models' shared parts: the one-thread OpenMP limit (built once, really limits) and persistence."""

import pytest
import sklearn.ensemble  # noqa: F401 (loads the OpenMP runtime the trees predict with)

from tubetags.openvocab import tree_models as threads
from tubetags.openvocab.tree_models import load_model, save_model


def test_the_controller_is_built_once_and_limits_openmp_inside_only():
    controller = threads._controller()
    assert controller is threads._controller()  # no library scan per request
    # The controller knows the libraries loaded when it was built (the trees' runtime is loaded with
    # scikit-learn, before any prediction); those are the ones it limits.
    openmp = controller.select(user_api="openmp").lib_controllers
    assert openmp  # else this test would check nothing
    before = [lib.num_threads for lib in openmp]
    with threads.single_openmp_thread():
        assert all(lib.num_threads == 1 for lib in openmp)
    assert [lib.num_threads for lib in openmp] == before


def test_a_model_saved_with_other_features_is_refused(tmp_path):
    save_model(tmp_path / "m.pkl", ["a", "b"], {"weights": [1, 2]}, extra=3)
    state = load_model(tmp_path / "m.pkl", ("a", "b"), "merge")
    assert state["model"] == {"weights": [1, 2]} and state["extra"] == 3
    with pytest.raises(ValueError, match="saved merge was fitted on other features"):
        load_model(tmp_path / "m.pkl", ["a", "b", "c"], "merge")
