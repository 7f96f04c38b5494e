"""The small pure pieces of the Spark jobs: which master is local, what a transcript says, the report's analysis."""

from __future__ import annotations

import os

import pandas as pd

from pipelines.batch_tag import said_flags
from pipelines.channel_report import analyse, sections, slug, to_html, to_markdown
from tubetags.spark import is_connect, local_cores
from tubetags.tags import youtube_tag_string


def test_local_cores_of_a_master():
    assert local_cores("local[2]") == 2
    assert local_cores("local[4,3]") == 4  # local[N, maxFailures]
    assert local_cores("local[*]") == local_cores("local") == (os.cpu_count() or 1)
    assert local_cores("spark://host:7077") is None and local_cores("sc://host:15002") is None
    assert is_connect("sc://host:15002") and not is_connect("local[2]")


def test_said_flags_match_whole_phrases_with_plurals_folded():
    transcript = "Today we build Raspberry Pi robots, and the robot learns to walk."
    flags = said_flags(["raspberry pi", "robot", "Robots", "walking robot", "pi raspberry", "!!"], transcript)
    assert flags == [True, True, True, False, False, False]


def test_analysis_of_a_channel():
    suggested = [["python", "Robots", "machine learning"], ["python", "cooking"], ["python", "web"]]
    rows = pd.DataFrame(
        {
            "video_id": ["a", "b", "c"],
            "title": ["Robots in Python", None, "Flask"],
            "current_tags": [["Python", "robot"], ["python", "my channel"], None],
            "tags": suggested,
            "said": [[True, True, True], [True, False], [False, True]],
            "youtube_tags": [youtube_tag_string(t) for t in suggested],
            "youtube_chars": [len(youtube_tag_string(t)) + 2 for t in suggested],  # "machine learning" is quoted
            "model_version": ["3"] * 3,
            "channel": ["Ch"] * 3,
        }
    )
    result = analyse(rows, min_videos=2)
    videos = {v["video_id"]: v for v in result["videos"]}
    assert videos["a"]["missing"] == ["machine learning"]  # 'Robots' is the video's 'robot'
    assert videos["b"]["missing"] == ["cooking"] and videos["b"]["title"] == "b"
    assert videos["c"]["current"] == [] and videos["c"]["missing"] == ["python", "web"]
    assert result["recurring"] == [("Python", 2, 2 / 3)]  # the first spelling of the most frequent, on 2 of 3
    # said and never a tag on any video: 'machine learning' (a) and 'web' (c); 'cooking' is suggested but not said
    assert result["said_never_used"] == [("machine learning", 1), ("web", 1)]
    parts = sections(result, "3")
    markdown, html = to_markdown("Tags for Ch", parts), to_html("Tags for Ch", parts)
    for part in parts:
        assert f"## {part.title}" in markdown and f"<h2>{part.title}</h2>" in html
    assert slug("@Tech With Tim!") == "tech-with-tim"
