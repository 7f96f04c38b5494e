"""The one-thread limit for small tree predictions: built once per process, and it really limits OpenMP."""

import sklearn.ensemble  # noqa: F401 (loads the OpenMP runtime the trees predict with)

from tubetags import threads


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
