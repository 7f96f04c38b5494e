"""The talk style's text features: counted without a regex over every character, the same as the regex counted."""

import math
import re

import numpy as np

from tubetags.openvocab.talk_style import style_features

CAPITALISED = re.compile(r"(?<!\S)[A-ZÀ-ÖØ-Þ]")  # what the capitals feature counted before


def test_capitals_and_punctuation_per_word():
    text = "Édith met Zoë in Paris.\u00a0Øresund ×Times ßig  Þórr, then (Anna) 'Ben' said: ok? ÀB x\tY!"
    vector = np.arange(4, dtype=np.float32)
    features = style_features(vector, text)
    words = len(text.split())
    assert np.array_equal(features[:4], vector)
    assert features[4] == sum(text.count(mark) for mark in ".,?!") / words
    assert features[5] == len(CAPITALISED.findall(text)) / words and features[5] > 0
    assert features[6] == math.log1p(words)
    assert style_features(vector, "")[4:].tolist() == [0.0, 0.0, 0.0]
