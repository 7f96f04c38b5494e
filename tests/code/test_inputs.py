"""What a creator gives besides the transcript: title, description (opening, hashtags), channel history."""

import pytest

from tubetags.inputs import (
    DESCRIPTION_LINES,
    MAX_HISTORY,
    MAX_HISTORY_TAGS,
    PastVideo,
    Video,
    description_opening,
    hashtags,
    history_json,
    parse_history,
)


def test_the_setting_says_which_texts_a_video_came_with():
    assert Video("words").setting == "transcript"
    assert Video("words", title="A title").setting == "title"
    assert Video("words", title="  ").setting == "transcript"
    assert Video("words", title="A title", description="About it").setting == "description"
    assert Video("words", description="About it").setting == "description"


def test_the_description_opening_drops_links_and_the_tail():
    description = (
        "Build an MCP server in Python.\n\nGet the code: https://github.com/x/y\nSponsor: www.example.com\n"
        "Chapters\n00:00 intro\n01:00 setup"
    )
    opening = description_opening(description)
    assert opening.splitlines() == ["Build an MCP server in Python.", "Get the code:", "Sponsor:"]
    assert len(opening.splitlines()) == DESCRIPTION_LINES and "http" not in opening and "www" not in opening
    assert description_opening(None) == ""


def test_hashtags_in_order_once_each():
    assert hashtags("GPT-5 review #AI", "More #VibeCoding and #ai, not C# or a#b or #_ #AI") == [
        "AI",
        "VibeCoding",
        "ai",
    ]
    assert hashtags(None, "") == []


def test_channel_history_from_a_list_or_its_json():
    past = [{"title": "Old video", "tags": ["python", "flask"]}, {"title": "", "tags": []}, {"tags": ["x"]}]
    parsed = parse_history(past)
    assert parsed == (PastVideo("Old video", ("python", "flask")), PastVideo("", ()), PastVideo("", ("x",)))
    assert parse_history(history_json(parsed)) == parsed
    assert parse_history(None) == parse_history("") == parse_history(float("nan")) == ()
    many = [{"title": str(i), "tags": []} for i in range(MAX_HISTORY + 5)]
    assert [v.title for v in parse_history(many)][:1] == ["5"]  # the most recent MAX_HISTORY
    # PastVideo items (the API's own parse) are held to the same limits as their JSON form.
    long = (PastVideo("t", tuple(f"tag {i}" for i in range(MAX_HISTORY_TAGS + 5))),)
    assert parse_history(long) == parse_history(history_json(long))
    assert len(parse_history(long)[0].tags) == MAX_HISTORY_TAGS


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{not json", "not valid JSON"),
        ({"title": "x"}, "must be a list"),
        (["just a title"], r"channel_history\[0\] must be an object"),
        ([{"title": 3, "tags": []}], r"channel_history\[0\].title must be a string"),
        ([{"title": "x", "tags": "python"}], r"channel_history\[0\].tags must be a list of strings"),
        ([{"title": "x", "tags": ["a", 1]}], r"channel_history\[0\].tags must be a list of strings"),
    ],
)
def test_a_malformed_history_is_refused_with_its_reason(value, message):
    with pytest.raises(ValueError, match=message):
        parse_history(value)
