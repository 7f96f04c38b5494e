"""Drift monitoring: privacy-safe request summaries, a reference profile, and drift against it.

The web app records, per answered request, a `RequestSummary`: transcript length, language, the share
of words the model has no feature for, and the tags with their scores — never the transcript itself. The
`monitor` job (pipelines/monitor_drift.py) compares a window of those summaries with a `ReferenceProfile`
built from held-out corpus transcripts (what the model was validated on) and reports, per feature,
the population stability index (PSI):

    PSI = sum over bins (window share - reference share) * ln(window share / reference share)

Rule of thumb used as the alarm: PSI < 0.1 stable, 0.1-0.25 moderate shift, >= 0.25 significant
shift (`ALARM_PSI`). Numeric features are binned at the reference's deciles; categorical ones
(language, suggested tags) by category, rare ones pooled as "(other)".
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from tubetags.predictor import Ranked

ALARM_PSI = 0.25
WARN_PSI = 0.1
NUMERIC_FEATURES = ("words", "oov_share", "top_score")
CATEGORICAL_FEATURES = ("language", "top_tags")
TOP_TAGS = 5  # tags per request that count in the tag distribution
MAX_CATEGORIES = 30  # the most frequent reference categories; the rest pool into "(other)"
FORMAT_VERSION = 1
OTHER = "(other)"
_WORD = re.compile(r"[a-z][a-z'-]*")
EPSILON = 1e-4  # share given to an empty bin, so that PSI stays finite


def monitor_dir() -> Path:
    """Where the app writes request summaries and the monitor job reads them: one default for both."""
    from tubetags import settings

    return Path(os.environ.get("TUBETAGS_MONITOR_DIR", settings.work_dir() / "monitoring"))


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def words_of(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def vocabulary_oov(vocabulary: frozenset[str] | set[str]) -> Callable[[str], float | None]:
    """An OOV-share function over a plain word list (for models without a vocabulary of their own)."""

    def share(text: str) -> float | None:
        words = words_of(text)
        return sum(w not in vocabulary for w in words) / len(words) if vocabulary and words else None

    return share


class TagScore(BaseModel):
    tag: str
    score: float


class RequestSummary(BaseModel):
    """One answered request as the app records it (format version 1): no transcript, no client address.

    {"v": 1, "ts": "2026-11-23T08:40:00.123Z", "model": {"name", "version", "alias", "strategy"},
     "input": "json" | "file", "k": 10, "words": 2000, "language": "en", "oov_share": 0.03 | null,
     "tags": [{"tag": "cooking", "score": 0.98}, ...], "cached": false, "elapsed_ms": 12.4}
    """

    model_config = ConfigDict(frozen=True)

    v: int = FORMAT_VERSION
    ts: str = Field(description="UTC time of the answer, ISO 8601")
    model: dict[str, str]
    input: str = "json"
    k: int = 10
    words: int
    language: str
    oov_share: float | None
    tags: list[TagScore]
    cached: bool = False
    elapsed_ms: float | None = None

    @classmethod
    def of(
        cls,
        transcript: str,
        ranked: Ranked,
        model: dict[str, str],
        language: str,
        oov: Callable[[str], float | None] | None = None,
        **fields: Any,
    ) -> RequestSummary:
        return cls(
            ts=utc_now(),
            model=model,
            words=len(transcript.split()),
            language=language,
            oov_share=oov(transcript) if oov else None,
            tags=[TagScore(tag=t, score=round(float(s), 4)) for t, s in ranked],
            **fields,
        )

    def features(self) -> dict[str, Any]:
        return {
            "words": self.words,
            "oov_share": self.oov_share,
            "top_score": self.tags[0].score if self.tags else None,
            "language": self.language,
            "top_tags": [t.tag for t in self.tags[:TOP_TAGS]],
        }


def append_summary(summary: RequestSummary, folder: Path) -> Path:
    """Append to <folder>/requests-YYYYMMDD.jsonl: one write() with O_APPEND, so workers can share the file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"requests-{summary.ts[:10].replace('-', '')}.jsonl"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (summary.model_dump_json() + "\n").encode("utf-8"))
    finally:
        os.close(fd)
    return path


def read_summaries(paths: Iterable[Path]) -> list[RequestSummary]:
    """Every summary in the files; a torn last line (a worker killed mid-write) is skipped."""
    out = []
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            try:
                out.append(RequestSummary.model_validate_json(line))
            except ValueError:
                continue
    return out


class ReferenceProfile(BaseModel):
    """The distribution the model was validated on: decile edges and shares per feature."""

    source: str
    items: int
    numeric: dict[str, dict[str, list[float]]]  # feature -> {"edges": [...], "shares": [...]}
    categorical: dict[str, dict[str, float]]  # feature -> {category: share}


def _numeric_profile(values: Sequence[float]) -> dict[str, list[float]]:
    array = np.asarray([v for v in values if v is not None], dtype=float)
    edges = np.unique(np.quantile(array, np.linspace(0, 1, 11)[1:-1])) if len(array) else np.array([])
    return {"edges": edges.tolist(), "shares": _bin_shares(array, edges).tolist()}


def _bin_shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1).astype(float)
    return counts / max(counts.sum(), 1.0)


def _categorical_profile(items: Iterable[Sequence[str]]) -> dict[str, float]:
    counts = Counter(c for item in items for c in item)
    total = sum(counts.values()) or 1
    kept = dict(counts.most_common(MAX_CATEGORIES))
    shares = {c: n / total for c, n in kept.items()}
    shares[OTHER] = (total - sum(kept.values())) / total
    return shares


def build_reference(
    transcripts: Sequence[str],
    languages: Sequence[str],
    ranked: Sequence[Ranked],
    oov: Callable[[str], float | None] | None,
    source: str,
) -> ReferenceProfile:
    """A profile from held-out transcripts, their languages and the served model's suggestions for them.

    `oov` must be the app's own OOV measure (the served model's, `ServedModel.oov_share`), applied to
    held-out transcripts as it is to requests (on the training texts it would be ~0).
    """
    reference_model = {"name": "reference"}
    summaries = [
        RequestSummary.of(t, r, reference_model, lang, oov) for t, lang, r in zip(transcripts, languages, ranked)
    ]
    features = [s.features() for s in summaries]
    return ReferenceProfile(
        source=source,
        items=len(summaries),
        numeric={f: _numeric_profile([x[f] for x in features]) for f in NUMERIC_FEATURES},
        categorical={
            "language": _categorical_profile([[x["language"]] for x in features]),
            "top_tags": _categorical_profile([x["top_tags"] for x in features]),
        },
    )


def psi(expected: Sequence[float] | np.ndarray, actual: Sequence[float] | np.ndarray) -> float:
    """Population stability index between two share vectors over the same bins."""
    e = np.clip(np.asarray(expected, float), EPSILON, None)
    a = np.clip(np.asarray(actual, float), EPSILON, None)
    return float(np.sum((a - e) * np.log(a / e)))


def level(value: float) -> str:
    return "ALARM" if value >= ALARM_PSI else "warn" if value >= WARN_PSI else "ok"


def drift(reference: ReferenceProfile, window: Sequence[RequestSummary]) -> dict[str, Any]:
    """PSI per feature of `window` against `reference`, with each feature's level and the overall alarm."""
    features = [s.features() for s in window]
    out: dict[str, dict[str, Any]] = {}
    for name, profile in reference.numeric.items():
        values = np.asarray([f[name] for f in features if f[name] is not None], dtype=float)
        if not len(values):
            continue
        shares = _bin_shares(values, np.asarray(profile["edges"]))
        out[name] = {
            "psi": psi(profile["shares"], shares),
            "reference_shares": profile["shares"],
            "window_shares": shares.tolist(),
            "window_median": float(np.median(values)),
        }
    for name, expected in reference.categorical.items():
        items = [[f[name]] if isinstance(f[name], str) else f[name] for f in features]
        counts = Counter(c if c in expected else OTHER for item in items for c in item)
        total = sum(counts.values()) or 1
        actual = {c: counts.get(c, 0) / total for c in expected}
        gained = sorted(
            ((c, n) for c, n in Counter(c for i in items for c in i if c not in expected).items()),
            key=lambda cn: -cn[1],
        )[:5]
        out[name] = {
            "psi": psi(list(expected.values()), list(actual.values())),
            "shifted": sorted(expected, key=lambda c: -abs(actual[c] - expected[c]))[:5],
            "new_categories": [c for c, _ in gained],
        }
    for stats in out.values():
        stats["level"] = level(stats["psi"])
    worst = max((s["psi"] for s in out.values()), default=0.0)
    return {
        "requests": len(window),
        "features": out,
        "max_psi": worst,
        "alarm": worst >= ALARM_PSI,
        "threshold": ALARM_PSI,
    }


def report_markdown(result: Mapping[str, Any], reference: ReferenceProfile, window_label: str) -> str:
    lines = [
        "# Drift report",
        "",
        f"Window: {window_label} ({result['requests']} requests). Reference: {reference.source} "
        f"({reference.items} held-out transcripts).",
        "",
        f"**{'ALARM: significant drift' if result['alarm'] else 'No significant drift'}** — max PSI "
        f"{result['max_psi']:.3f} (alarm at ≥ {ALARM_PSI}, warning at ≥ {WARN_PSI}).",
        "",
        "| feature | PSI | level | notes |",
        "|---|---|---|---|",
    ]
    for name, stats in result["features"].items():
        if "window_median" in stats:
            note = f"window median {stats['window_median']:.3g}"
        else:
            note = "most shifted: " + ", ".join(stats["shifted"][:3])
            if stats["new_categories"]:
                note += "; new: " + ", ".join(stats["new_categories"][:3])
        lines.append(f"| {name} | {stats['psi']:.3f} | {stats['level']} | {note} |")
    lines += [
        "",
        "PSI = Σ (window share − reference share) · ln(window share / reference share) over the reference's "
        "deciles (numeric) or categories (language, top-5 tags; rare ones pooled).",
        "",
    ]
    return "\n".join(lines)
