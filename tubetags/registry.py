"""Everything about the MLflow model registry, in one place.

- the registered model's name (`TUBETAGS_REGISTERED_MODEL`, default `tubetags`) and its aliases:
  `production`, and one per strategy (from the strategy table) for its best version;
- the pyfunc wrapper every strategy is logged as (`transcript` in; ranked `tags` and `scores` out;
  param `k`), and the artifact layout inside it (`artifacts/predictor`);
- loading: `load_served_model` is the one way a registered model is loaded for serving, used by the
  web app's workers and by the cost benchmark alike; `load_registered_predictor` gets the
  `TagPredictor` back (to wrap it, as the open-vocabulary hybrid does).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import mlflow.pyfunc
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, DataType, ParamSchema, ParamSpec, Schema
from mlflow.types.schema import Array

from tubetags import settings
from tubetags.predictor import Ranked, TagPredictor, load_predictor, ranked_to_frame
from tubetags.strategies import STRATEGIES
from tubetags.text import normalise_transcript

log = logging.getLogger(__name__)

PRODUCTION = "production"
STRATEGY_ALIASES = {name: s.alias for name, s in STRATEGIES.items()}
SERVED_ALIASES = (PRODUCTION, *STRATEGY_ALIASES.values())
PREDICTOR_ARTIFACT = "predictor"  # the TagPredictor's folder inside the pyfunc model's artifacts/
LOCK_FILE = settings.REPO_ROOT / "requirements" / "serving.txt"  # the model's environment, not the dev lock


def registered_model() -> str:
    return os.environ.get("TUBETAGS_REGISTERED_MODEL", "tubetags")


def model_uri(alias: str = PRODUCTION) -> str:
    return f"models:/{registered_model()}@{alias}"


def version_uri(version: str | int) -> str:
    return f"models:/{registered_model()}/{version}"


class PyfuncTagger(mlflow.pyfunc.PythonModel):
    """DataFrame with a `transcript` column in; `tags` and `scores` (ranked lists) out. Param `k`."""

    def load_context(self, context):
        self.predictor = load_predictor(Path(context.artifacts[PREDICTOR_ARTIFACT]))

    def rank(self, transcripts: Sequence[str], k: int) -> list[Ranked]:
        # Same normalisation as the corpus (stage markers, caption noise): no training/serving skew.
        return self.predictor.predict([normalise_transcript(str(t)) for t in transcripts], k)

    def predict(self, context, model_input, params=None):
        k = int((params or {}).get("k", 10))
        return ranked_to_frame(self.rank(model_input["transcript"].tolist(), k))


SIGNATURE = ModelSignature(
    inputs=Schema([ColSpec(DataType.string, "transcript")]),
    outputs=Schema([ColSpec(Array(DataType.string), "tags"), ColSpec(Array(DataType.double), "scores")]),
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
        pip_requirements=str(LOCK_FILE),
    )
    if register and info.registered_model_version is not None:
        mlflow.MlflowClient().set_model_version_tag(registered_model(), str(info.registered_model_version),
                                                    "strategy", predictor.strategy)
    return info


def versions_by_run() -> dict[str, str]:
    """run_id -> registered version (the highest, if a run registered more than one)."""
    out: dict[str, str] = {}
    for v in mlflow.MlflowClient().search_model_versions(f"name = '{registered_model()}'"):
        if v.run_id and int(v.version) > int(out.get(v.run_id, 0)):
            out[v.run_id] = v.version
    return out


def set_alias(alias: str, version: str | int) -> None:
    mlflow.MlflowClient().set_registered_model_alias(registered_model(), alias, str(version))
    log.info("alias %s -> %s version %s", alias, registered_model(), version)


def promote(best_versions: Mapping[str, str | None], production_strategy: str) -> None:
    """Point each strategy's alias at its best version, and `production` at the chosen strategy's."""
    for name, version in best_versions.items():
        if version and name in STRATEGY_ALIASES:
            set_alias(STRATEGY_ALIASES[name], version)
    set_alias(PRODUCTION, best_versions[production_strategy])


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
    local = Path(mlflow.artifacts.download_artifacts(model_uri(alias)))
    return load_predictor(local / "artifacts" / PREDICTOR_ARTIFACT)


@dataclass(frozen=True)
class ServedModel:
    """A registered model loaded for serving: ranked (tag, score) lists for transcripts."""

    uri: str
    local_path: Path
    pyfunc: Any  # mlflow.pyfunc.PyFuncModel

    def predict(self, transcripts: Sequence[str], k: int = 10) -> list[Ranked]:
        import pandas as pd

        frame = self.pyfunc.predict(pd.DataFrame({"transcript": list(transcripts)}), params={"k": int(k)})
        return [[(str(t), float(s)) for t, s in zip(tags, scores)] for tags, scores in zip(frame["tags"],
                                                                                              frame["scores"])]


def load_served_model(uri: str) -> ServedModel:
    """Download and load a registered model (`models:/name/version` or `models:/name@alias`) for serving."""
    local = Path(mlflow.artifacts.download_artifacts(uri))
    return ServedModel(uri, local, mlflow.pyfunc.load_model(str(local)))
