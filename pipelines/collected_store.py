"""The collector's folder (work_dir()/collected/): Parquet batches, rejects.jsonl and one state file per request.

Every write is atomic (a temporary file, fsync, rename), so a collector killed at any point, even by SIGKILL,
leaves the old file or the new one; `repair` removes what a kill may leave half-written. One collector at a
time holds the folder's lock.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from data_contracts import Rejection
from tubetags import settings
from tubetags.corpus import SCHEMA
from tubetags.jobs import JobError

REJECTS = "rejects.jsonl"


def collected_dir() -> Path:
    return settings.work_dir() / "collected"


def atomic_write(path: Path, data: bytes) -> None:
    """Readers (and a restart after SIGKILL) see the old file or the new one, never half of one."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


@dataclass(frozen=True)
class Request:
    """What to collect: 'videos' (ids), 'playlist', 'channel' (id) or 'handle'."""

    kind: str
    value: str | tuple[str, ...]

    @property
    def key(self) -> str:
        """File-name-safe name of the request's state file."""
        if self.kind == "videos":
            digest = hashlib.sha1(",".join(sorted(self.value)).encode()).hexdigest()[:12]
            return f"videos-{digest}"
        return f"{self.kind}-{re.sub(r'[^A-Za-z0-9_.@-]', '_', str(self.value))}"


class CollectorBusy(JobError):
    """Another collector holds the lock on the collected/ folder."""


class CollectedStore:
    """collected/: Parquet batches, rejects.jsonl and one state file per request."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.rejects = self.folder / REJECTS
        (self.folder / "state").mkdir(parents=True, exist_ok=True)
        self._lock: IO[str] | None = None

    def lock(self) -> None:
        """One collector at a time; the OS drops the lock when the process dies, even by SIGKILL."""
        self._lock = (self.folder / ".lock").open("w")  # noqa: SIM115 (held: the lock lives with the file)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CollectorBusy(f"Another collector is writing to {self.folder}; wait for it to finish.") from None

    def unlock(self) -> None:
        if self._lock:
            self._lock.close()  # closing releases the flock
            self._lock = None

    def repair(self) -> None:
        """Undo what a kill may leave: temp files, and a torn last line in rejects.jsonl."""
        for tmp in self.folder.rglob("*.tmp"):
            tmp.unlink()
        if self.rejects.exists():
            data = self.rejects.read_bytes()
            if data and not data.endswith(b"\n"):
                os.truncate(self.rejects, data.rfind(b"\n") + 1)

    def accepted_ids(self) -> list[str]:
        return [
            v
            for path in sorted(self.folder.glob("*.parquet"))
            for v in pq.read_table(path, columns=["video_id"]).column("video_id").to_pylist()
        ]

    def rejected_ids(self) -> list[str]:
        if not self.rejects.exists():
            return []
        return [json.loads(line)["video_id"] for line in self.rejects.read_text().splitlines() if line.strip()]

    def done_ids(self) -> set[str]:
        return set(self.accepted_ids()) | set(self.rejected_ids())

    def commit(self, rows: list[dict[str, Any]], rejections: list[Rejection]) -> None:
        """Parquet first, then rejects: a kill in between leaves the rejected ones undone, redone on restart."""
        if rows:
            sink = pa.BufferOutputStream()
            pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), sink, compression="zstd")
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
            atomic_write(self.folder / f"batch-{stamp}-{os.getpid()}.parquet", sink.getvalue().to_pybytes())
        if rejections:
            with self.rejects.open("ab") as handle:
                handle.write(b"".join(json.dumps(r.to_row(), default=str).encode() + b"\n" for r in rejections))
                handle.flush()
                os.fsync(handle.fileno())

    def state_path(self, request: Request) -> Path:
        return self.folder / "state" / f"{request.key}.json"

    def load_state(self, request: Request) -> dict[str, Any] | None:
        path = self.state_path(request)
        return json.loads(path.read_text()) if path.exists() else None

    def save_state(self, request: Request, state: dict[str, Any]) -> None:
        state["updated_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        atomic_write(self.state_path(request), json.dumps(state, indent=1).encode())
