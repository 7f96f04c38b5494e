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
import heapq
import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate, compress
from pathlib import Path

import numpy as np

from tubetags.corpus import CorpusSplit
from tubetags.inputs import Video, description_opening, hashtags
from tubetags.openvocab.language import detect_language, is_adverb, phrase_glue, spoken_fillers, stop_words
from tubetags.openvocab.phrase_ranker import CONTEXT_TOP, Candidates, PhraseRanker, PhraseSources
from tubetags.openvocab.static_vectors import StaticVectors
from tubetags.segmentation import CJK_PUNCTUATION, has_han, join_words, split_han
from tubetags.tags import key_parts, number_stem, tag_key

log = logging.getLogger(__name__)

BACKGROUND_FILE = "keyphrase_background.tsv.gz"
RANKER_FILE = "phrase_ranker.pkl"
VECTORS_DIR = "static_vectors"
_TITLE_BREAKS = re.compile(r"\s[|/\-–—]\s|\|")  # 'Python Tips | Tech With Tim', 'Review - too much?'
_SEGMENT_END = re.compile(rf"[.!?;:,()\[\]{{}}\"“”…]+(?:\s|$)|[{CJK_PUNCTUATION}]+|\n")
# A word: letters/digits, with inner '-', '.', "'" and trailing '+'/'#' kept (GPT-5, Node.js, C++, C#). Runs of
# word characters and of inner marks, possessive: the same words as `[^\W_](?:[\w'.\-]*\w)?[+#]*` (all corpus
# transcripts tokenise alike), without backtracking from the end of each word (~20% sooner).
_WORD = re.compile(r"[^\W_]\w*+(?:['.\-]++\w++)*+[+#]*+")
_TOKEN = re.compile(f"({_WORD.pattern})|(?:{_SEGMENT_END.pattern})")


# A version or a year: 5, 17, 4.1, 2025 (not 000 or 255: amounts are rarely part of a name).
_NUMBER = re.compile(r"(?:[1-9]\d?|(?:19|20)\d\d)(?:\.\d{1,2})?")
_NONZERO_DIGITS = frozenset("123456789")  # what a version or a year starts with
_LEXICON_MAX = 200_000  # words remembered per language (a process serves many transcripts)


@dataclass(frozen=True, slots=True)
class WordInfo:
    """What the candidate rules need to know about one spelling of a word, worked out once per process."""

    folded: str
    edge: bool  # may begin or end a phrase
    inner: bool  # may stand inside a phrase ('of' in 'theory of mind')
    number: bool  # a version or year: inside or at the end of a phrase after a word ('GPT 5', 'iPhone 17 Pro')
    body: str  # its part of a spelling key ('GPT-5' -> 'gpt5')
    tail: str  # the same as a phrase's last word, its number folded ('robots' -> 'robot')


_LEXICONS: dict[str, dict[str, WordInfo]] = {}
_BREAK = WordInfo("", False, False, False, "", "")  # where a segment ends: nothing spans it


def word_info(word: str, language: str) -> WordInfo:
    """`WordInfo` of one spelling (possessive 's already removed), cached per language."""
    lexicon = _LEXICONS.setdefault(language, {})
    info = lexicon.get(word)
    if info is None:
        if len(lexicon) >= _LEXICON_MAX:
            lexicon.clear()
        f = word.casefold()
        edge = (
            len(f) > 1
            and f not in stop_words(language)
            and f not in spoken_fillers(language)
            and "'" not in f
            and not f.isdigit()
            and not is_adverb(f, language)
        )
        # A word of letters and digits only is its own key part (what key_parts gives, without its 4 regexes).
        parts = [f.casefold()] if f.isalnum() else key_parts(f)
        tail = "".join(parts[:-1]) + number_stem(parts[-1]) if parts else ""
        number = f[:1] in _NONZERO_DIGITS and _NUMBER.fullmatch(f) is not None
        info = WordInfo(f, edge, edge or f in phrase_glue(language), number, "".join(parts), tail)
        lexicon[word] = info
    return info


class Candidate:
    """One phrase of a text (all its spellings, by variant key): how often, where, and how it is spelt."""

    __slots__ = ("count", "first", "infos", "initial", "last", "surfaces")

    def __init__(self, infos: tuple[WordInfo, ...]):
        self.infos = infos  # its words as first seen
        self.count = 0
        self.first = -1  # word position of the first and last occurrence in the text (how early, how spread)
        self.last = -1
        self.surfaces: dict[str, int] = {}  # original spellings away from a segment's start
        self.initial: dict[str, int] = {}  # spellings at a segment's start (capitalised by grammar)

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(info.folded for info in self.infos)

    def key(self, start: int = 0, end: int | None = None) -> str:
        """variant_key of its words start..end (all of them by default)."""
        infos = self.infos[start:end]
        return "".join(info.body for info in infos[:-1]) + infos[-1].tail

    def display(self) -> str:
        """The most frequent spelling away from a sentence's start; else lower-cased, unless it has capitals
        inside (an acronym or a name: 'GPT', 'LangChain', 'Raspberry Pi'). Ties: the first seen."""
        if self.surfaces:
            return max(self.surfaces.items(), key=lambda kv: kv[1])[0]
        best = max(self.initial.items(), key=lambda kv: kv[1])[0]
        return best if any(c.isupper() for c in best[1:]) else best.lower()


def phrase_candidate(text: str, language: str) -> Candidate | None:
    """A whole text (a tag) as one candidate, whatever its words; never said in the video (count 0)."""
    words = [w[:-2] if w.endswith("'s") else w for w in _WORD.findall(text)]
    if not words:
        return None
    candidate = Candidate(tuple(word_info(w, language) for w in words))
    candidate.surfaces[" ".join(words)] = 1
    return candidate


class KeyphraseSuggester:
    def __init__(
        self,
        max_ngram: int = 3,
        min_count: int = 1,
        max_phrases: int = 200_000,
        subsumed: float = 0.5,
        versions: bool = True,
    ):
        self.max_ngram, self.min_count, self.max_phrases = max_ngram, min_count, max_phrases
        self.subsumed = subsumed
        self.versions = versions  # numbers may end or stand inside a phrase: 'GPT 5', 'iPhone 17 Pro'
        self.doc_freq: dict[str, int] = {}  # variant key -> number of training transcripts that say it
        self.n_docs = 0
        self.ranker: PhraseRanker | None = None  # learned ranking (tubetags.openvocab.phrase_ranker); None: TF-IDF
        self.vectors: StaticVectors | None = None  # word vectors for the ranker's semantic features

    def params(self) -> dict:
        return {
            "max_ngram": self.max_ngram,
            "min_count": self.min_count,
            "max_phrases": self.max_phrases,
            "subsumed": self.subsumed,
            "versions": self.versions,
        }

    @staticmethod
    def detect_language(text: str) -> str:
        """ISO 639-1 code of the transcript's language, as the suggester sees it (for the API to report)."""
        return detect_language(text)

    # --- candidates ---------------------------------------------------------------------------------------

    def candidates(self, text: str, language: str | None = None) -> dict[str, Candidate]:
        """Candidate phrases of one text by variant key, with counts and spellings.

        Each word's rules and key parts are looked up once per process (`word_info`), and a phrase's key is
        joined from its words' parts: the same keys as `variant_key` of the phrase, without a regex per n-gram."""
        language = language or detect_language(text)
        lexicon = _LEXICONS.setdefault(language, {})
        versions, max_ngram = self.versions, self.max_ngram
        # One pass over the text: words, and '' where a segment ends (punctuation, a line break). Chinese, written
        # without spaces, is cut into words (tubetags.segmentation) and its phrases joined without spaces.
        tokens = _TOKEN.findall(text.replace("’", "'"))
        han = has_han(text)
        if han:
            tokens = [piece for token in tokens for piece in (split_han(token) if token else [""])]
        tokens = [w[:-2] if w.endswith("'s") else w for w in tokens]
        infos = [lexicon.get(w) or word_info(w, language) if w else _BREAK for w in tokens]
        starts = [True] + [not w for w in tokens[:-1]]  # a word right after a break starts a segment
        positions = list(accumulate(1 if w else 0 for w in tokens))  # words up to and including each token
        found: dict[str, Candidate] = {}
        n = len(tokens)
        for i in compress(range(n), [info.edge for info in infos]):  # where a phrase may begin
            prefix, spelling = "", tokens[i]
            position = positions[i] - 1
            for j in range(i, min(i + max_ngram, n)):
                info = infos[j]
                if j > i:
                    # a number only right after a word of the phrase ('GPT 5', not 'war of 2029')
                    number = versions and info.number and infos[j - 1].edge
                    if not (info.inner or number):
                        break
                    prefix += infos[j - 1].body
                    spelling = join_words(tokens[i : j + 1]) if han else f"{spelling} {tokens[j]}"
                    if not (info.edge or number):
                        continue
                key = prefix + info.tail
                candidate = found.get(key)
                if candidate is None:
                    candidate = found[key] = Candidate(tuple(infos[i : j + 1]))
                candidate.count += 1
                candidate.last = position
                if candidate.first < 0:
                    candidate.first = position
                spellings = candidate.initial if starts[i] else candidate.surfaces
                spellings[spelling] = spellings.get(spelling, 0) + 1
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
        if self.vectors is not None:
            self.vectors.save(directory / VECTORS_DIR)

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
        if (directory / VECTORS_DIR).exists():
            self.vectors = StaticVectors.load(directory / VECTORS_DIR)
        return self

    # --- ranking ------------------------------------------------------------------------------------------

    def idf(self, key: str) -> float:
        return math.log((self.n_docs + 1) / (self.doc_freq.get(key, 0) + 1)) + 1

    def drop_subsumed(self, found: dict[str, Candidate]) -> dict[str, Candidate]:
        """Without the phrases said mostly inside a longer candidate: 'Raspberry' and 'Pi' when more than
        `subsumed` of their occurrences are in 'Raspberry Pi'; 'AI' stays beside 'AI engineer' if said on its own."""
        dropped: set[str] = set()
        for candidate in found.values():
            n = len(candidate.infos)
            if n < 2 or candidate.count < 2:  # said once, a longer phrase is a chance sequence ('AI agent calls')
                continue
            for start in range(n):
                for end in range(start + 1, n + 1):
                    if end - start == n:
                        continue
                    key = candidate.key(start, end)
                    inner = found.get(key)
                    if inner is not None and candidate.count > self.subsumed * inner.count:
                        dropped.add(key)
        return {key: c for key, c in found.items() if key not in dropped}

    def sources(
        self, video: Video | str, language: str | None = None, channel: str | None = None, ranker=None
    ) -> PhraseSources:
        """One video's candidates per source: the transcript's (subsumed ones dropped), the title's, the
        description opening's, the hashtags', and the tags of other channels whose videos this one resembles
        (`channel`: left out of them, when training)."""
        video = Video(video) if isinstance(video, str) else video
        text = video.transcript
        language = language or detect_language(text)
        found = {
            key: c
            for key, c in self.drop_subsumed(self.candidates(text, language)).items()
            if c.count >= self.min_count
        }
        title = _TITLE_BREAKS.sub("\n", video.title or "")
        opening = description_opening(video.description)
        tags = hashtags(video.title, video.description)
        titled = self.candidates(title, language) if title.strip() else {}
        doc_vector = title_vector = None
        context: dict[str, Candidate] = {}
        similarity: dict[str, float] = {}
        if self.vectors is not None:
            doc_vector = self._content_vector(found)
            title_vector = self._title_vector(titled)
            vocabulary = (ranker or self.ranker or PhraseRanker()).vocabulary
            if vocabulary.context:
                similarity = vocabulary.context_similarity(doc_vector, tag_key(channel) if channel else None)
                for key, _ in heapq.nlargest(CONTEXT_TOP, similarity.items(), key=lambda kv: kv[1]):
                    phrase = phrase_candidate(vocabulary.names[key], language)
                    if phrase is not None:
                        context.setdefault(phrase.key(), phrase)
        return PhraseSources(
            transcript=found,
            title=titled,
            description=self.candidates(opening, language) if opening else {},
            hashtags=self.candidates("\n".join(tags), language) if tags else {},
            context=context,
            context_similarity=similarity,
            words=len(text.split()),
            english=language == "en",
            title_words=len(title.split()),
            doc_vector=doc_vector,
            title_vector=title_vector,
        )

    def _content_vector(self, found: dict[str, Candidate]) -> np.ndarray:
        singles = [(c.infos[0].folded, c.count) for c in found.values() if len(c.infos) == 1]
        assert self.vectors is not None  # called only with vectors loaded
        return self.vectors.text_vector([w for w, _ in singles], [n for _, n in singles])

    def _title_vector(self, titled: dict[str, Candidate]) -> np.ndarray | None:
        singles = [c.infos[0].folded for c in titled.values() if len(c.infos) == 1]
        return self.vectors.text_vector(singles) if singles and self.vectors is not None else None

    def title_vector(self, title: str | None, language: str) -> np.ndarray | None:
        """Unit vector of a title's content words; None without one."""
        title = _TITLE_BREAKS.sub("\n", title or "")
        return self._title_vector(self.candidates(title, language)) if title.strip() else None

    def transcript_vector(self, text: str, language: str | None = None) -> np.ndarray:
        """Unit vector of a transcript's content words (its one-word candidates, by count): what it is about."""
        if self.vectors is None:
            raise ValueError("no word vectors: set KeyphraseSuggester.vectors")
        return self._content_vector(self.drop_subsumed(self.candidates(text, language)))

    def scored_candidates(
        self,
        video: Video | str,
        language: str | None = None,
        channel: str | None = None,
        ranker: PhraseRanker | None = None,
    ) -> Candidates:
        """The phrase ranker's input for one video: its candidates with their features (`channel`: the video's
        own channel, left out of the tag-likeness counts when training)."""
        ranker = ranker or self.ranker or PhraseRanker()
        sources = self.sources(video, language, channel, ranker)
        return ranker.candidates(sources, self.doc_freq, self.n_docs, self.vectors, channel)

    def rank(self, video: Video | str, k: int = 10, language: str | None = None) -> list[tuple[str, float]]:
        """The k best phrases of one video, best first: with a fitted ranker, the probability that an uploader
        would use each as a tag; else TF-IDF scores of the transcript's phrases in (0, 1], relative to the best."""
        video = Video(video) if isinstance(video, str) else video
        if self.ranker is None:
            found = self.drop_subsumed(self.candidates(video.transcript, language))
            return self._tfidf_ranking(found, k)
        return self.rank_sources(self.sources(video, language), k, video.setting)

    def rank_sources(self, sources: PhraseSources, k: int, setting: str = "transcript") -> list[tuple[str, float]]:
        """`rank` of a video whose sources are computed already."""
        if self.ranker is None:
            return self._tfidf_ranking(sources.transcript, k)
        candidates = self.ranker.candidates(sources, self.doc_freq, self.n_docs, self.vectors)
        return self.ranker.rank(candidates, k, setting)

    def _tfidf_ranking(self, found: Mapping[str, Candidate], k: int) -> list[tuple[str, float]]:
        scored = [(c.count * self.idf(key), c.display()) for key, c in found.items() if c.count >= self.min_count]
        scored.sort(key=lambda sp: (-sp[0], sp[1]))
        if not scored:
            return []
        best = scored[0][0]
        return [(phrase, score / best) for score, phrase in scored[:k]]

    def suggest(self, videos: Sequence[Video | str], k: int = 10) -> list[list[tuple[str, float]]]:
        return [self.rank(video, k) for video in videos]
