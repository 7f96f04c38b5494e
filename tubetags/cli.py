"""`tubetags`: one command line for every job.

    tubetags --help                    the jobs, one line each
    tubetags JOB --help                the job's usage, every field of its config with its default
    tubetags JOB [--config FILE] [--field value ...]

Each job module declares `JOB` (`tubetags.jobs.Job`); this table only says where to find it, so that
`tubetags --help` imports no job (nor TensorFlow). MLproject's entry points call these subcommands.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any

from tubetags.jobs import Job, configure_logging, run_job

# subcommand -> module declaring JOB, with the one-line summary shown by `tubetags --help`
JOBS: dict[str, tuple[str, str]] = {
    "build-corpus": ("pipelines.build_corpus", "source files -> data contract -> splits -> Parquet shards"),
    "ingest": ("pipelines.ingest", "collect YouTube videos: metadata, captions or Whisper, tags"),
    "batch-tag": ("pipelines.batch_tag", "tag every video of a channel or catalogue on Spark -> Parquet by channel"),
    "channel-report": ("pipelines.channel_report", "one channel's tags from its batch output: budget, gaps, chart"),
    "monitor": ("pipelines.monitor_drift", "drift of the served requests against the validation profile"),
    "train": ("experiments.train", "fit one strategy with one seed, evaluate, log, register"),
    "experiment": ("experiments.experiment", "every strategy over several seeds under one MLflow run"),
    "compare": ("experiments.compare", "CIs, chart, errors, costs; choose and promote production"),
    "refit": ("experiments.refit", "every arm retrained on more data; production chosen among the refits"),
    "open-vocab": ("experiments.open_vocab", "the served default: closed vocabulary + keyphrases"),
    "retrain": ("experiments.retrain", "on drift or new labelled videos: refit production, promote if not worse"),
}


def load_job(name: str) -> Job[Any]:
    module, _ = JOBS[name]
    job: Job[Any] = importlib.import_module(module).JOB
    return job


def usage() -> str:
    width = max(map(len, JOBS))
    lines = ["usage: tubetags JOB [--config FILE] [--field value ...]", "", "jobs:"]
    lines += [f"  {name:{width}}  {summary}" for name, (_, summary) in JOBS.items()]
    lines += ["", "`tubetags JOB --help` lists the job's fields and their defaults."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> Any:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        sys.stdout.write(usage() + "\n")
        return None
    name, rest = args[0], args[1:]
    if name not in JOBS:
        sys.stderr.write(f"tubetags: unknown job {name!r}\n\n{usage()}\n")
        raise SystemExit(2)
    configure_logging()
    return run_job(load_job(name), rest)
