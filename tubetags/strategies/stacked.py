"""(e) A stacked ensemble of the fast arms, its weights fitted on validation.

The members are other strategies of the table (by default the fast ones: the TF-IDF baseline, the model2vec head
and the distilled student), each built with its own configs/strategies/<member>.yaml params unless `members` gives
them, and trained inside `fit` on the same splits (so a refit refits them). The combiner is a logistic regression
over (transcript, tag) pairs of the validation split: its inputs are each member's score as a logit (a sigmoid's
input: the baseline's hinge margin, a head's pre-activation), its target whether the tag is the talk's, so the
weights say how much each member's evidence is worth on talks none of them was fitted on. A refit reuses the
held-out run's weights (it has no validation split to fit them on).

Serving runs every member: its cost is the sum of theirs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from tubetags.config import STRATEGY_CONFIG_DIR
from tubetags.corpus import CorpusSplit, multi_hot
from tubetags.predictor import Ranked, TagPredictor, best_epoch, fitted, load_predictor
from tubetags.strategies.ranking import sigmoid, top_k

log = logging.getLogger(__name__)
DEFAULT_MEMBERS = ("baseline", "encoder_head_fast", "distilled")
LOGIT_CLIP = 1e-6  # scores are clipped into [eps, 1 - eps] before the logit


def member_params(name: str) -> dict[str, Any]:
    """A member's hyper-parameters as its own training run would read them (configs/strategies/<name>.yaml)."""
    path = STRATEGY_CONFIG_DIR / f"{name}.yaml"
    return dict((yaml.safe_load(path.read_text()) or {}).get("params") or {}) if path.exists() else {}


def logits(scores: np.ndarray) -> np.ndarray:
    clipped = np.clip(scores, LOGIT_CLIP, 1 - LOGIT_CLIP)
    return np.log(clipped / (1 - clipped))


class StackedTagger(TagPredictor):
    strategy = "stacked"

    def __init__(
        self,
        seed: int = 0,
        members: dict[str, dict[str, Any] | None] | None = None,
        weights: list[float] | None = None,
        bias: float | None = None,
        regularization: float = 1.0,
    ):
        given = members if members is not None else dict.fromkeys(DEFAULT_MEMBERS)
        unknown = [name for name in given if name in (self.strategy, "hybrid")]
        if unknown or not given:
            raise ValueError(f"members must be other closed-vocabulary strategies, not {unknown or 'none'}")
        self.seed = seed
        self.members = {
            name: dict(params if params is not None else member_params(name)) for name, params in given.items()
        }
        for params in self.members.values():
            params.pop("seed", None)  # every member takes the ensemble's seed
        self.weights, self.bias, self.regularization = weights, bias, regularization
        if weights is not None and (len(weights) != len(self.members) or bias is None):
            raise ValueError(f"give a bias and one weight per member ({len(self.members)}), not {weights}")
        # The combiner in use: the given weights, or those fitted on validation.
        self.coef: list[float] | None = list(weights) if weights is not None else None
        self.intercept: float | None = bias
        self.fitted_members: dict[str, TagPredictor] | None = None
        self.kept_epochs: dict[str, int | None] = {}
        self.vocabulary: list[str] = []

    def init_params(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "members": self.members,
            "weights": self.weights,
            "bias": self.bias,
            "regularization": self.regularization,
        }

    def refit_params(self, kept_epoch: int | None) -> dict[str, Any]:
        """Each member's own refit params (its kept epochs) and the weights fitted on validation."""
        members = fitted(self.fitted_members, "the members")
        refit = {}
        for name, member in members.items():
            params = member.refit_params(self.kept_epochs.get(name))
            params.pop("seed", None)
            refit[name] = params
        return super().refit_params(kept_epoch) | {"members": refit, "weights": self.coef, "bias": self.intercept}

    def _build(self, name: str) -> TagPredictor:
        from tubetags.strategies import predictor_class

        cls = predictor_class(name)
        return cls(**({} if cls.deterministic else {"seed": self.seed}), **self.members[name])

    def member_scores(self, transcripts: Sequence[str]) -> np.ndarray:
        """[members, transcripts, tags]: each member's score for every tag of the vocabulary."""
        index = {tag: i for i, tag in enumerate(self.vocabulary)}
        out = np.zeros((len(self.members), len(transcripts), len(self.vocabulary)), np.float32)
        for m, member in enumerate(fitted(self.fitted_members, "the members").values()):
            for row, ranked in enumerate(member.predict(transcripts, len(self.vocabulary))):
                for tag, score in ranked:
                    out[m, row, index[tag]] = score
        return out

    def fit(self, train: CorpusSplit, valid: CorpusSplit | None, vocabulary: Sequence[str]):
        self.vocabulary = list(vocabulary)
        self.fitted_members = {}
        history: dict[str, list[float]] = {}
        for name in self.members:
            member = self._build(name)
            curves = member.fit(train, valid, vocabulary) or {}
            self.fitted_members[name], self.kept_epochs[name] = member, best_epoch(curves)
            history |= {f"{name}_{key}": values for key, values in curves.items()}
            log.info("stacked: member %s fitted (kept epoch %s)", name, self.kept_epochs[name])
        if self.coef is None:
            if valid is None:
                raise ValueError("without a validation split the ensemble needs its weights (the refit sets them)")
            self.fit_weights(valid)
        return history

    def fit_weights(self, valid: CorpusSplit) -> None:
        """Logistic regression over the validation (transcript, tag) pairs, members' logits in."""
        from sklearn.linear_model import LogisticRegression

        texts = [t for batch in valid.batches(256, columns=("transcript",)) for t in batch["transcript"]]
        features = logits(self.member_scores(texts)).reshape(len(self.members), -1).T
        targets = multi_hot(valid.column("tags"), self.vocabulary).reshape(-1)
        model = LogisticRegression(C=self.regularization, max_iter=1000).fit(features, targets)
        self.coef, self.intercept = [float(w) for w in model.coef_[0]], float(model.intercept_[0])
        log.info(
            "stacked: weights %s, bias %.3f (fitted on %d validation talks)", self.coef, self.intercept, len(texts)
        )

    def scores(self, transcripts: Sequence[str]) -> np.ndarray:
        weights = np.asarray(fitted(self.coef, "the ensemble weights"), np.float32)
        combined = np.tensordot(weights, logits(self.member_scores(transcripts)), axes=1)
        return sigmoid(combined + fitted(self.intercept, "the ensemble bias"))

    def predict(self, transcripts: Sequence[str], k: int = 10) -> list[Ranked]:
        if not len(transcripts):
            return []
        return top_k(self.scores(transcripts), self.vocabulary, k)

    def rank_split(self, split: CorpusSplit, k: int = 10, batch_size: int = 32) -> Iterator[Ranked]:
        for batch in split.batches(max(batch_size, 128), columns=("transcript",)):
            yield from self.predict(batch["transcript"], k)

    def save_state(self, directory: Path) -> None:
        for name, member in fitted(self.fitted_members, "the members").items():
            member.save(directory / f"member_{name}")
        (directory / "stacked.json").write_text(
            json.dumps(
                {
                    "vocabulary": self.vocabulary,
                    "coef": self.coef,
                    "intercept": self.intercept,
                    "kept": self.kept_epochs,
                }
            )
        )

    def load_state(self, directory: Path) -> None:
        meta = json.loads((directory / "stacked.json").read_text())
        self.fitted_members = {name: load_predictor(directory / f"member_{name}") for name in self.members}
        self.vocabulary, self.coef, self.intercept = meta["vocabulary"], meta["coef"], meta["intercept"]
        self.kept_epochs = meta["kept"]
