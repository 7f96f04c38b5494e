"""Open vocabulary: keyphrases merged with a registered closed model, scored on held-out channels."""

import mlflow
import pandas as pd
import pytest

from experiments.open_vocab import OPEN_VOCAB_ALIAS, run
from experiments.train import train
from tubetags import registry, settings
from tubetags.tags import youtube_tag_length

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def private_work_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TUBETAGS_WORK_DIR", str(tmp_path / "work"))


def test_hybrid_is_scored_registered_and_serves_specific_tags(tiny_corpus, mlflow_store):
    version = train("baseline", quick=True, corpus_dir=tiny_corpus.root)["version"]
    mlflow.MlflowClient().set_registered_model_alias(settings.REGISTERED_MODEL, registry.PRODUCTION, version)
    out = run(registry.PRODUCTION, 10, corpus_dir=tiny_corpus.root)
    assert set(out["results"]) == {"closed", "keyphrases", "hybrid"}
    for metrics in out["results"].values():
        assert 0 <= metrics["p_at_5"] <= 1 and metrics["youtube_string_tags"] > 0
    # Uploaders' tags on unseen channels are mostly specific: the transcript's own phrases find more of them.
    assert out["results"]["keyphrases"]["r_at_10"] > out["results"]["closed"]["r_at_10"]

    model = mlflow.pyfunc.load_model(registry.model_uri(OPEN_VOCAB_ALIAS))
    text = ("In this video I show you how to set up a Raspberry Pi as a home server. The Raspberry Pi runs "
            "Docker, and with Docker containers the Raspberry Pi hosts Nextcloud and Home Assistant. ") * 6
    tags = model.predict(pd.DataFrame({"transcript": [text]}), params={"k": 10})["tags"][0]
    assert any("raspberry pi" in t.lower() for t in tags)  # keyphrases keep the casing of names: "Raspberry Pi"
    assert youtube_tag_length(list(tags)) <= 500
