"""tubetags.markup: tags, script/style content and entities out; plain text, `a < b` included, stays as it is."""

from __future__ import annotations

import re

import pytest

from tubetags.markup import strip_markup

TAG = re.compile(r"<\s*/?\s*[a-zA-Z!?]")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("<img src=x onerror=alert(1)>", ""),
        ('<a href="javascript:alert(1)">click</a> here', "click here"),
        ("<script>alert('x')</script>bread", "bread"),
        ("<style>p { color: red }</style><p>bake bread</p>", "bake bread"),
        ("<b>sour</b>dough starter", "sourdough starter"),  # inline tags join their text
        ("fish &amp; chips &eacute;t&eacute;", "fish & chips été"),
        ("x <img src=x onerror=alert(1)", "x"),  # unterminated: still not text
        ("<!-- a comment --> said", "said"),
    ],
)
def test_markup_goes(text, expected):
    assert " ".join(strip_markup(text).split()) == expected


@pytest.mark.parametrize(
    "encoded",
    [
        "&lt;img src=x onerror=alert(1)&gt;",  # an .srt line, decoded after stripping it would be live markup
        "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;",  # encoded twice
        "&#60;svg onload=alert(1)&#62;",
    ],
)
def test_encoded_markup_cannot_come_back_after_decoding(encoded):
    stripped = strip_markup(encoded)
    assert not TAG.search(stripped), stripped
    assert "onerror" not in stripped and "onload" not in stripped and "alert" not in stripped


@pytest.mark.parametrize(
    "plain",
    ["if a < b and b > c then", "I <3 python", "5 &lt 6 is true", "AT&T and Q&A", "today we bake bread"],
)
def test_plain_text_is_left_alone(plain):
    assert strip_markup(plain) in {plain, plain.replace("&lt", "<")}
    assert strip_markup("today we bake bread") == "today we bake bread"
