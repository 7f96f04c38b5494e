"""Tagging strategies, each a `TagPredictor`. `build_predictor(name, **params)` makes one by name."""

from __future__ import annotations

import importlib

from tubetags.predictor import TagPredictor

STRATEGIES = {
    "baseline": "tubetags.strategies.baseline:TfidfLinearTagger",
    "bilstm": "tubetags.strategies.bilstm:BiLSTMTagger",
    "encoder_head": "tubetags.strategies.encoder_head:EncoderHeadTagger",
    "zero_shot": "tubetags.strategies.zero_shot:ZeroShotTagger",
}


def predictor_class(name: str) -> type[TagPredictor]:
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; choose one of {sorted(STRATEGIES)}")
    module, _, cls = STRATEGIES[name].partition(":")
    return getattr(importlib.import_module(module), cls)


def build_predictor(name: str, **params) -> TagPredictor:
    return predictor_class(name)(**params)
