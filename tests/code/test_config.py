"""Job configs (tubetags.config): one typed path from YAML, the command line and MLproject."""

from __future__ import annotations

import pytest

from experiments.compare import CompareConfig
from experiments.experiment import ExperimentConfig
from experiments.refit import RefitConfig
from experiments.train import TrainConfig, best_epoch
from tubetags import registry
from tubetags.config import ConfigError, parse_assignments
from tubetags.strategies import EXPERIMENT_STRATEGIES, STRATEGIES, predictor_class


def test_command_line_text_is_parsed_once_into_types():
    config = ExperimentConfig.from_cli(["--seeds", "3", "--strategies", "baseline,zero_shot", "--quick", "false"])
    assert config.seeds == 3 and config.strategies == ["baseline", "zero_shot"] and config.quick is False
    assert CompareConfig.from_cli(["--latency-budget-ms", "250", "--bench", "no"]).latency_budget_ms == 250.0


@pytest.mark.parametrize(
    "argv",
    [
        ["--seeds", "2.5"],
        ["--seeds", "0"],
        ["--strategies", "baseline,nope"],
        ["--quick", "maybe"],
        ["--no-such-flag", "1"],
    ],
)
def test_bad_values_exit_with_a_message(argv, capsys):
    with pytest.raises(SystemExit):
        ExperimentConfig.from_cli(argv)
    assert "error" in capsys.readouterr().err


def test_refit_takes_only_the_strategies_the_experiment_trains(capsys):
    assert RefitConfig.from_cli(["--strategies", "baseline, bilstm"]).strategies == ["baseline", "bilstm"]
    untrained = next(name for name in STRATEGIES if name not in EXPERIMENT_STRATEGIES)
    with pytest.raises(SystemExit):
        RefitConfig.from_cli(["--strategies", f"baseline,{untrained}"])
    assert untrained in capsys.readouterr().err


def test_a_named_config_file_must_exist_and_hold_a_mapping(tmp_path, capsys):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match=str(missing)):
        CompareConfig.load(path=missing)
    with pytest.raises(SystemExit) as stopped:
        CompareConfig.from_cli(["--config", str(missing)])
    assert stopped.value.code == 2 and str(missing) in capsys.readouterr().err
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping"):
        CompareConfig.load(path=listed)
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [1,\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        CompareConfig.load(path=broken)


def test_a_config_file_sets_fields_and_the_command_line_wins(tmp_path):
    path = tmp_path / "compare.yaml"
    path.write_text("latency_budget_ms: 30\nlatency_runs: 4\n")
    config = CompareConfig.from_cli(["--config", str(path), "--latency-runs", "7"])
    assert config.latency_budget_ms == 30 and config.latency_runs == 7


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
    assert parse_assignments(["epochs=3 encoder=minilm", "", "rate=0.001"]) == {
        "epochs": 3,
        "encoder": "minilm",
        "rate": 0.001,
    }
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


def test_strategy_table_drives_aliases_and_experiment():
    assert registry.SERVED_ALIASES[0] == registry.PRODUCTION
    assert set(registry.SERVED_ALIASES[1:]) == {s.alias for s in STRATEGIES.values()}
    assert ExperimentConfig().strategies == list(EXPERIMENT_STRATEGIES)
    assert "hybrid" not in EXPERIMENT_STRATEGIES


def test_fit_splits_are_the_held_out_setting_or_a_refit():
    assert TrainConfig.load({"strategy": "baseline"}).fit_splits == ["train"]
    assert TrainConfig.from_cli(["--strategy", "baseline", "--fit-splits", "train,valid,test"]).fit_splits == [
        "train",
        "valid",
        "test",
    ]
    for wrong in ("valid", "train,test", "test,train,valid"):
        with pytest.raises(ConfigError, match="fit_splits"):
            TrainConfig.load({"strategy": "baseline", "fit_splits": wrong})


def test_best_epoch_is_read_from_the_curve_the_fit_watched():
    assert best_epoch({"loss": [3, 2, 1], "val_loss": [0.9, 0.7, 0.8, 0.75]}) == 2  # Keras: lowest val loss
    assert best_epoch({"val_loss": [0.5, 0.4], "val_p_at_5": [0.2, 0.3, 0.3, 0.1]}) == 2  # P@5 first, first best
    assert best_epoch({"valid_p_at_5": [0.4, 0.45, 0.44]}) == 2  # the baseline's history
    assert best_epoch({"loss": [1.0]}) is None and best_epoch(None) is None
