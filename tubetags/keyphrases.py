"""Open-vocabulary tag suggestions: keyphrases taken from the transcript itself.

A fixed vocabulary cannot name a product, a person or a place it never saw; the words of the
transcript can. Candidates are the transcript's most frequent 1-3-grams (stop words removed);
KeyBERT ranks them by similarity to the transcript's MiniLM embedding, with maximal marginal
relevance so that the list is not five spellings of one phrase.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

from tubetags.encoders import MiniLMEncoder
from tubetags.tags import normalise_tag


# Words of speech that carry no topic: frequent in transcripts, useless as tags.
SPOKEN_FILLERS = frozenset(
    "just like really know going want think yeah okay ok actually thing things start started recommend "
    "gonna gotta kind sort lot lots way today yesterday tomorrow day days time times right good great "
    "little big make makes made let say said says look looking see seen use used using need needs "
    "guys hey hi hello welcome video videos channel subscribe um uh oh basically literally probably "
    "maybe pretty able want wanted new better best thank thanks".split())
STOP_WORDS = sorted(ENGLISH_STOP_WORDS | SPOKEN_FILLERS)


class KeyphraseSuggester:
    def __init__(self, encoder: MiniLMEncoder | None = None, max_candidates: int = 60, diversity: float = 0.3,
                 min_count: int = 2):
        self.encoder = encoder or MiniLMEncoder()
        self.max_candidates, self.diversity, self.min_count = max_candidates, diversity, min_count
        self._keybert = None

    def params(self) -> dict:
        return {"max_candidates": self.max_candidates, "diversity": self.diversity, "min_count": self.min_count}

    @property
    def keybert(self):
        if self._keybert is None:
            from keybert import KeyBERT

            self._keybert = KeyBERT(model=self.encoder.model)
        return self._keybert

    def candidates(self, transcript: str) -> list[str]:
        """The most frequent 1-3-grams (seen at least `min_count` times), longest first on ties.

        N-grams are counted within sentences with stop words in place, then those that begin or
        end with a stop word are dropped: removing stop words first (as CountVectorizer does)
        would join words that were never next to each other ("set up a raspberry" -> "set raspberry").
        """
        sentences = [s for s in re.split(r"[.!?;:\n]+", transcript) if s.strip()]
        counter = CountVectorizer(ngram_range=(1, 3), lowercase=True, token_pattern=r"(?u)\b[a-zA-Z][\w+#]+\b")
        try:
            counts = np.asarray(counter.fit_transform(sentences).sum(axis=0)).ravel()
        except ValueError:  # no words at all
            return []
        grams = counter.get_feature_names_out()
        stop = set(STOP_WORDS)

        def is_phrase(gram: str) -> bool:  # no stop word at the ends; inside only "of"/"and" (theory of mind)
            words = gram.split()
            return words[0] not in stop and words[-1] not in stop and all(
                w not in stop or w in ("of", "and") for w in words[1:-1])

        ranked = sorted(((c, len(g.split()), g) for g, c in zip(grams, counts) if c >= self.min_count and is_phrase(g)),
                        reverse=True)
        return [g for _, _, g in ranked[: self.max_candidates]]

    def suggest(self, transcripts: Sequence[str], k: int = 10) -> list[list[tuple[str, float]]]:
        out = []
        doc_vectors = self.encoder.encode(list(transcripts))
        for text, vector in zip(transcripts, doc_vectors):
            candidates = self.candidates(text)
            if not candidates:
                out.append([])
                continue
            phrases = self.keybert.extract_keywords(
                text, candidates=candidates, keyphrase_ngram_range=(1, 3), top_n=k, use_mmr=True,
                diversity=self.diversity, doc_embeddings=vector.reshape(1, -1))
            # Cosine similarity in [-1, 1] -> [0, 1], like the other scores.
            out.append([(normalise_tag(p), (float(s) + 1) / 2) for p, s in phrases])
        return out
