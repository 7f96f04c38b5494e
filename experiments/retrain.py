"""retrain: when drift alarms or newer labelled videos arrived, refit production on them; promote only if not worse.

    tubetags retrain [--min-new-videos 50] [--min-gain 0] [--force false]
    mlflow run . -e retrain --env-manager local

Triggers (either is enough; `--force true` skips them):
- drift: the latest `monitor` run (MLflow experiment tubetags-monitor) raised its alarm after the production version
  was registered (an alarm production was already retrained for does not count twice);
- data: at least `min_new_videos` labelled videos are in the sources (../shared/data, and what `ingest` collected)
  that the corpus does not hold yet (neither kept nor rejected by its last build).
With no trigger nothing is trained; the run says so. Otherwise:
1. the corpus is rebuilt (`build-corpus`, its configured settings);
2. the newest labelled slice: production's dataset's videos that are new in the rebuilt corpus (in no split of the
   previous build, so the served model never saw them) and land in its test split, the newest talks. Without any,
   the job refuses: retraining on the talks production was trained on teaches it nothing newer (a drift alarm
   without new labels asks for labelled videos: `tubetags ingest`);
3. the challenger is production's strategy with its held-out settings (as `refit` takes them), trained on train +
   valid of the rebuilt corpus: everything but the newest talks. It and the served closed-vocabulary model (for
   the open-vocabulary hybrid, its closed part) are scored on the slice: P@5 with a bootstrap 95% CI over its talks;
4. the rule (`tubetags.evaluation.promotion.challenger_wins`): promoted only if its P@5 is not below production's
   (+ `min_gain`). The same settings are then trained on all labelled data (the slice too), registered with the
   tags `refit_of` (the held-out version it descends from) and `retrained_from` (the production it replaces), and
   made `production`; if production was the hybrid, `open-vocab` rebuilds it around the new closed model.
The decision and its reason are printed and logged as an MLflow run (experiment tubetags-retrain: tag `decision`,
the two P@5 values, the slice size; `retrain.md` as an artifact).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field

from experiments.refit import HELD_OUT_METRIC, refit_settings
from experiments.train import TrainConfig, train
from tubetags import registry, settings, tracking
from tubetags.config import JobConfig
from tubetags.corpus import Corpus
from tubetags.jobs import Job

log = logging.getLogger(__name__)
MONITOR_EXPERIMENT = "tubetags-monitor"
RETRAINED_FROM = "retrained_from"


class RetrainConfig(JobConfig):
    job = "retrain"

    min_new_videos: int = Field(50, ge=1, description="labelled videos not in the corpus yet that trigger a retrain")
    drift: bool = Field(True, description="retrain when the latest monitor run alarmed (after production was made)")
    force: bool = Field(False, description="retrain whatever the triggers say")
    min_gain: float = Field(0.0, description="P@5 the retrained model must gain on the newest slice (0: not worse)")
    latency_budget_ms: float = Field(50, gt=0, description="single-transcript p50 a production model must meet")
    alias: str = Field(registry.PRODUCTION, description="the alias to retrain and replace")
    rebuild_corpus: bool = Field(True, description="rebuild the corpus from the sources first")
    corpus: Path | None = Field(None, description="corpus folder (default: data/corpus)")
    out: Path = Field(Path("reports/retrain"), description="folder for retrain.md")
    open_vocab: dict[str, Any] = Field(
        default_factory=dict,
        description="open-vocab settings for rebuilding a hybrid production (e.g. folds=2); its own defaults if none",
    )


def corpus_ids(corpus: Corpus) -> dict[str, set[str]]:
    """Per dataset, the video ids in any split, and under "rejected" the ids the build left out."""
    import json

    ids = {
        dataset: {v for split in ("train", "valid", "test") for v in corpus.split(dataset, split).column("video_id")}
        for dataset in corpus.manifest["datasets"]
    }
    rejects = corpus.root / "rejects.jsonl"
    ids["rejected"] = (
        {str(json.loads(line)["video_id"]) for line in rejects.read_text().splitlines() if line.strip()}
        if rejects.exists()
        else set()
    )
    return ids


def pending_labelled_videos(corpus: Corpus) -> dict[str, int]:
    """Per dataset, labelled videos in the sources (shared files, ingest's collected/) the corpus does not hold."""
    from pipelines.build_corpus import read_sources

    known = set().union(*corpus_ids(corpus).values())
    sources = {name: settings.require_source_file(name) for name in settings.SOURCE_FILES}
    return {
        dataset: sum(1 for r in rows if r.get("tags") and r.get("transcript") and str(r["video_id"]) not in known)
        for dataset, rows in read_sources(sources).items()
    }


def drift_alarm_since(created_ms: int) -> dict[str, Any] | None:
    """The latest finished monitor run, if it alarmed after `created_ms` (when production was registered)."""
    import mlflow

    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name(MONITOR_EXPERIMENT)
    if experiment is None:
        return None
    runs = client.search_runs(
        [experiment.experiment_id],
        "attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    if not runs or runs[0].data.tags.get("drift_alarm") != "true" or runs[0].info.start_time <= created_ms:
        return None
    return {"run_id": runs[0].info.run_id, "max_psi": runs[0].data.metrics.get("max_psi")}


def slice_score(rows: list[tuple[list[tuple[str, float]], list[str]]]) -> dict[str, Any]:
    """P@5 over (ranked, true tags) rows, with a bootstrap 95% CI over them (the promotion rule's shape)."""
    from tubetags.evaluation.intervals import bootstrap_interval
    from tubetags.ranking_metrics import per_item

    values = per_item([r for r, _ in rows], [t for _, t in rows], ks=(5,))["p_at_5"]
    mean, low, high = bootstrap_interval(values)
    return {"mean": mean, "low": low, "high": high, "n": len(values)}


def served_closed_versions(alias: str) -> tuple[str, str, bool]:
    """(the served closed-vocabulary version, the held-out version it descends from, whether alias is a hybrid)."""
    from tubetags.strategies import STRATEGIES

    version = registry.version_behind(alias)
    if version.tags.get("strategy") == STRATEGIES["hybrid"].name:
        from experiments.open_vocab import closed_model_versions

        served, held_out = closed_model_versions(alias)
        return served, held_out, True
    return str(version.version), registry.held_out_version(alias), False


def retrain(config: RetrainConfig) -> dict[str, Any]:
    import mlflow

    from pipelines.build_corpus import BuildConfig
    from pipelines.build_corpus import build as build_corpus

    tracking.configure(os.environ.get("MLFLOW_EXPERIMENT_NAME", "tubetags-retrain"))
    corpus_dir = Path(config.corpus or settings.corpus_dir())
    previous = Corpus.open(corpus_dir)
    production = registry.version_behind(config.alias)
    out: dict[str, Any] = {"alias": config.alias, "production_version": str(production.version)}
    pending = pending_labelled_videos(previous)
    alarm = drift_alarm_since(int(production.creation_timestamp)) if config.drift else None
    out["new_labelled_videos"], out["drift_alarm"] = pending, alarm
    triggers = [f"{sum(pending.values())} new labelled videos ({pending}) >= {config.min_new_videos}"] * (
        sum(pending.values()) >= config.min_new_videos
    )
    if alarm:
        triggers.append(f"drift alarm in monitor run {alarm['run_id']} (max PSI {alarm['max_psi']:.2f})")
    if config.force:
        triggers.append("forced (--force true)")
    with mlflow.start_run(run_name="retrain") as run:
        tracking.log_new_params(
            {"alias": config.alias, "min_new_videos": config.min_new_videos, "min_gain": config.min_gain}
        )
        mlflow.log_metric("new_labelled_videos", sum(pending.values()))
        out["run_id"] = run.info.run_id
        if not triggers:
            reason = (
                f"nothing to do: {sum(pending.values())} new labelled videos (< {config.min_new_videos}) and no "
                "drift alarm since production was registered"
            )
            return finish(config, out, "skipped", reason)
        out["triggers"] = triggers
        log.info("retrain: %s", "; ".join(triggers))
        before = corpus_ids(previous)
        if config.rebuild_corpus:
            build_corpus(BuildConfig.load({"output": corpus_dir, "track": False}))
        corpus = Corpus.open(corpus_dir)
        served, held_out, hybrid = served_closed_versions(config.alias)
        settings_ = refit_settings(held_out)
        dataset = settings_["dataset"]
        test = corpus.split(dataset, "test")
        new = [
            r
            for r in test.records(columns=("video_id", "transcript", "tags"))
            if r["video_id"] not in before.get(dataset, set())
        ]
        out |= {"strategy": settings_["strategy"], "held_out_version": held_out, "served_closed_version": served}
        out["slice"] = {"dataset": dataset, "videos": len(new), "test_split": len(test)}
        mlflow.log_metric("slice_videos", len(new))
        if not new:
            reason = (
                f"refused: none of the {len(test)} newest {dataset} videos (the rebuilt test split) is new to "
                "production; retraining on the videos it was trained on teaches it nothing newer. Collect newer "
                "labelled videos (`tubetags ingest`), then run retrain again."
            )
            return finish(config, out, "refused", reason)

        base = {
            "strategy": settings_["strategy"],
            "seed": settings_["seed"],
            "dataset": dataset,
            "params": settings_["params"],
            "corpus": corpus_dir,
            "parent_run_id": run.info.run_id,
        }
        challenger = train(TrainConfig.load(base | {"fit_splits": ["train", "valid"], "register_model": False}))
        from tubetags.evaluation.prediction_log import load_predictions

        ids = {r["video_id"] for r in new}
        scored = [
            (list(r.predicted), list(r.tags)) for r in load_predictions(challenger["run_id"]) if r.video_id in ids
        ]
        incumbent = registry.load_version_predictor(served)
        ranked = incumbent.predict([r["transcript"] for r in new], 10)
        latency = compare_latency(settings_["strategy"])
        entries: dict[str, dict[str, Any]] = {
            "retrained": {"metrics": {HELD_OUT_METRIC: slice_score(scored)}, "latency_p50_ms": latency},
            "production": {
                "metrics": {HELD_OUT_METRIC: slice_score([(p, r["tags"]) for p, r in zip(ranked, new)])},
                "latency_p50_ms": latency,  # the same strategy: the measured p50 stands for both
            },
        }
        out["scores"] = {name: e["metrics"][HELD_OUT_METRIC] for name, e in entries.items()}
        out["challenger_run_id"] = challenger["run_id"]
        mlflow.log_metrics({f"{name}_slice_p_at_5": s["mean"] for name, s in out["scores"].items()})
        from tubetags.evaluation.promotion import challenger_wins

        promote, reason = challenger_wins(
            entries["retrained"], entries["production"], config.latency_budget_ms, config.min_gain
        )
        reason = f"on the {len(new)} newest {dataset} videos production never saw: {reason}"
        if not promote:
            return finish(config, out, "refused", reason)
        final = train(TrainConfig.load(base | {"fit_splits": ["train", "valid", "test"]}))
        registry.tag_version(
            final["version"],
            {registry.REFIT_OF: held_out, RETRAINED_FROM: str(production.version), "fit_splits": "train+valid+test"},
        )
        registry.describe_version(
            final["version"], notes=[f"Retrained from version {production.version}: {reason}"]
        )  # the UI's version list says what it was refit from, and the retrain's reason
        out["new_version"] = str(final["version"])
        if hybrid:
            # The served default wraps the closed model: rebuild it around the new one (open-vocab's own rule).
            from experiments.open_vocab import OpenVocabConfig
            from experiments.open_vocab import run as run_open_vocab

            retrained_alias = "retrained"
            registry.set_alias(retrained_alias, final["version"])
            registry.set_alias(config.alias, final["version"])
            wrapped = run_open_vocab(
                OpenVocabConfig.load(
                    config.open_vocab
                    | {"closed_alias": retrained_alias, "corpus": corpus_dir, "parent_run_id": run.info.run_id}
                )
            )
            out["hybrid_version"], out["hybrid_run_id"] = str(wrapped.get("version")), wrapped["run_id"]
        else:
            registry.set_alias(config.alias, final["version"])
        return finish(config, out, "promoted", reason + f" `{config.alias}` -> version {final['version']}.")


def compare_latency(strategy: str) -> float | None:
    from experiments.refit import compare_measurements

    return compare_measurements("tubetags-compare").get(strategy, {}).get("latency_p50_ms")


def finish(config: RetrainConfig, out: dict[str, Any], decision: str, reason: str) -> dict[str, Any]:
    """Log the decision and its reason on the active run, write retrain.md, return the result."""
    import mlflow

    out |= {"decision": decision, "reason": reason}
    log.info("retrain %s: %s", decision, reason)
    mlflow.set_tags({"decision": decision, "reason": reason[:5000]})
    config.out.mkdir(parents=True, exist_ok=True)
    path = config.out / "retrain.md"
    path.write_text(retrain_markdown(out))
    mlflow.log_artifact(str(path), artifact_path="reports")
    return out


def retrain_markdown(out: Mapping[str, Any]) -> str:
    when = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    lines = [
        f"# Retrain ({when})",
        "",
        f"**{out['decision']}**: {out['reason']}",
        "",
        f"- production (`{out['alias']}`): version {out['production_version']}",
        f"- new labelled videos not in the corpus: {out['new_labelled_videos']}",
        f"- drift alarm: {out['drift_alarm'] or 'none since production was registered'}",
    ]
    if "triggers" in out:
        lines.append(f"- triggers: {'; '.join(out['triggers'])}")
    if "slice" in out:
        lines.append(f"- newest slice: {out['slice']}")
    for name, score in out.get("scores", {}).items():
        lines.append(
            f"- {name}: P@5 {score['mean']:.3f} [{score['low']:.3f}, {score['high']:.3f}] on {score['n']} videos"
        )
    if "new_version" in out:
        lines.append(f"- new version: {out['new_version']}")
    return "\n".join(lines) + "\n"


JOB = Job(
    "retrain",
    RetrainConfig,
    retrain,
    report=lambda _config, out: [f"retrain {out['decision']}: {out['reason']}"],
    summary="on drift or new labelled videos: rebuild, refit production, promote only if not worse on the newest",
)
