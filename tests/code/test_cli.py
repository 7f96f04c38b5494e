"""The `tubetags` command line: one subcommand per job, --help, typed errors to exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import Field

from tubetags import cli, settings
from tubetags.config import JobConfig
from tubetags.jobs import Job, JobError, run_job


class EchoConfig(JobConfig):
    job = "echo"

    words: int = Field(2, ge=1, description="how many words")


def echo(config: EchoConfig) -> list[str]:
    if config.words > 5:
        raise JobError("too many words: at most 5")
    return ["word"] * config.words


ECHO = Job(
    "echo",
    EchoConfig,
    echo,
    report=lambda config, words: [" ".join(words)],
    exit_code=lambda config, words: 3 if len(words) == 4 else 0,
)


def test_run_job_parses_runs_and_reports(capsys):
    assert run_job(ECHO, ["--words", "3"]) == ["word"] * 3
    assert capsys.readouterr().out == "word word word\n"


@pytest.mark.parametrize(
    "argv, code",
    [(["--words", "0"], 2), (["--words", "x"], 2), (["--nope", "1"], 2), (["--words", "9"], 1), (["--words", "4"], 3)],
)
def test_errors_become_exit_codes(argv, code, caplog):
    with pytest.raises(SystemExit) as stopped:
        run_job(ECHO, argv)
    assert stopped.value.code == code
    if code == 1:
        assert "echo: too many words: at most 5" in caplog.text


def test_every_job_loads_with_its_config_and_report():
    for name in cli.JOBS:
        job = cli.load_job(name)
        assert job.name == name and issubclass(job.config, JobConfig) and job.report is not None
        assert job.description.strip().splitlines()[0]  # the module's usage text, shown by --help


def test_help_lists_every_job(capsys):
    cli.main(["--help"])
    out = capsys.readouterr().out
    assert all(name in out for name in cli.JOBS)


def test_unknown_job_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["tran"])
    assert stopped.value.code == 2 and "unknown job 'tran'" in capsys.readouterr().err


@pytest.mark.slow
def test_console_script_help_and_a_missing_config_file():
    """As a user types it: `python -m tubetags compare --help`, and a --config path that does not exist."""
    run = [sys.executable, "-m", "tubetags"]
    shown = subprocess.run([*run, "compare", "--help"], capture_output=True, text=True, cwd=settings.REPO_ROOT)
    assert shown.returncode == 0 and "--latency-budget-ms" in shown.stdout and "(default: 50" in shown.stdout
    missing = subprocess.run(
        [*run, "compare", "--config", "configs/nope.yaml"], capture_output=True, text=True, cwd=settings.REPO_ROOT
    )
    assert missing.returncode == 2 and "configs/nope.yaml" in missing.stderr
