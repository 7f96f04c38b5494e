"""Drift monitoring: PSI by hand, privacy of the request summary, and the monitor job on a recorded window
(no alarm) and on a deliberately shifted one (alarm)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from pipelines import monitor_drift as monitor
from tubetags import drift
from tubetags.jobs import run_job

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "monitoring" / "requests-20261120.jsonl"


def keyword_ranker(vocabulary: list[str]):
    """A stand-in model: the vocabulary's tags ranked by how often their words occur in the text."""

    def rank(text: str) -> list[tuple[str, float]]:
        counts = Counter(drift.words_of(text))
        scored = [(tag, sum(counts[w] for w in tag.split() if len(w) > 3)) for tag in vocabulary]
        scored = sorted((s for s in scored if s[1]), key=lambda s: (-s[1], s[0]))[:10]
        top = max((n for _, n in scored), default=1)
        return [(tag, n / top) for tag, n in scored]

    return rank


def test_psi_by_hand():
    # (0.25 - 0.5) ln(0.25/0.5) + (0.75 - 0.5) ln(0.75/0.5) = 0.1733 + 0.1014
    assert drift.psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.2747, abs=1e-4)
    assert drift.psi([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0
    assert drift.level(0.3) == "ALARM" and drift.level(0.12) == "warn" and drift.level(0.01) == "ok"


def test_a_request_summary_keeps_no_transcript():
    text = "my secret recipe for sourdough bread with a very private family story " * 20
    oov = drift.vocabulary_oov({"bread", "my"})
    summary = drift.RequestSummary.of(text, [("bread", 0.9), ("baking", 0.7)], {"version": "3"}, "en", oov)
    line = summary.model_dump_json()
    assert "secret" not in line and "family" not in line
    assert summary.words == 240 and summary.features()["top_tags"] == ["bread", "baking"]
    assert summary.oov_share == pytest.approx(10 / 12)  # 12 words, "my" and "bread" known
    assert set(json.loads(line)) == {
        "v",
        "ts",
        "model",
        "input",
        "k",
        "words",
        "language",
        "oov_share",
        "tags",
        "cached",
        "elapsed_ms",
    }


@pytest.fixture(scope="module")
def reference(real_corpus, tmp_path_factory):
    vocabulary = real_corpus.vocabulary("ted")
    rank = keyword_ranker(vocabulary)
    rows = list(real_corpus.split("ted", "valid").records(columns=("transcript", "language")))
    texts = [r["transcript"] for r in rows]
    profile = drift.build_reference(
        texts,
        [r["language"] for r in rows],
        [rank(t) for t in texts],
        train_word_oov(real_corpus),
        source="ted valid, keyword ranker",
    )
    path = tmp_path_factory.mktemp("monitor") / "reference.json"
    path.write_text(profile.model_dump_json())
    return path


def train_word_oov(corpus):
    """OOV against the 30,000 most frequent words of the TED training talks (the stand-in model's vocabulary)."""
    train = corpus.split("ted", "train").records(columns=("transcript",))
    counts = Counter(w for r in train for w in drift.words_of(r["transcript"]))
    return drift.vocabulary_oov(frozenset(w for w, _ in counts.most_common(30_000)))


def shifted(summary: drift.RequestSummary) -> drift.RequestSummary:
    """Short Portuguese clips about football: another population than TED talks."""
    tags = [drift.TagScore(tag=t, score=s) for t, s in (("futebol", 0.2), ("gol", 0.1), ("campeonato", 0.1))]
    return summary.model_copy(
        update={"words": max(summary.words // 12, 20), "language": "pt", "oov_share": 0.6, "tags": tags}
    )


def test_monitor_job_on_the_recorded_window_and_a_shifted_one(reference, tmp_path, capsys):
    recorded = drift.read_summaries([RECORDED])
    assert len(recorded) >= 100
    out = tmp_path / "report"
    calm = run_job(
        monitor.JOB,
        [
            "--files",
            str(RECORDED),
            "--reference",
            str(reference),
            "--out",
            str(out),
            "--track",
            "false",
            "--fail-on-alarm",
            "true",
        ],
    )
    assert calm["requests"] == len(recorded) and not calm["alarm"], calm
    assert set(calm["features"]) == {"words", "oov_share", "top_score", "language", "top_tags"}

    moved = tmp_path / "requests-20261121.jsonl"
    moved.write_text("".join(shifted(s).model_dump_json() + "\n" for s in recorded) + '{"torn": ')
    with pytest.raises(SystemExit) as stopped:
        run_job(
            monitor.JOB,
            [
                "--files",
                str(moved),
                "--reference",
                str(reference),
                "--out",
                str(out),
                "--track",
                "false",
                "--fail-on-alarm",
                "true",
            ],
        )
    assert stopped.value.code == monitor.EXIT_ALARM
    result = json.loads((out / "drift.json").read_text())
    assert result["alarm"] and result["requests"] == len(recorded)  # the torn last line is skipped
    for feature in ("words", "language", "top_tags", "oov_share"):
        assert result["features"][feature]["level"] == "ALARM", feature
    assert "futebol" in result["features"]["top_tags"]["new_categories"]
    assert "ALARM" in (out / "drift.md").read_text() and "ALARM" in capsys.readouterr().out


def record_fixture(real_corpus) -> None:  # pragma: no cover - how RECORDED was made: TED test talks, one a minute
    rank, oov = keyword_ranker(real_corpus.vocabulary("ted")), train_word_oov(real_corpus)
    model = {"name": "tubetags", "version": "3", "alias": "production", "strategy": "baseline"}
    with RECORDED.open("w") as handle:
        for i, r in enumerate(real_corpus.split("ted", "test").records(columns=("transcript", "language"))):
            summary = drift.RequestSummary.of(
                r["transcript"], rank(r["transcript"]), model, r["language"], oov, elapsed_ms=12.0
            )
            ts = f"2026-11-20T{8 + i // 60:02d}:{i % 60:02d}:00.000Z"
            handle.write(summary.model_copy(update={"ts": ts}).model_dump_json() + "\n")
