"""Closed-vocabulary ranking merged with open-vocabulary keyphrases.

The closed model knows the tags people use (`education`, `technology`); the keyphrases know
the specifics of this video (`sourdough starter`, `raspberry pi`). The two score scales do not
compare (probabilities vs cosine similarities), so the lists are merged by reciprocal rank
fusion: score(tag) = sum over lists of weight / (RRF_K + rank), scaled to [0, 1].
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from tubetags.corpus import CorpusSplit
from tubetags.keyphrases import KeyphraseSuggester
from tubetags.predictor import Ranked, TagPredictor, load_predictor
from tubetags.tags import tag_key

RRF_K = 10  # small: the first few ranks of each list matter most


def reciprocal_rank_fusion(lists: Sequence[Ranked], weights: Sequence[float], k: int) -> Ranked:
    scores: dict[str, float] = {}
    names: dict[str, str] = {}
    for ranked, weight in zip(lists, weights):
        for rank, (tag, _) in enumerate(ranked):
            key = tag_key(tag)
            names.setdefault(key, tag)
            scores[key] = scores.get(key, 0.0) + weight / (RRF_K + rank + 1)
    best = sum(w / (RRF_K + 1) for w in weights)
    merged = sorted(scores.items(), key=lambda kv: -kv[1])[:k]
    return [(names[key], score / best) for key, score in merged]


class HybridTagger(TagPredictor):
    strategy = "hybrid"

    def __init__(self, closed: TagPredictor | None = None, keyphrases: KeyphraseSuggester | None = None,
                 closed_weight: float = 1.0, open_weight: float = 1.0, seed: int = 0):
        self.closed = closed
        self.keyphrases = keyphrases or KeyphraseSuggester()
        self.closed_weight, self.open_weight = closed_weight, open_weight

    def params(self):
        return {"closed_strategy": getattr(self.closed, "strategy", None), "closed_weight": self.closed_weight,
                "open_weight": self.open_weight, "rrf_k": RRF_K, **{f"keyphrase_{k}": v for k, v in self.keyphrases.params().items()}}

    def fit(self, train: CorpusSplit, valid: CorpusSplit | None, vocabulary: Sequence[str]):
        # The closed model is trained already; the keyphrases learn which phrases are common (their background).
        return self.keyphrases.fit(train)

    def rank_parts(self, transcripts: Sequence[str], k: int) -> tuple[list[Ranked], list[Ranked], list[Ranked]]:
        """(closed ranking, keyphrases, merged), so that each part can be evaluated on its own."""
        closed = self.closed.predict(transcripts, k) if self.closed else [[] for _ in transcripts]
        opened = self.keyphrases.suggest(transcripts, k)
        merged = [reciprocal_rank_fusion([c, o], [self.closed_weight, self.open_weight], k)
                  for c, o in zip(closed, opened)]
        return closed, opened, merged

    def predict(self, transcripts: Sequence[str], k: int = 10) -> list[Ranked]:
        return self.rank_parts(transcripts, k)[2]

    def save_state(self, directory: Path) -> None:
        self.closed.save(directory / "closed")
        self.keyphrases.save(directory / "keyphrases")
        (directory / "hybrid.json").write_text(json.dumps({
            "closed_weight": self.closed_weight, "open_weight": self.open_weight,
            "keyphrases": self.keyphrases.params()}))

    @classmethod
    def load_state(cls, directory: Path) -> "HybridTagger":
        meta = json.loads((directory / "hybrid.json").read_text())
        # Versions saved by the KeyBERT suggester carry its parameters (diversity...): only today's are passed on.
        known = KeyphraseSuggester().params()
        suggester = KeyphraseSuggester(**{k: v for k, v in meta["keyphrases"].items() if k in known})
        suggester.load(directory / "keyphrases")
        return cls(load_predictor(directory / "closed"), suggester, meta["closed_weight"], meta["open_weight"])
