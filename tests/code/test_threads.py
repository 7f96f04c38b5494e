"""The one-thread limit for small tree predictions: built once per process, and it really limits OpenMP."""

import sklearn.ensemble  # noqa: F401 (loads the OpenMP runtime the trees predict with)
from threadpoolctl import threadpool_info

from tubetags import threads


def test_the_controller_is_built_once_and_limits_openmp_inside_only():
    assert threads._controller() is threads._controller()  # no library scan per request
    openmp = [lib for lib in threadpool_info() if lib["user_api"] == "openmp"]
    assert openmp  # else this test would check nothing
    with threads.single_openmp_thread():
        inside = [lib for lib in threadpool_info() if lib["user_api"] == "openmp"]
        assert all(lib["num_threads"] == 1 for lib in inside)
    after = [lib for lib in threadpool_info() if lib["user_api"] == "openmp"]
    assert [lib["num_threads"] for lib in after] == [lib["num_threads"] for lib in openmp]
