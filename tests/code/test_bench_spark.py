"""The Spark benchmark's scaled corpus: copies with their own ids, the same words, and (by default) not
near-duplicates of each other, so the leakage check meets a corpus of distinct videos, not one of copies."""

from __future__ import annotations

import gzip

import pandas as pd

from pipelines.splits import near_duplicates
from scripts.bench_spark import repeated_sources
from tubetags import settings

TALK = "the sourdough starter needs flour and water every day and a warm kitchen to rise well " * 8


def write_sources(folder) -> None:
    ted = pd.DataFrame({"talk_id": ["1", "2"], "title": ["a", "b"], "tags": ["x", "y"], "transcript": [TALK, "hi"]})
    youtube = pd.DataFrame({"video_id": ["v"], "channel": ["c"], "title": ["t"], "tags": ["z"], "transcript": [TALK]})
    for name, frame in (("ted", ted), ("youtube", youtube)):
        frame.to_csv(folder / settings.SOURCE_FILES[name], index=False)


def read(folder, name: str) -> pd.DataFrame:
    with gzip.open(folder / settings.SOURCE_FILES[name], "rt") as handle:
        return pd.read_csv(handle, dtype=str, keep_default_na=False)


def test_copies_have_own_ids_same_words_and_are_not_near_duplicates(tmp_path, monkeypatch):
    monkeypatch.setenv("TUBETAGS_DATA_DIR", str(tmp_path))
    write_sources(tmp_path)
    target, rows = repeated_sources(tmp_path / "scaled", 3)
    ted = read(target, "ted")
    assert rows == 3 * 2 + 3 * 1 and list(ted["talk_id"]) == ["1", "2", "1-r1", "2-r1", "1-r2", "2-r2"]
    copies = [t for i, t in zip(ted["talk_id"], ted["transcript"]) if i.split("-")[0] == "1"]
    assert copies[0] == TALK  # the original is kept as it was
    assert all(sorted(c.split()) == sorted(TALK.split()) for c in copies)  # the same words...
    assert near_duplicates(copies, ["train", "valid", "test"], 0.8) == []  # ...but no copy is a near-duplicate
    exact, _ = repeated_sources(tmp_path / "exact", 2, exact=True)
    assert read(exact, "youtube")["transcript"].nunique() == 1
