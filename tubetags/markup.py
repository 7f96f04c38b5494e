"""Markup out of text that people send: HTML/XML tags, script and style content, entities.

A transcript pasted from a web page, a subtitle line with `<i>` or `<font>`, or a payload such as
`<img src=x onerror=alert(1)>` must not become words (and so tags, or evidence passages). The parser is
the standard library's HTML tokenizer (`html.parser`), which follows HTML's own rules: `a < b` and `I <3 it`
are text, `<b>` is a tag, `<script>`'s content is not text. Entities are decoded by the same parser, and
the result is parsed again until nothing changes, so text encoded twice (`&lt;img ...&gt;`,
`&amp;lt;b&amp;gt;`) cannot turn into markup after decoding: the order "decode, then strip" and "strip,
then decode" give the same, markup-free answer.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Elements whose content is code or metadata, never something a speaker said.
_HIDDEN = frozenset({"script", "style", "noscript", "template", "head", "title", "svg", "math", "object"})
# Elements that flow inside a sentence: removed without a space ('<i>un</i>believable', WebVTT's <c>, <v>).
_INLINE = frozenset(
    "a abbr b bdi bdo big c cite code data dfn em font i kbd lang mark q rb rp rt rtc ruby s samp small span "
    "strike strong sub sup time tt u v var wbr".split()
)
_UNTERMINATED = re.compile(r"<[A-Za-z!/?][^<>]*$")  # '... <img src=x onerror=alert(1)' with no '>': not text
_MAX_ROUNDS = 4  # each round decodes one level of entity encoding


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, _attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag not in _INLINE:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, _attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _INLINE:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(self.hidden - 1, 0)
        elif tag not in _INLINE:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def _strip_once(text: str) -> str:
    parser = _TextOnly()
    parser.feed(text)
    parser.close()
    return _UNTERMINATED.sub("", "".join(parser.parts))


def has_markup_characters(text: str) -> bool:
    return "<" in text or "&" in text


def strip_markup(text: str) -> str:
    """`text` without tags, comments, script/style content, with entities decoded; plain text comes back as is.

    Inline tags leave nothing, other tags a space; whitespace is otherwise left alone (callers normalise it).
    """
    for _ in range(_MAX_ROUNDS):
        if not has_markup_characters(text):
            return text
        stripped = _strip_once(text)
        if stripped == text:
            return text
        text = stripped
    return text.replace("<", " ").replace(">", " ")  # encoded more deeply than anyone writes: no markup left
