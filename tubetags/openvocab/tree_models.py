"""What the small scikit-learn tree models of a request share (the learned merge, the phrase ranker).

One OpenMP thread: the gradient-boosted trees predict through OpenMP; for a few dozen rows one thread is
fastest, and OpenMP's worker threads spin-wait between calls: in every gunicorn worker at once they took ~1 s of
CPU per request (measured by scripts/bench_api.py). `threadpool_limits(...)` finds the loaded libraries anew on
every call (~7 ms: it reads the process's memory map), so the controller is built once per process and reused. It
limits the libraries loaded when it was built, at the first prediction: the trees' OpenMP runtime is loaded with
scikit-learn, when the model is unpickled, before that.

Persistence: a model is pickled with the names of the features it was fitted on, and refused at load time when
the code's features differ (a model fitted on other columns would score silently wrong).
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from contextlib import AbstractContextManager
from functools import cache
from pathlib import Path
from typing import Any


@cache
def _controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def single_openmp_thread() -> AbstractContextManager:
    return _controller().limit(limits=1, user_api="openmp")


def save_model(path: Path, features: Sequence[str], model: Any, **state: Any) -> None:
    with Path(path).open("wb") as handle:
        pickle.dump({"features": list(features), "model": model, **state}, handle)


def load_model(path: Path, features: Sequence[str], what: str) -> dict[str, Any]:
    """The saved state ({"model": ..., and what else was saved}); ValueError if fitted on other features."""
    with Path(path).open("rb") as handle:
        state = pickle.load(handle)  # our own artifact, logged with the model
    if state.get("features") != list(features):
        raise ValueError(f"the saved {what} was fitted on other features: refit it")
    return state
