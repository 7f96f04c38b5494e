"""What a job is, and the one way every job is run (`run_job`): parsing, errors to exit codes, the report.

A job is a function of one validated config (`tubetags.config.JobConfig`) that returns a result, plus a
function that turns the result into the lines a person reads at the end. Jobs live in `pipelines/` (data)
and `experiments/` (training, evaluation, promotion); each module declares its `JOB`, and
`tubetags.cli` lists them as subcommands. This module starts nothing by itself.

Exit codes: 0 done; 1 the job failed in a way it explains (`JobError`, a missing source file);
2 the command line or config is invalid; a `JobError` subclass may carry its own code
(ingest's spent quota 75, the drift alarm 3); 130 interrupted.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from tubetags.config import JobConfig

log = logging.getLogger(__name__)

C = TypeVar("C", bound=JobConfig)

EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
LOG_FORMAT = "%(message)s"


class JobError(RuntimeError):
    """A job cannot go on, for a reason the message gives in words (no traceback is shown)."""

    exit_code = EXIT_FAILED


@dataclass(frozen=True)
class Job(Generic[C]):
    name: str  # the subcommand, e.g. "build-corpus"
    config: type[C]
    run: Callable[[C], Any]
    report: Callable[[C, Any], Sequence[str]] | None = None  # what the person reads at the end
    # A result that is no failure but that a scheduler must act on (the drift alarm, a spent quota).
    exit_code: Callable[[C, Any], int] | None = None
    summary: str = ""  # one line for `tubetags --help`

    @property
    def description(self) -> str:
        """The job module's docstring (its usage), shown by `--help`."""
        module = sys.modules.get(self.run.__module__)
        return (module.__doc__ or self.summary) if module else self.summary


def configure_logging(level: int = logging.INFO) -> None:
    """Plain messages on stderr for every logger (jobs, the library, MLflow); stdout is for the report.

    Called once by the command line before a job is imported; a host that has set up logging already (a test
    run, a notebook) keeps its own."""
    logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr)


def run_job(job: Job[Any], argv: Sequence[str] | None = None) -> Any:
    """Parse `argv` into the job's config, run it, write its report to stdout; exit with a code on failure."""
    from tubetags.settings import MissingDataError

    config = job.config.from_cli(argv, job.description, prog=f"tubetags {job.name}")  # exits 2 if invalid
    try:
        result = job.run(config)
    except (JobError, MissingDataError) as error:
        log.error("%s: %s", job.name, error)
        raise SystemExit(getattr(error, "exit_code", EXIT_FAILED)) from None
    except KeyboardInterrupt:
        log.error("%s: interrupted", job.name)
        raise SystemExit(EXIT_INTERRUPTED) from None
    if job.report is not None:
        lines = job.report(config, result)
        if lines:
            sys.stdout.write("\n".join(lines) + "\n")
    code = job.exit_code(config, result) if job.exit_code is not None else 0
    if code:
        raise SystemExit(code)
    return result
