"""tubetags.segmentation: Chinese cut into words, unspaced scripts without a segmenter named, clauses recognised."""

from __future__ import annotations

import pytest

from tubetags.segmentation import (
    MAX_UNSPACED_TAG_CHARS,
    is_clause,
    join_words,
    real_words,
    split_han,
    unsupported_script,
)

CHINESE = "今天我们来做面包。首先把面粉和水混合，然后加入酵母。机器学习是人工智能的一个分支。"


def test_chinese_is_cut_into_words():
    words = split_han("机器学习是人工智能的一个分支")
    assert "人工智能" in words and "分支" in words
    assert all(len(w) <= 4 for w in words)
    assert split_han("sourdough") == ["sourdough"]
    assert split_han("用Python写代码") == ["用", "Python", "写", "代码"]


def test_words_join_without_spaces_only_between_han():
    assert join_words(["机器", "学习"]) == "机器学习"
    assert join_words(["AI", "模型"]) == "AI 模型"
    assert join_words(["sourdough", "starter"]) == "sourdough starter"


@pytest.mark.parametrize(
    "text, script",
    [
        ("今日はパンを作ります。まず小麦粉と水を混ぜます。", "Japanese"),
        ("วันนี้เราจะทำขนมปังกัน", "Thai"),
        ("ថ្ងៃនេះយើងធ្វើនំបុ័ង", "Khmer"),
        (CHINESE, None),
        ("today we bake bread", None),
        ("오늘은 빵을 만들어요", None),  # Korean is written with spaces
        ("today we bake bread " * 3 + "パンを作ります", None),  # some kana, under UNSUPPORTED_SHARE of the letters
        ("パンを作ります。" * 3 + "today we bake", "Japanese"),
    ],
)
def test_unsupported_scripts_are_named(text, script):
    assert unsupported_script(text) == script


def test_real_words_leave_out_emoji_digits_and_symbols():
    assert real_words("😀" * 200) == []
    assert real_words("12 34 !!! ☃ a") == []
    assert real_words("bake bread, 2 loaves") == ["bake", "bread", "loaves"]
    assert {"面包", "面粉"} <= set(real_words(CHINESE))


def test_clauses_are_recognised():
    assert is_clause("今天我们来做面包。首先把面粉和水混合")  # runs across a full stop
    assert is_clause("我们" * (MAX_UNSPACED_TAG_CHARS // 2 + 1))
    assert is_clause("what are integers? class 7")
    for tag in ("人工智能", "sourdough starter", "Node.js", "how to represent integers on a number line", "C++"):
        assert not is_clause(tag), tag
