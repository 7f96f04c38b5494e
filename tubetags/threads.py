"""One OpenMP thread for the small tree-model predictions of a request (the merge, the phrase ranker).

scikit-learn's gradient-boosted trees predict with OpenMP. For a few dozen rows one thread is fastest, and
OpenMP's worker threads spin-wait between calls: in every gunicorn worker at once they took ~1 s of CPU per
request (measured by scripts/bench_api.py). `threadpool_limits(...)` finds the loaded libraries anew on every
call (~7 ms: it reads the process's memory map), so the controller is built once per process and reused. It
limits the libraries loaded when it was built, at the first prediction: the trees' OpenMP runtime is loaded with
scikit-learn, when the model is unpickled, before that.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import cache
from typing import Any


@cache
def _controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def single_openmp_thread() -> AbstractContextManager:
    return _controller().limit(limits=1, user_api="openmp")
