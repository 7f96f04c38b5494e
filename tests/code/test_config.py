"""Job configs (tubetags.config): one typed path from YAML, the command line and MLproject."""

from __future__ import annotations

import pytest
import yaml

from experiments.experiment import ExperimentConfig
from experiments.open_vocab import OpenVocabConfig
from experiments.refit import RefitConfig
from experiments.train import TrainConfig, best_epoch
from pipelines.build_corpus import BuildConfig
from pipelines.ingest import IngestConfig
from pipelines.monitor import MonitorConfig
from tubetags import registry, settings
from tubetags.config import ConfigError, parse_assignments
from tubetags.evaluation.compare import CompareConfig
from tubetags.strategies import EXPERIMENT_STRATEGIES, STRATEGIES, predictor_class

JOBS = {"build_corpus": BuildConfig, "ingest": IngestConfig, "train": TrainConfig, "experiment": ExperimentConfig,
        "compare": CompareConfig, "refit": RefitConfig, "open_vocab": OpenVocabConfig,
        "monitor": MonitorConfig}


def test_command_line_text_is_parsed_once_into_types():
    config = ExperimentConfig.from_cli(["--seeds", "3", "--strategies", "baseline,zero_shot", "--quick", "false"])
    assert config.seeds == 3 and config.strategies == ["baseline", "zero_shot"] and config.quick is False
    assert CompareConfig.from_cli(["--latency-budget-ms", "250", "--bench", "no"]).latency_budget_ms == 250.0


@pytest.mark.parametrize("argv", [["--seeds", "2.5"], ["--seeds", "0"], ["--strategies", "baseline,nope"],
                                  ["--quick", "maybe"], ["--no-such-flag", "1"]])
def test_bad_values_exit_with_a_message(argv, capsys):
    with pytest.raises(SystemExit):
        ExperimentConfig.from_cli(argv)
    assert "error" in capsys.readouterr().err


def test_unknown_yaml_key_is_an_error(tmp_path):
    path = tmp_path / "compare.yaml"
    path.write_text("latency_budget: 5\n")  # a typo of latency_budget_ms
    with pytest.raises(ConfigError, match="latency_budget"):
        CompareConfig.load(path=path)


def test_train_params_yaml_then_quick_then_command_line():
    full = TrainConfig.load({"strategy": "baseline"})
    quick = TrainConfig.from_cli(["--strategy", "baseline", "--quick", "true", "--params", "alpha=0.01 epochs=7"])
    assert full.params["epochs"] == 5 and full.params["max_features"] == 50000
    assert quick.params["max_features"] == 20000  # quick_params
    assert quick.params["epochs"] == 7 and quick.params["alpha"] == 0.01  # the command line wins over quick_params


def test_parse_assignments_reads_yaml_values_and_skips_blanks():
    assert parse_assignments(["epochs=3 encoder=minilm", "", "rate=0.001"]) == \
        {"epochs": 3, "encoder": "minilm", "rate": 0.001}
    with pytest.raises(ConfigError):
        parse_assignments(["epochs"])


def test_every_strategy_config_builds_its_predictor():
    for name, spec in STRATEGIES.items():
        if not spec.in_experiment:
            continue  # the hybrid wraps a registered model: built by open_vocab, not from a YAML file
        config = TrainConfig.load({"strategy": name, "quick": True})
        cls = predictor_class(name)
        assert cls.strategy == name
        assert set(config.params) <= set(cls.__init__.__code__.co_varnames), name


def test_mlproject_defaults_equal_the_job_configs():
    project = yaml.safe_load((settings.REPO_ROOT / "MLproject").read_text())["entry_points"]
    assert set(project) == set(JOBS)
    for job, entry in project.items():
        defaults = JOBS[job].model_fields
        for name, param in entry["parameters"].items():
            assert f"{{{name}}}" in entry["command"], (job, name)
            if name in ("params", "strategy") or name not in defaults:
                assert name in defaults or name == "params", (job, name)
                continue
            default = defaults[name].get_default(call_default_factory=True)
            given = JOBS[job].model_validate({**_required(job), name: param["default"]}).__dict__[name] \
                if param["default"] != "" else None
            assert given == default or (given is None and not default), (job, name, param["default"], default)


def _required(job: str) -> dict:
    return {"train": {"strategy": "baseline"}, "ingest": {"channel_handle": "@x"}}.get(job, {})


def test_strategy_table_drives_aliases_and_experiment():
    assert registry.SERVED_ALIASES[0] == registry.PRODUCTION
    assert set(registry.SERVED_ALIASES[1:]) == {s.alias for s in STRATEGIES.values()}
    assert ExperimentConfig().strategies == list(EXPERIMENT_STRATEGIES)
    assert "hybrid" not in EXPERIMENT_STRATEGIES


def test_fit_splits_are_the_held_out_setting_or_a_refit():
    assert TrainConfig.load({"strategy": "baseline"}).fit_splits == ["train"]
    assert TrainConfig.from_cli(["--strategy", "baseline", "--fit-splits", "train,valid,test"]).fit_splits == \
        ["train", "valid", "test"]
    for wrong in ("valid", "train,test", "test,train,valid"):
        with pytest.raises(ConfigError, match="fit_splits"):
            TrainConfig.load({"strategy": "baseline", "fit_splits": wrong})


def test_best_epoch_is_read_from_the_curve_the_fit_watched():
    assert best_epoch({"loss": [3, 2, 1], "val_loss": [0.9, 0.7, 0.8, 0.75]}) == 2  # Keras: lowest val loss
    assert best_epoch({"val_loss": [0.5, 0.4], "val_p_at_5": [0.2, 0.3, 0.3, 0.1]}) == 2  # P@5 first, first best
    assert best_epoch({"valid_p_at_5": [0.4, 0.45, 0.44]}) == 2  # the baseline's history
    assert best_epoch({"loss": [1.0]}) is None and best_epoch(None) is None
