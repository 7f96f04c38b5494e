"""Where things live. Every location can be overridden from the environment."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# The two source files the corpus is built from (see ../shared/README.md).
SOURCE_FILES = {
    "ted": "ted_talks.csv.gz",
    "youtube": "youtube_videos.csv.gz",
}


def data_dir() -> Path:
    """Input data: ../shared/data beside the checkout unless TUBETAGS_DATA_DIR says otherwise."""
    return Path(os.environ.get("TUBETAGS_DATA_DIR", REPO_ROOT.parent / "shared" / "data"))


def work_dir() -> Path:
    """Generated data (corpus shards, rejects, caches); git-ignored."""
    return Path(os.environ.get("TUBETAGS_WORK_DIR", REPO_ROOT / "data"))


def corpus_dir() -> Path:
    return Path(os.environ.get("TUBETAGS_CORPUS_DIR", work_dir() / "corpus"))


def cache_dir() -> Path:
    return work_dir() / "cache"


def mlruns_dir() -> Path:
    return REPO_ROOT / "mlruns"


def tracking_uri() -> str:
    """sqlite, because the model registry needs a database; MLFLOW_TRACKING_URI overrides."""
    return os.environ.get("MLFLOW_TRACKING_URI", f"sqlite:///{mlruns_dir() / 'mlflow.db'}")


def whisper_checkpoint() -> str:
    """A path to an openai-whisper checkpoint, or a model name ('base') that whisper downloads online."""
    default = REPO_ROOT.parent / "shared" / "models" / "whisper-base.pt"
    return os.environ.get("TUBETAGS_WHISPER_MODEL", str(default) if default.exists() else "base")


class MissingDataError(FileNotFoundError):
    """Raised with a message that says which files are needed and where they come from."""


def require_source_file(name: str) -> Path:
    path = data_dir() / SOURCE_FILES[name]
    if not path.exists():
        raise MissingDataError(
            f"Source file not found: {path}\n"
            f"tubetags needs {', '.join(SOURCE_FILES.values())} in {data_dir()}.\n"
            "They ship in ../shared/data beside the checkout (see ../shared/README.md for their "
            "provenance: TED transcripts from johnlaudun/tedtalks + Kaggle ted_main.csv, YouTube "
            "transcripts from the QueryTube repositories). Put them there or point "
            "TUBETAGS_DATA_DIR at the folder that holds them."
        )
    return path
