"""The MLflow side of a predictor: pyfunc wrapper, signature, logging, registry aliases."""

from __future__ import annotations

from pathlib import Path

import mlflow
import mlflow.pyfunc
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, DataType, ParamSchema, ParamSpec, Schema
from mlflow.types.schema import Array

from tubetags import settings
from tubetags.predictor import TagPredictor, load_predictor, ranked_to_frame
from tubetags.text import normalise_transcript

# Aliases: the production model, plus the best version of each strategy under its own name.
STRATEGY_ALIASES = {"baseline": "baseline", "bilstm": "bilstm", "encoder_head": "encoder-head",
                    "zero_shot": "zero-shot"}
PRODUCTION = "production"
OPEN_VOCAB = "open-vocab"  # the hybrid of production + transcript keyphrases (experiments/open_vocab.py)
SERVED_ALIASES = (PRODUCTION, *STRATEGY_ALIASES.values(), OPEN_VOCAB)
LOCK_FILE = settings.REPO_ROOT / "requirements" / "lock.txt"


class PyfuncTagger(mlflow.pyfunc.PythonModel):
    """DataFrame with a `transcript` column in; `tags` and `scores` (ranked lists) out. Param `k`."""

    def load_context(self, context):
        self.predictor = load_predictor(Path(context.artifacts["predictor"]))

    def predict(self, context, model_input, params=None):
        k = int((params or {}).get("k", 10))
        # Same normalisation as the corpus (stage markers, caption noise): no training/serving skew.
        transcripts = [normalise_transcript(str(t)) for t in model_input["transcript"].tolist()]
        return ranked_to_frame(self.predictor.predict(transcripts, k))


SIGNATURE = ModelSignature(
    inputs=Schema([ColSpec(DataType.string, "transcript")]),
    outputs=Schema([ColSpec(Array(DataType.string), "tags"), ColSpec(Array(DataType.double), "scores")]),
    params=ParamSchema([ParamSpec("k", DataType.long, 10)]),
)


def log_predictor(predictor: TagPredictor, workdir: Path, register: bool = True):
    """Log `predictor` as a pyfunc model in the active run; register it as a new version of `tubetags`."""
    path = predictor.save(Path(workdir) / "predictor")
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=PyfuncTagger(),
        artifacts={"predictor": str(path)},
        signature=SIGNATURE,
        registered_model_name=settings.REGISTERED_MODEL if register else None,
        pip_requirements=str(LOCK_FILE),
    )
    if register and info.registered_model_version is not None:
        client = mlflow.MlflowClient()
        client.set_model_version_tag(settings.REGISTERED_MODEL, str(info.registered_model_version),
                                     "strategy", predictor.strategy)
    return info


def model_uri(alias: str = PRODUCTION) -> str:
    return f"models:/{settings.REGISTERED_MODEL}@{alias}"
