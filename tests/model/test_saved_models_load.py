"""A model saved before the open-vocabulary modules moved (tubetags.keyphrases -> tubetags.openvocab.keyphrases,
tubetags.metrics -> tubetags.ranking_metrics, ...) still loads and answers the same through the pyfunc contract.

The fixture is a tiny hybrid (closed TF-IDF model + keyphrases + phrase ranker + talk style + learned merge), made
with the code of the commit before the move by building those parts on tests/code/webapp/tiny_registry.py's
synthetic videos and `mlflow.pyfunc.save_model(python_model=registry.PyfuncTagger(), ...)`; the expected answer
below is what that code answered.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import mlflow.pyfunc
import pandas as pd
import pytest

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "hybrid-before-openvocab-move.tar.gz"
SAMPLE = "we bake bread in the oven with flour and butter, then debug a python function and a loop"


def test_a_hybrid_saved_before_the_move_loads_and_answers_as_it_did(tmp_path):
    with tarfile.open(FIXTURE) as archive:
        archive.extractall(tmp_path, filter="data")
    model = mlflow.pyfunc.load_model(str(tmp_path / "legacy-hybrid"))
    out = model.predict(pd.DataFrame({"transcript": [SAMPLE]}), params={"k": 5})
    assert list(out["tags"][0][:2]) == ["cooking", "python"]
    assert list(out["scores"][0][:2]) == pytest.approx([0.9999610950229458] * 2)
    assert list(out["sources"][0]) == ["closed"] * 5
    inner = model.unwrap_python_model().predictor
    assert type(inner).__module__ == "tubetags.strategies.hybrid" and inner.merge is not None
