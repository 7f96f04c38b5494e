"""Everything about the MLflow model registry, in one place.

- the registered model's name (`TUBETAGS_REGISTERED_MODEL`, default `tubetags`) and its aliases:
  `production`, and one per strategy (from the strategy table) for its best version;
- the pyfunc wrapper every strategy is logged as (`transcript` in; ranked `tags` and `scores` out;
  param `k`), and the artifact layout inside it (`artifacts/predictor`);
- loading: `load_served_model` is the one way a registered model is loaded for serving, used by the
  web app's workers and by the cost benchmark alike; `load_registered_predictor` gets the
  `TagPredictor` back (to wrap it, as the open-vocabulary hybrid does);
- descriptions, as the MLflow UI shows them: each version says what it is (strategy, seed, data, test P@5 with
  its run's link, `refit_of`), written when it is registered or re-tagged (`describe_version`); the registered
  model says which version each alias serves, rewritten whenever an alias moves (`describe_model`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import mlflow
import mlflow.pyfunc
from mlflow.models import ModelSignature
from mlflow.pyfunc import PythonModel
from mlflow.types import ColSpec, DataType, ParamSchema, ParamSpec, Schema
from mlflow.types.schema import Array
from typing_extensions import override

from tubetags import settings
from tubetags.inputs import PastVideo, Video, history_json
from tubetags.predictor import Ranked, Sourced, TagPredictor, load_predictor, sourced_to_frame
from tubetags.strategies import STRATEGIES
from tubetags.text import normalise_transcript

log = logging.getLogger(__name__)

PRODUCTION = "production"
STRATEGY_ALIASES = {name: s.alias for name, s in STRATEGIES.items()}
SERVED_ALIASES = (PRODUCTION, *STRATEGY_ALIASES.values())
PREDICTOR_ARTIFACT = "predictor"  # the TagPredictor's folder inside the pyfunc model's artifacts/
# Version tag of a production refit: the held-out version whose settings it was trained with and whose test
# quality it reports (a model trained on the test split has nothing left to be scored on).
REFIT_OF = "refit_of"
HEADLINE_METRIC = "test_p_at_5"  # a held-out run's headline score, quoted in its version's description
SERVING_REQUIREMENTS = settings.REPO_ROOT / "requirements" / "serving.txt"  # the model's environment, not the dev lock


def registered_model() -> str:
    return os.environ.get("TUBETAGS_REGISTERED_MODEL", "tubetags")


def model_uri(alias: str = PRODUCTION) -> str:
    return f"models:/{registered_model()}@{alias}"


def version_uri(version: str | int) -> str:
    return f"models:/{registered_model()}/{version}"


class PyfuncTagger(PythonModel):
    """DataFrame with a `transcript` column (optional `title`, `description`, and `channel_history`: JSON of the
    channel's earlier videos, [{"title", "tags"}...]) in; ranked `tags`, `scores` and `sources` (closed model,
    transcript keyphrase, or the channel's history) out. Param `k`."""

    @override
    def load_context(self, context):
        self.predictor = load_predictor(Path(context.artifacts[PREDICTOR_ARTIFACT]))

    def rank(self, videos: Sequence[Video], k: int) -> list[list[Sourced]]:
        # Same normalisation as the corpus (stage markers, caption noise): no training/serving skew.
        videos = [replace(v, transcript=normalise_transcript(str(v.transcript))) for v in videos]
        return self.predictor.predict_videos(videos, k)

    @override
    def predict(self, context, model_input, params=None):
        k = int((params or {}).get("k", 10))
        n = len(model_input)
        column = {
            c: model_input[c].tolist() if c in model_input.columns else [None] * n
            for c in ("title", "description", "channel_history")
        }
        videos = [
            Video.given(*row)
            for row in zip(
                model_input["transcript"].tolist(), column["title"], column["description"], column["channel_history"]
            )
        ]
        return sourced_to_frame(self.rank(videos, k))


SIGNATURE = ModelSignature(
    inputs=Schema(
        [
            ColSpec(DataType.string, "transcript"),
            ColSpec(DataType.string, "title", required=False),
            ColSpec(DataType.string, "description", required=False),
            ColSpec(DataType.string, "channel_history", required=False),
        ]
    ),
    outputs=Schema(
        [
            ColSpec(Array(DataType.string), "tags"),
            ColSpec(Array(DataType.double), "scores"),
            ColSpec(Array(DataType.string), "sources"),
        ]
    ),
    params=ParamSchema([ParamSpec("k", DataType.long, 10)]),
)


def log_predictor(predictor: TagPredictor, workdir: Path, register: bool = True):
    """Log `predictor` as a pyfunc model in the active run; register it as a new version, tagged with its strategy."""
    path = predictor.save(Path(workdir) / PREDICTOR_ARTIFACT)
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=PyfuncTagger(),
        artifacts={PREDICTOR_ARTIFACT: str(path)},
        signature=SIGNATURE,
        registered_model_name=registered_model() if register else None,
        pip_requirements=str(SERVING_REQUIREMENTS),
    )
    if register and info.registered_model_version is not None:
        mlflow.MlflowClient().set_model_version_tag(
            registered_model(), str(info.registered_model_version), "strategy", predictor.strategy
        )
        describe_version(info.registered_model_version)
    return info


def versions_by_run() -> dict[str, str]:
    """run_id -> registered version (the highest, if a run registered more than one)."""
    out: dict[str, str] = {}
    for v in mlflow.MlflowClient().search_model_versions(f"name = '{registered_model()}'"):
        if v.run_id and int(v.version) > int(out.get(v.run_id, 0)):
            out[v.run_id] = v.version
    return out


def set_alias(alias: str, version: str | int, describe: bool = True) -> None:
    """Point `alias` at `version`; the registered model's description then says so (unless `describe` is off)."""
    mlflow.MlflowClient().set_registered_model_alias(registered_model(), alias, str(version))
    log.info("alias %s -> %s version %s", alias, registered_model(), version)
    if describe:
        describe_model()


def promote(best_versions: Mapping[str, str | None], production_strategy: str) -> None:
    """Point each strategy's alias at its best version, and `production` at the chosen strategy's."""
    chosen = best_versions[production_strategy]
    if chosen is None:
        raise ValueError(f"{production_strategy} has no registered version to promote")
    for name, version in best_versions.items():
        if version and name in STRATEGY_ALIASES:
            set_alias(STRATEGY_ALIASES[name], version, describe=False)
    set_alias(PRODUCTION, chosen)


def aliases() -> dict[str, str]:
    """Every alias of the registered model -> version ({} if the model is not registered yet)."""
    from mlflow.exceptions import MlflowException

    try:
        return {a: str(v) for a, v in mlflow.MlflowClient().get_registered_model(registered_model()).aliases.items()}
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return {}
        raise


def load_registered_predictor(alias: str) -> TagPredictor:
    """The TagPredictor inside the registered model behind `alias`."""
    return _load_predictor_at(model_uri(alias))


def load_version_predictor(version: str | int) -> TagPredictor:
    """The TagPredictor inside one registered version."""
    return _load_predictor_at(version_uri(version))


def _load_predictor_at(uri: str) -> TagPredictor:
    local = Path(mlflow.artifacts.download_artifacts(uri))
    return load_predictor(local / "artifacts" / PREDICTOR_ARTIFACT)


def version_behind(alias: str):
    """The ModelVersion an alias points at (its run_id, tags, ...)."""
    return mlflow.MlflowClient().get_model_version_by_alias(registered_model(), alias)


def resolve_model(model: str) -> tuple[str, str]:
    """(models:/name/VERSION, VERSION) for an alias, a version number or a models:/ URI; an alias is resolved now, so
    that a job which loads the model more than once (Spark: once per worker) cannot mix two versions."""
    from mlflow.exceptions import MlflowException

    from tubetags.jobs import JobError

    name, alias, version = registered_model(), model, ""
    if model.startswith("models:/"):
        name, _, rest = model.removeprefix("models:/").partition("/")
        name, _, alias = name.partition("@")
        version = rest
    elif model.isdigit():
        version, alias = model, ""
    if not version:
        try:
            version = str(mlflow.MlflowClient().get_model_version_by_alias(name, alias).version)
        except MlflowException as error:
            raise JobError(
                f"no model behind alias {alias!r} of {name!r}: train and promote one first (`make demo`, or "
                "`make experiment && make compare`), or pass a version number"
            ) from error
    return f"models:/{name}/{version}", version


def held_out_version(alias: str) -> str:
    """The version behind `alias`, or, if that is a refit, the held-out version it was refit from: the one to
    score on the test split or to fit anything on validation with."""
    version = version_behind(alias)
    return str(version.tags.get(REFIT_OF) or version.version)


def tag_version(version: str | int, tags: Mapping[str, Any]) -> None:
    client = mlflow.MlflowClient()
    for key, value in tags.items():
        client.set_model_version_tag(registered_model(), str(version), key, str(value))


def run_link(run_id: str) -> str:
    """A Markdown link to a run's page in the MLflow UI: absolute behind a tracking server, else relative to the
    UI showing it (a sqlite store has no address of its own)."""
    run = mlflow.MlflowClient().get_run(run_id)
    uri = mlflow.get_tracking_uri()
    base = uri.rstrip("/") + "/" if uri.startswith(("http://", "https://")) else ""
    return f"[{run.info.run_name or run_id[:8]}]({base}#/experiments/{run.info.experiment_id}/runs/{run_id})"


def _data_line(run: Any) -> str:
    """`ted-train `3f0c…` (training), …`: the dataset inputs a run logged, with their digests and contexts."""
    parts = []
    for entry in run.inputs.dataset_inputs if run.inputs else []:
        context = next((t.value for t in entry.tags if t.key == "mlflow.data.context"), "input")
        parts.append(f"{entry.dataset.name} `{entry.dataset.digest}` ({context})")
    return f"Data: {', '.join(parts)}." if parts else ""


def describe_version(version: str | int, scores: Mapping[str, float] | None = None, notes: Sequence[str] = ()) -> str:
    """Write the version's description from what MLflow holds about it. Its first line (what the UI's list of
    versions shows) says strategy, seed, what it was trained on and its test P@5 (`scores`: other figures instead,
    e.g. the hybrid's per dataset), or for a refit the version it was refit from and that version's test P@5; then
    the strategy in words with the run's link, and the data the run logged. `notes`: more Markdown paragraphs.
    Returns the description."""
    client = mlflow.MlflowClient()
    model_version = client.get_model_version(registered_model(), str(version))
    run = client.get_run(model_version.run_id) if model_version.run_id else None
    tags = run.data.tags if run else {}
    strategy = model_version.tags.get("strategy") or tags.get("strategy", "?")
    known = STRATEGIES.get(strategy)
    head = ", ".join(
        [strategy]
        + ([f"seed {tags['seed']}"] if known and known.learns and "seed" in tags else [])
        + ([f"trained on {tags['fit_splits']}"] if "fit_splits" in tags else [])
    )
    if scores is None and run and HEADLINE_METRIC in run.data.metrics:
        scores = {"test P@5": run.data.metrics[HEADLINE_METRIC]}
    figures = ", ".join(f"{name} {value:.3f}" for name, value in (scores or {}).items())
    held_out = model_version.tags.get(REFIT_OF)
    refit_note = ""
    if held_out:
        source = client.get_model_version(registered_model(), held_out)
        p5 = client.get_run(source.run_id).data.metrics.get(HEADLINE_METRIC) if source.run_id else None
        figures = figures or f"refit of version {held_out}" + (
            f", held-out test P@5 {p5:.3f}" if p5 is not None else ""
        )
        refit_note = (
            f"Refit of version {held_out}: its settings, trained on all labelled data, so no test split is left to "
            f"score it; its quality is version {held_out}'s held-out test P@5"
            + (f" (run {run_link(source.run_id)})" if source.run_id else "")
            + "."
        )
    words = (f"{known.summary}. " if known and known.summary else "") + (
        f"Run {run_link(run.info.run_id)}." if run else ""
    )
    paragraphs = [f"{head}: {figures}." if figures else f"{head}.", words, refit_note, _data_line(run) if run else ""]
    text = "\n\n".join(p for p in [*paragraphs, *notes] if p) + "\n"
    client.update_model_version(registered_model(), str(version), description=text)
    return text


def alias_role(alias: str, model_version: Any) -> str:
    """What an alias serves, in words, for the registered model's description."""
    strategy = model_version.tags.get("strategy", "?")
    known = STRATEGIES.get(strategy)
    refit = model_version.tags.get(REFIT_OF)
    what = f"{strategy}" + (f", refit of version {refit}" if refit else "")
    if alias == PRODUCTION:
        return f"the web app's default model: {what}"
    if known and alias == known.alias:
        if not known.in_experiment:
            return f"{what}: {known.summary}"
        return f"{what}'s best held-out version in the latest comparison: {known.summary}"
    return f"{what} (alias set by hand)"


def describe_model() -> str:
    """Write the registered model's description: which version each alias serves and what it is."""
    client = mlflow.MlflowClient()
    name = registered_model()
    served = client.get_registered_model(name).aliases
    order = {alias: i for i, alias in enumerate(SERVED_ALIASES)}
    lines = [
        "Tag suggesters for YouTube videos from their transcripts (tubetags). Aliases it serves, rewritten "
        "whenever one moves (`compare`, `refit`, `open_vocab`):",
        "",
        "| alias | version | serves |",
        "|---|---|---|",
    ]
    for alias in sorted(served, key=lambda a: (order.get(a, len(order)), a)):
        version = str(served[alias])
        lines.append(f"| `{alias}` | {version} | {alias_role(alias, client.get_model_version(name, version))} |")
    text = "\n".join(lines) + "\n"
    client.update_registered_model(name, description=text)
    return text


@dataclass(frozen=True)
class ServedModel:
    """A registered model loaded for serving: ranked, sourced tags for transcripts."""

    uri: str
    local_path: Path
    pyfunc: Any  # mlflow.pyfunc.PyFuncModel

    @cached_property
    def tagger(self) -> PyfuncTagger | None:
        """Our own python model inside (None for a pyfunc model that is not one of ours)."""
        try:
            model = self.pyfunc.unwrap_python_model()
        except Exception:  # not a python_function model built from a PythonModel
            return None
        return model if isinstance(model, PyfuncTagger) else None

    @cached_property
    def predictor(self) -> TagPredictor | None:
        """The TagPredictor inside (None for a pyfunc model that is not one of ours)."""
        return self.tagger.predictor if self.tagger is not None else None

    def predict_with_sources(
        self,
        transcripts: Sequence[str],
        k: int = 10,
        title: str | None = None,
        description: str | None = None,
        channel_history: Sequence[PastVideo] = (),
    ) -> list[list[Sourced]]:
        if self.tagger is not None:
            # Our own models rank in process: the pyfunc's round trip (a DataFrame in, the signature check, a
            # DataFrame out) cost ~4.5 of the ~22 ms of CPU a new transcript cost the served default. The same
            # videos as PyfuncTagger.predict builds from its columns (Video.given); a test checks both paths agree.
            videos = [Video.given(t, title, description, list(channel_history)) for t in transcripts]
            return [[(str(t), float(s), str(src)) for t, s, src in row] for row in self.tagger.rank(videos, k)]
        import pandas as pd

        frame = pd.DataFrame({"transcript": list(transcripts)})
        for column, value in (("title", title), ("description", description)):
            if value:
                frame[column] = value
        if channel_history:
            frame["channel_history"] = history_json(channel_history)
        out = self.pyfunc.predict(frame, params={"k": int(k)})
        # Models logged before `sources` existed answer without it: their tags are the closed model's.
        sources = out["sources"] if "sources" in out.columns else [["closed"] * len(t) for t in out["tags"]]
        return [
            [(str(t), float(s), str(src)) for t, s, src in zip(tags, scores, srcs)]
            for tags, scores, srcs in zip(out["tags"], out["scores"], sources)
        ]

    def predict(self, transcripts: Sequence[str], k: int = 10) -> list[Ranked]:
        return [[(t, s) for t, s, _ in row] for row in self.predict_with_sources(transcripts, k)]

    @cached_property
    def _vocabulary(self) -> tuple[Any, Any]:
        # A TF-IDF model (or the closed part of the hybrid) knows which words it has features for.
        inner = getattr(self.predictor, "closed", None) or self.predictor
        vectorizer = getattr(inner, "vectorizer", None)
        if vectorizer is None or getattr(vectorizer, "vocabulary_", None) is None:
            return None, None
        preprocess, tokenize = vectorizer.build_preprocessor(), vectorizer.build_tokenizer()
        return vectorizer.vocabulary_, lambda text: tokenize(preprocess(text))

    def oov_share(self, transcript: str) -> float | None:
        """Share of the words the model has no feature for (drift monitoring); None if it has no vocabulary."""
        vocabulary, tokenize = self._vocabulary
        tokens = tokenize(transcript) if tokenize else []
        if not tokens:
            return None
        known = sum(map(vocabulary.__contains__, tokens))  # counted in C: ~0.3 ms less per request
        return round((len(tokens) - known) / len(tokens), 4)


def load_served_model(uri: str) -> ServedModel:
    """Download and load a registered model (`models:/name/version` or `models:/name@alias`) for serving."""
    local = Path(mlflow.artifacts.download_artifacts(uri))
    return ServedModel(uri, local, mlflow.pyfunc.load_model(str(local)))
