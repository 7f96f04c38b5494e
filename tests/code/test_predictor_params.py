"""Every predictor saves its constructor parameters; loading rebuilds it with them (no training here)."""

from __future__ import annotations

import inspect
import json

import pytest

from tubetags.predictor import META_FILE, load_predictor
from tubetags.strategies import STRATEGIES, predictor_class
from tubetags.strategies.hybrid import HybridTagger

CLASSES = [predictor_class(name) for name in STRATEGIES]
OBJECT_ARGS = {"closed", "keyphrases"}  # HybridTagger's parts: saved as state, not as parameters


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_init_params_are_exactly_the_constructor_arguments(cls):
    predictor = cls()
    params = predictor.init_params()
    assert set(params) == set(inspect.signature(cls).parameters) - OBJECT_ARGS
    json.dumps(params)  # stored in predictor.json
    assert cls(**params).init_params() == params
    assert predictor.params().items() >= params.items()  # what is logged includes every constructor parameter


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_non_default_parameters_survive_a_rebuild(cls):
    changed = {}
    for name, value in cls().init_params().items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        changed[name] = value + 1 if isinstance(value, int) else value / 2
    assert changed, "no numeric parameter to change"
    assert cls(**changed).init_params().items() >= changed.items()


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_only_non_deterministic_strategies_take_a_seed(cls):
    assert ("seed" in inspect.signature(cls).parameters) == (not cls.deterministic)


def test_every_strategy_is_checked():
    assert HybridTagger in CLASSES and len(CLASSES) >= 5


def test_a_model_saved_without_params_is_refused(tmp_path):
    (tmp_path / META_FILE).write_text(
        json.dumps({"class": "tubetags.strategies.baseline.TfidfLinearTagger", "strategy": "baseline"})
    )
    with pytest.raises(ValueError, match="retrain"):
        load_predictor(tmp_path)
