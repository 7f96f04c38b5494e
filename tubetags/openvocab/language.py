"""Which language a transcript is in, and that language's stop words and spoken fillers.

Language identification is py3langid (a naive Bayes model over byte n-grams, shipped inside the package,
offline, deterministic). Stop words are the `stop-words` package's lists, except English, which keeps
scikit-learn's list that the keyphrases were tuned with. A language without a list gets none: better a
few function words among the candidates than another language's list removing real words.
"""

from __future__ import annotations

import logging
import re
from functools import cache, lru_cache

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

log = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "en"  # for a text with no letters at all: the corpus is English
DETECT_CHARS = 1000  # same answer as 2,000 on all 2,978 corpus transcripts, at 0.6 vs 1.1 ms: linear in the length

# Words of speech that carry no topic in each language: frequent in transcripts, useless as tags.
# Multi-word fillers ('you know', 'kind of', 'sort of', 'i mean') are covered too: each of their words is
# a stop word or a filler, and a candidate phrase never begins or ends with one.
SPOKEN_FILLERS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "just like really know going want think yeah yep yup okay ok actually thing things start started recommend "
        "gonna gotta wanna kinda sorta dunno cuz lemme kind sort lot lots way today yesterday tomorrow day days "
        "time times right good great little big make makes made let say said says look looking see seen use used "
        "using need needs guys hey hi hello welcome video videos channel subscribe um umm uh uhh er erm hmm mm ah "
        "oh basically literally probably maybe pretty able wanted new better best thank thanks stuff "
        "got get gets getting go goes went come comes came doing does did".split()
    ),
    "pt": frozenset(
        "né tipo então aí daí assim gente pessoal galera cara mano beleza olá oi tchau obrigado obrigada vídeo "
        "vídeos canal inscreva inscrevam inscrever like deixa deixe hoje ontem amanhã coisa coisas vai vou vamos "
        "fazer faz fez fiz ficar fica ficou agora aqui ali lá sabe sabem entendeu tá tô ok okay hum ahn eh ah "
        "bom bem muito muita muitos muitas pouco dia dias vez vezes jeito gostei gosto".split()
    ),
    "es": frozenset(
        "pues bueno este eh ah tipo vale vamos hoy ayer mañana cosa cosas vídeo vídeos canal suscríbete "
        "hola gracias aquí ahí allí entonces así mucho mucha muchos muchas día días vez veces hacer hace".split()
    ),
}

# Words allowed inside a phrase although they are stop words: 'theory of mind', 'bolo de chocolate'.
PHRASE_GLUE: dict[str, frozenset[str]] = {
    "en": frozenset({"of", "and", "&"}),
    "pt": frozenset({"de", "do", "da", "dos", "das", "e"}),
    "es": frozenset({"de", "del", "y"}),
    "fr": frozenset({"de", "du", "des", "et"}),
    "it": frozenset({"di", "del", "della", "e"}),
}

# Endings of adverbs ('automatically', 'increasingly', 'precisely'): never part of a noun phrase, so they end one
# like a filler. Endings that nouns share ('family', 'supply', 'assembly') are left out.
ADVERB_SUFFIXES: dict[str, tuple[str, ...]] = {
    "en": (
        "ally",
        "ingly",
        "ously",
        "ively",
        "fully",
        "lessly",
        "edly",
        "ently",
        "antly",
        "ately",
        "ctly",
        "ckly",
        "ely",
    ),
    "pt": ("mente",),
    "es": ("mente",),
}

_LETTER = re.compile(r"[^\W\d_]")


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE)


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language ('en', 'pt', ...); `DEFAULT_LANGUAGE` for a text without letters.

    Auto-captions without casing or punctuation are fine: the model reads character n-grams.
    """
    return _detect_sample(text[:DETECT_CHARS])


@lru_cache(maxsize=32)  # one request asks twice (the keyphrases, the API's summary): ~3.5 ms each on 2 cores
def _detect_sample(sample: str) -> str:
    if not _LETTER.search(sample):
        return DEFAULT_LANGUAGE
    return str(_identifier().classify(sample.lower())[0])


@cache
def stop_words(language: str) -> frozenset[str]:
    """Case-folded stop words of `language`; empty (with a warning) when no list exists for it."""
    if language == "en":
        return frozenset(ENGLISH_STOP_WORDS)
    from stop_words import LANGUAGE_MAPPING, get_stop_words

    if language not in LANGUAGE_MAPPING:
        log.warning("no stop-word list for language %r: keyphrases are ranked without one", language)
        return frozenset()
    return frozenset(w.casefold() for w in get_stop_words(language))


def spoken_fillers(language: str) -> frozenset[str]:
    return SPOKEN_FILLERS.get(language, frozenset())


def phrase_glue(language: str) -> frozenset[str]:
    return PHRASE_GLUE.get(language, frozenset())


def is_adverb(word: str, language: str) -> bool:
    """True for a case-folded word that looks like an adverb of `language` (by its ending, 6 letters or more)."""
    return len(word) > 5 and word.endswith(ADVERB_SUFFIXES.get(language, ()))
