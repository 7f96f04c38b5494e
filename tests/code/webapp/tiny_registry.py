"""A throw-away MLflow registry holding two tiny baseline models, for the web app's tests.

Version 1 -> alias `baseline`, version 2 -> alias `production`. Seconds to build; built once
per test session (shared by tests/code/webapp and tests/browser). `write_corpus` lays the same
kind of videos out as a corpus (shards + manifest), for the training jobs' tracking tests.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

TOPICS = {
    "cooking": "recipe oven bake flour sugar butter dough bread kitchen taste salt pan".split(),
    "python": "python code function variable loop list import module programming script debug".split(),
    "travel": "travel flight hotel city beach passport trip museum airport tour map".split(),
    "fitness": "workout muscle squat cardio gym exercise stretch protein reps training".split(),
    "music": "guitar chord song melody rhythm drums piano band concert lyrics".split(),
    "machine learning": "model training data neural network gradient dataset accuracy learning features".split(),
}


def _rows(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    names = list(TOPICS)
    rows = []
    for i in range(n):
        tags = rng.sample(names, rng.choice([1, 1, 2]))
        words = [rng.choice(TOPICS[t]) for t in tags for _ in range(40)] + ["the", "and", "so"] * 5
        rng.shuffle(words)
        rows.append(
            {
                "video_id": f"vid{seed}-{i}",
                "source": "test",
                "channel": "test",
                "title": "t",
                "description": "",
                "published": "2024-01-01",
                "language": "en",
                "tags": tags,
                "transcript": " ".join(words),
                "transcript_source": "human",
            }
        )
    return rows


def write_corpus(root: Path, seed: int = 0, sizes: tuple[int, int, int] = (60, 20, 20)) -> Path:
    """A corpus of these videos as the corpus job lays one out (dataset `ted`: train/valid/test shards and
    manifest.json) under `root`; another seed, other videos (another corpus build). Returns `root`."""
    from tubetags.corpus import MANIFEST, write_shards

    root = Path(root)
    splits = {}
    for i, (split, n) in enumerate(zip(("train", "valid", "test"), sizes)):
        shards = write_shards(_rows(n, 10 * seed + i), root / "ted" / split, rows_per_shard=30)
        for shard in shards:
            shard["path"] = str(Path(shard["path"]).relative_to(root))
        splits[split] = {"rows": n, "shards": shards}
    manifest = {
        "built_at": f"synthetic, seed {seed}",
        "datasets": {"ted": {"vocabulary": list(TOPICS), "splits": splits}},
    }
    (root / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return root


def _train(folder: Path, seed: int):
    from tubetags.corpus import CorpusSplit, write_shards
    from tubetags.strategies.baseline import TfidfLinearTagger

    rows = _rows(60, seed)
    shards = write_shards(rows, folder / f"train-{seed}", rows_per_shard=30)
    split = CorpusSplit(tuple(Path(s["path"]) for s in shards), len(rows))
    model = TfidfLinearTagger(seed=seed, epochs=2, max_features=2000, vectorizer_sample=100)
    model.fit(split, None, list(TOPICS))
    return model


_built: dict[str, str] = {}


def build_registry(root: Path) -> str:
    """Create the registry under `root` (once per process) and return its tracking URI.

    The environment is left as it was: callers point MLFLOW_TRACKING_URI at it themselves.
    """
    if "uri" in _built:
        return _built["uri"]
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{root / 'mlflow.db'}"
    import mlflow

    from tubetags import registry

    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    experiment = mlflow.create_experiment("webapp-tests", artifact_location=(root / "artifacts").as_uri())
    client = mlflow.MlflowClient()
    for seed, alias in [(1, "baseline"), (2, "production")]:
        with mlflow.start_run(experiment_id=experiment):
            info = registry.log_predictor(_train(root, seed), root / f"work-{seed}")
        client.set_registered_model_alias(registry.registered_model(), alias, str(info.registered_model_version))
    _built["uri"] = uri
    return uri
