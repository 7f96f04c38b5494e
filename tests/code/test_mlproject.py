"""MLproject: every entry point calls a `tubetags` job with the job config's defaults; one per strategy."""

from __future__ import annotations

import shlex
from typing import Any

import pytest
import yaml

from tubetags import cli, settings
from tubetags.strategies import STRATEGIES

ENTRY_POINTS: dict[str, Any] = yaml.safe_load((settings.REPO_ROOT / "MLproject").read_text())["entry_points"]
REQUIRED = {
    "train": {"strategy": "baseline"},
    "ingest": {"channel_handle": "@x"},
    "batch-tag": {"input": "in.parquet", "output": "out"},
    "channel-report": {"batch": "out", "channel": "@x"},
}


def job_of(entry: dict[str, Any]) -> str:
    words = shlex.split(entry["command"])
    assert words[:3] == ["python", "-m", "tubetags"], entry["command"]
    return words[3]


def test_every_job_has_an_entry_point_of_its_name():
    assert {job_of(entry) for entry in ENTRY_POINTS.values()} == set(cli.JOBS)
    for job in cli.JOBS:
        assert job.replace("-", "_") in ENTRY_POINTS, job


def test_each_experiment_strategy_has_its_own_entry_point():
    """`mlflow run . -e train_bilstm` and friends: exactly the strategy table's, each training its strategy."""
    expected = {s.entry_point: name for name, s in STRATEGIES.items() if s.entry_point}
    assert {
        "train_baseline",
        "train_bilstm",
        "train_encoder_head",
        "train_encoder_head_fast",
        "train_distilled",
        "train_stacked",
        "zero_shot",
    } == set(expected)
    for entry_point, strategy in expected.items():
        command = shlex.split(ENTRY_POINTS[entry_point]["command"])
        assert command[3] == "train" and command[command.index("--strategy") + 1] == strategy
        # A strategy that learns nothing takes no seed; the others do.
        assert ("seed" in ENTRY_POINTS[entry_point]["parameters"]) == STRATEGIES[strategy].learns


@pytest.mark.parametrize("entry_point", sorted(ENTRY_POINTS))
def test_parameters_are_passed_and_defaults_equal_the_job_config(entry_point):
    entry = ENTRY_POINTS[entry_point]
    config_class = cli.load_job(job_of(entry)).config
    fields = config_class.model_fields
    for name, param in entry["parameters"].items():
        assert f"{{{name}}}" in entry["command"], name
        assert name in fields, name
        if name in ("params", "strategy") or param.get("default", "") == "":  # no default: a required field
            continue
        given = config_class.model_validate({**REQUIRED.get(job_of(entry), {}), name: param["default"]})
        assert getattr(given, name) == fields[name].get_default(call_default_factory=True), name


def test_learns_matches_the_predictor_class():
    from tubetags.strategies import predictor_class

    for name, spec in STRATEGIES.items():
        if spec.in_experiment:
            assert spec.learns is not predictor_class(name).deterministic, name
