"""README.md and docs/*.md stay navigable: every relative link and image points to a file that exists (and to a
heading that exists when it names one, GitHub-style anchors), the README stays short, and no line is a wall of text.

Markdown is parsed with markdown-it-py (CommonMark + tables), so links inside code blocks and inline code are not
links, as on GitHub.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from urllib.parse import unquote

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 200
MAX_LINE_CHARS = 400

MARKDOWN = MarkdownIt("commonmark").enable("table")
EXTERNAL = re.compile(r"^([a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)  # http:, mailto:, protocol-relative


def walk(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        if token.children:
            yield from walk(token.children)


def parse(path: Path) -> list[Token]:
    return MARKDOWN.parse(path.read_text(encoding="utf-8"))


def slug(text: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped (letters, digits, `_`, `-` and spaces kept),
    each space a hyphen."""
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    """The anchors of a page's headings; a repeated heading gets -1, -2, ... as on GitHub."""
    tokens = parse(path)
    seen: dict[str, int] = {}
    out: set[str] = set()
    for opening, inline in zip(tokens, tokens[1:], strict=False):
        if opening.type != "heading_open":
            continue
        text = "".join(t.content for t in walk(inline.children or []) if t.type in ("text", "code_inline"))
        base = slug(text)
        count = seen.get(base, 0)
        seen[base] = count + 1
        out.add(base if count == 0 else f"{base}-{count}")
    return frozenset(out)


def targets(path: Path) -> list[str]:
    """Every link and image target on the page, as written."""
    out = []
    for token in walk(parse(path)):
        if token.type == "link_open":
            out.append(str(token.attrs["href"]))
        elif token.type == "image":
            out.append(str(token.attrs["src"]))
    return out


def broken_links(path: Path) -> list[str]:
    """The page's relative links that point to no file, or to a heading its target page does not have."""
    broken = []
    for target in targets(path):
        if EXTERNAL.match(target):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / unquote(file_part)).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and unquote(anchor) not in anchors(linked):
            broken.append(f"{target}: no heading #{anchor} in {linked.name}")
    return broken


def page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_relative_links_and_anchors_resolve(page: Path) -> None:
    assert broken_links(page) == []


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_no_line_is_a_wall_of_text(page: Path) -> None:
    long_lines = [
        f"line {number}: {len(line)} characters"
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1)
        if len(line) > MAX_LINE_CHARS
    ]
    assert long_lines == []


def test_readme_is_short() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move details to docs/"


def test_docs_pages_exist() -> None:
    assert {p.name for p in PAGES if p.parent.name == "docs"} >= {
        "data.md",
        "experiments.md",
        "serving.md",
        "operations.md",
        "benchmarks.md",
    }


def test_slug_follows_github() -> None:
    assert slug("The served default: tags for any channel (`open_vocab`)") == (
        "the-served-default-tags-for-any-channel-open_vocab"
    )
    assert slug("(b) BiLSTM from scratch") == "b-bilstm-from-scratch"
    assert slug("Where to run it — VM") == "where-to-run-it--vm"


def test_broken_links_are_reported(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other page\n\n## A section\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n## Same heading\n\n## Same heading\n\n"
        "[ok](other.md) [ok](other.md#a-section) [ok](#same-heading-1) [ok](https://example.com/missing)\n"
        "![missing image](img/none.png) [bad anchor](other.md#nowhere) [bad local](#same-heading-2)\n\n"
        "`[not a link](nowhere.md)`\n\n```\n[not a link either](nowhere.md)\n```\n"
    )
    assert broken_links(page) == [
        "img/none.png: no such file",
        "other.md#nowhere: no heading #nowhere in other.md",
        "#same-heading-2: no heading #same-heading-2 in page.md",
    ]
