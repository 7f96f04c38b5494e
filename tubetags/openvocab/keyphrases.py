"""Open-vocabulary tag suggestions: keyphrases taken from the transcript itself.

A fixed vocabulary cannot name a product, a person or a place it never saw; the words of the
transcript can. How a transcript's phrases are found and ranked:

1. The language is detected (`tubetags.openvocab.language`); that language's stop words and spoken fillers apply,
   never English ones to another language.
2. Candidates are 1-3-grams that neither begin nor end with a stop word or filler, and hold no filler at
   all (inside, only glue words such as 'of' / 'de': 'theory of mind', 'bolo de chocolate'). Segments end at
   punctuation when there is some (also CJK's full-width marks); auto-captions without any still work, as stop
   words end a phrase. Chinese, written without spaces, is cut into words first (`tubetags.segmentation`).
   Contractions ('i'm', "don't") and adverbs ('automatically') end a phrase too; a possessive 's goes
   ("Newton's laws" -> 'Newton laws').
3. Spelling and number variants merge before ranking ('Raspberry Pi' / 'raspberry pi', 'robot' / 'robots',
   'machine-learning' / 'machine learning': `tubetags.tags.variant_key`); a phrase keeps its most frequent
   casing away from the start of a sentence, so names keep theirs (GPT-5, LangChain, TypeScript, AI).
4. Ranking is TF-IDF against a background: the document frequency of each phrase over training
   transcripts (`fit`), so that what every video says ('machine', 'people') ranks below what this one is
   about. Only the `max_phrases` most frequent phrases are kept (a phrase not kept is rarer than all kept ones).
   Unfitted, the ranking falls back to term frequency alone. A phrase said mostly inside a longer candidate
   goes ('Raspberry' and 'Pi' beside 'Raspberry Pi').
"""

from __future__ import annotations

import gzip
import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tubetags.corpus import CorpusSplit
from tubetags.openvocab.language import detect_language, is_adverb, phrase_glue, spoken_fillers, stop_words
from tubetags.openvocab.phrase_ranker import PhraseRanker, Scored
from tubetags.segmentation import CJK_PUNCTUATION, join_words, words_of
from tubetags.tags import variant_key

log = logging.getLogger(__name__)

BACKGROUND_FILE = "keyphrase_background.tsv.gz"
RANKER_FILE = "phrase_ranker.pkl"
_SEGMENT_END = re.compile(rf"[.!?;:,()\[\]{{}}\"“”…]+(?:\s|$)|[{CJK_PUNCTUATION}]+|\n")
# A word: letters/digits, with inner '-', '.', "'" and trailing '+'/'#' kept (GPT-5, Node.js, C++, C#).
_WORD = re.compile(r"[^\W_](?:[\w'.\-]*[\w])?[+#]*")
_POSSESSIVE = re.compile(r"'s$")


@dataclass
class Candidate:
    words: tuple[str, ...] = ()  # case-folded, as first seen
    count: int = 0
    first: int = -1  # word position of the first and last occurrence in the text (how early, how spread)
    last: int = -1
    surfaces: Counter = field(default_factory=Counter)  # original spellings away from a segment's start
    initial: Counter = field(default_factory=Counter)  # spellings at a segment's start (capitalised by grammar)

    def display(self) -> str:
        """The most frequent spelling away from a sentence's start; else lower-cased, unless it has capitals
        inside (an acronym or a name: 'GPT', 'LangChain', 'Raspberry Pi')."""
        if self.surfaces:
            return self.surfaces.most_common(1)[0][0]
        best = self.initial.most_common(1)[0][0]
        return best if any(c.isupper() for c in best[1:]) else best.lower()


class KeyphraseSuggester:
    def __init__(self, max_ngram: int = 3, min_count: int = 1, max_phrases: int = 200_000, subsumed: float = 0.5):
        self.max_ngram, self.min_count, self.max_phrases = max_ngram, min_count, max_phrases
        self.subsumed = subsumed
        self.doc_freq: dict[str, int] = {}  # variant key -> number of training transcripts that say it
        self.n_docs = 0
        self.ranker: PhraseRanker | None = None  # learned ranking (tubetags.openvocab.phrase_ranker); None: TF-IDF

    def params(self) -> dict:
        return {
            "max_ngram": self.max_ngram,
            "min_count": self.min_count,
            "max_phrases": self.max_phrases,
            "subsumed": self.subsumed,
        }

    @staticmethod
    def detect_language(text: str) -> str:
        """ISO 639-1 code of the transcript's language, as the suggester sees it (for the API to report)."""
        return detect_language(text)

    # --- candidates ---------------------------------------------------------------------------------------

    def candidates(self, text: str, language: str | None = None) -> dict[str, Candidate]:
        """Candidate phrases of one text by variant key, with counts and spellings."""
        language = language or detect_language(text)
        stop, fillers, glue = stop_words(language), spoken_fillers(language), phrase_glue(language)
        found: dict[str, Candidate] = {}
        offset = 0  # words before this segment
        for segment in _SEGMENT_END.split(text.replace("’", "'")):
            words = [_POSSESSIVE.sub("", w) for w in words_of(_WORD.findall(segment))]
            offset += len(words)
            folded = [w.casefold() for w in words]
            # Where a phrase may begin or end, and which words it may not contain at all.
            edge_ok = [
                len(f) > 1
                and f not in stop
                and f not in fillers
                and "'" not in f
                and not f.isdigit()
                and not is_adverb(f, language)
                for f in folded
            ]
            inner_ok = [ok or f in glue for ok, f in zip(edge_ok, folded)]
            for i in range(len(words)):
                if not edge_ok[i]:
                    continue
                for n in range(1, self.max_ngram + 1):
                    j = i + n - 1
                    if j >= len(words) or (n > 1 and not inner_ok[j]):
                        break
                    if not edge_ok[j]:
                        continue
                    phrase = join_words(words[i : j + 1])
                    candidate = found.setdefault(variant_key(phrase), Candidate(words=tuple(folded[i : j + 1])))
                    candidate.count += 1
                    position = offset - len(words) + i
                    candidate.last = position
                    if candidate.first < 0:
                        candidate.first = position
                    (candidate.initial if i == 0 else candidate.surfaces)[phrase] += 1
        return found

    # --- background document frequency ---------------------------------------------------------------------

    def fit(self, train: CorpusSplit) -> dict[str, list[float]]:
        """Document frequency of every candidate phrase over the training transcripts (kept: the most frequent)."""
        return self.fit_texts(r["transcript"] for r in train.records(columns=("transcript",)))

    def fit_texts(self, texts: Iterable[str]) -> dict[str, list[float]]:
        df: Counter = Counter()
        n_docs = 0
        for text in texts:
            df.update(self.candidates(text).keys())
            n_docs += 1
        # Phrases in one transcript only say nothing a missing entry does not; the rest, most frequent first.
        kept = [(key, n) for key, n in df.most_common(self.max_phrases) if n > 1]
        self.doc_freq, self.n_docs = dict(kept), n_docs
        log.info("keyphrase background: %d transcripts, %d phrases kept of %d", n_docs, len(kept), len(df))
        return {}

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        # Keys are word characters, '+' and '#' only (variant_key): no tab or newline to escape.
        with gzip.open(directory / BACKGROUND_FILE, "wt", encoding="utf-8") as out:
            out.write(f"#documents\t{self.n_docs}\n")
            out.writelines(f"{key}\t{n}\n" for key, n in self.doc_freq.items())
        if self.ranker is not None:
            self.ranker.save(directory / RANKER_FILE)

    def load(self, directory: Path) -> KeyphraseSuggester:
        path = directory / BACKGROUND_FILE
        if not path.exists():  # saved before the background existed: rank by term frequency alone
            log.warning("no %s in %s: keyphrases ranked without a background", BACKGROUND_FILE, directory)
            return self
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            self.n_docs = int(next(lines).split("\t")[1])
            self.doc_freq = {key: int(n) for key, n in (line.rstrip("\n").split("\t") for line in lines)}
        if (directory / RANKER_FILE).exists():
            self.ranker = PhraseRanker.load(directory / RANKER_FILE)
        return self

    # --- ranking ------------------------------------------------------------------------------------------

    def idf(self, key: str) -> float:
        return math.log((self.n_docs + 1) / (self.doc_freq.get(key, 0) + 1)) + 1

    def drop_subsumed(self, found: dict[str, Candidate]) -> dict[str, Candidate]:
        """Without the phrases said mostly inside a longer candidate: 'Raspberry' and 'Pi' when more than
        `subsumed` of their occurrences are in 'Raspberry Pi'; 'AI' stays beside 'AI engineer' if said on its own."""
        dropped: set[str] = set()
        for candidate in found.values():
            n = len(candidate.words)
            if candidate.count < 2:  # said once, a longer phrase is a chance sequence ('AI agent calls')
                continue
            for start in range(n):
                for end in range(start + 1, n + 1):
                    key = variant_key(" ".join(candidate.words[start:end]))
                    if end - start < n and key in found and candidate.count > self.subsumed * found[key].count:
                        dropped.add(key)
        return {key: c for key, c in found.items() if key not in dropped}

    def scored_candidates(
        self, text: str, language: str | None = None, channel: str | None = None, ranker: PhraseRanker | None = None
    ) -> list[Scored]:
        """The phrase ranker's input for one text: its best candidates by TF-IDF, with their features
        (`channel`: the video's own channel, left out of the tag prior when training)."""
        language = language or detect_language(text)
        found = {
            key: c
            for key, c in self.drop_subsumed(self.candidates(text, language)).items()
            if c.count >= self.min_count
        }
        ranker = ranker or self.ranker or PhraseRanker()
        return ranker.candidates(found, len(text.split()), language == "en", self.idf, self.doc_freq, channel)

    def rank(self, text: str, k: int = 10, language: str | None = None) -> list[tuple[str, float]]:
        """The k best phrases of one text, best first: with a fitted ranker, the probability that an uploader
        would use each as a tag; else TF-IDF scores in (0, 1], relative to this text's best phrase."""
        if self.ranker is not None:
            return self.ranker.rank(self.scored_candidates(text, language), k)
        found = self.drop_subsumed(self.candidates(text, language))
        scored = [(c.count * self.idf(key), c.display()) for key, c in found.items() if c.count >= self.min_count]
        scored.sort(key=lambda sp: (-sp[0], sp[1]))
        if not scored:
            return []
        best = scored[0][0]
        return [(phrase, score / best) for score, phrase in scored[:k]]

    def suggest(self, transcripts: Sequence[str], k: int = 10) -> list[list[tuple[str, float]]]:
        return [self.rank(text, k) for text in transcripts]
