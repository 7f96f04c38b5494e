"""Words of scripts written without spaces, and which of them tubetags can read.

Chinese is written without spaces between words: split on spaces, a whole clause is one "word" (and so a
tag). Its words come from rjieba (the Rust port of jieba, the usual Chinese segmenter; its dictionary ships
inside the wheel, offline). Japanese (kana), Thai, Lao, Khmer, Burmese and Tibetan are unspaced too and no
segmenter for them is installed: `unsupported_script` names them so the API can say so instead of
returning clauses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

# Han ideographs (CJK unified, extensions A and B+, compatibility).
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_HAN = re.compile(f"[{HAN}]")
_HAN_RUN = re.compile(f"[{HAN}]+")
# Unspaced scripts without a segmenter here, by the name the API reports.
_UNSEGMENTED = {
    "Japanese": re.compile("[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]"),  # kana (Japanese kanji are Han)
    "Thai": re.compile("[\u0e00-\u0e7f]"),
    "Lao": re.compile("[\u0e80-\u0eff]"),
    "Khmer": re.compile("[\u1780-\u17ff\u19e0-\u19ff]"),
    "Burmese": re.compile("[\u1000-\u109f]"),
    "Tibetan": re.compile("[\u0f00-\u0fff]"),
}
UNSUPPORTED_SHARE = 0.2  # of a text's letters in such a script: that text cannot be read word by word
# Sentence and clause punctuation of CJK text (full-width): a phrase never runs across one.
CJK_PUNCTUATION = "。！？；：，、…「」『』（）【】《》〈〉"
# A tag in an unspaced script longer than this is a clause, not a phrase anyone searches for.
MAX_UNSPACED_TAG_CHARS = 16
_SENTENCE_PUNCTUATION = re.compile(f"[{CJK_PUNCTUATION}]|[.!?;](?:\\s|$)")
_WORD_CHAR = re.compile(r"[^\W_]")


def has_han(text: str) -> bool:
    return _HAN.search(text) is not None


@lru_cache(maxsize=1)
def _jieba():  # imported on first use: ~0.1 s to load its dictionary
    import rjieba

    return rjieba


def split_han(token: str) -> list[str]:
    """A token with Han characters cut into words (rjieba); the other characters stay with their neighbours:
    '用Python写代码' -> ['用', 'Python', '写', '代码']. Tokens without Han come back whole."""
    if not has_han(token):
        return [token]
    return [piece for piece in _jieba().cut(token) if _WORD_CHAR.search(piece)]


def words_of(tokens: Iterable[str]) -> list[str]:
    """Tokens, those with Han characters segmented into words."""
    return [word for token in tokens for word in split_han(token)]


def words_of_text(text: str, tokens: list[str]) -> list[str]:
    """`words_of` the tokens of `text`, without looking for Han in each token when the text has none."""
    return words_of(tokens) if has_han(text) else tokens


def join_words(words: Iterable[str]) -> str:
    """Words back into a phrase: no space between two Han words ('机器学习'), one elsewhere ('AI 模型')."""
    out = ""
    for word in words:
        if out and not (_HAN.match(word[0]) and _HAN.match(out[-1])):
            out += " "
        out += word
    return out


def unsupported_script(text: str) -> str | None:
    """The name of an unspaced script without a segmenter that makes up at least `UNSUPPORTED_SHARE` of the
    text's letters (e.g. 'Japanese'), or None."""
    present = [(name, pattern) for name, pattern in _UNSEGMENTED.items() if pattern.search(text)]
    if not present:  # most texts: the letters need not be counted (~4 ms in Python for 2,000 words)
        return None
    letters = sum(1 for ch in text if ch.isalpha())
    for name, pattern in present:
        if len(pattern.findall(text)) >= UNSUPPORTED_SHARE * letters:
            return name
    return None


def unspaced_chars(tag: str) -> int:
    """Characters of `tag` in scripts written without spaces (Han and the unsegmented ones)."""
    return len(_HAN.findall(tag)) + sum(len(p.findall(tag)) for p in _UNSEGMENTED.values())


def is_clause(tag: str) -> bool:
    """A tag that runs across sentence punctuation, or is too long a run of unspaced script to be a phrase."""
    return _SENTENCE_PUNCTUATION.search(tag) is not None or unspaced_chars(tag) > MAX_UNSPACED_TAG_CHARS


def real_words(text: str) -> list[str]:
    """The words of a text a person reads: runs of letters (two or more, or one Han character), with Han runs
    segmented. Emoji, digits, punctuation and symbols are not words."""
    tokens = re.findall(r"[^\W\d_]+", text)
    if not has_han(text):
        return [token for token in tokens if len(token) > 1]
    out: list[str] = []
    for token in tokens:
        if has_han(token):
            out += [w for w in split_han(token) if has_han(w) or len(w) > 1]
        elif len(token) > 1:
            out.append(token)
    return out
