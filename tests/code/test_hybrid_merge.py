"""The learned merge: candidates from both lists, fitted so that each dataset counts, sources kept."""

import numpy as np
import pytest

from tubetags.strategies.hybrid import FEATURES, LearnedMerge, candidates


def test_candidates_join_both_lists_by_spelling_key():
    keys, names, sources, x = candidates([("technology", 0.9), ("science", 0.4)], [("Technology", 0.7), ("gpt 5", 0.6)])
    assert keys == ["technology", "science", "gpt5"] and names[2] == "gpt 5"
    assert sources == ["closed", "closed", "transcript"]
    row = dict(zip(FEATURES, x[0]))
    assert row["in_both"] == 1 and row["open_score"] == 0.7 and row["closed_top_score"] == 0.9
    assert dict(zip(FEATURES, x[2]))["closed_reciprocal_rank"] == 0 and x.shape == (3, len(FEATURES))


def test_merge_learns_which_list_to_trust_per_dataset_and_round_trips():
    rng = np.random.default_rng(0)
    ted, youtube = ([], [], []), ([], [], [])
    for _ in range(60):  # TED-like: the confident closed list is right, the keyphrases are not tags
        ted[0].append([("education", 0.9), ("science", 0.8)])
        ted[1].append([(f"phrase {rng.integers(1000)}", 0.6), ("speaker name", 0.5)])
        ted[2].append(["education", "science"])
        # YouTube: the closed list is unsure and wrong, the transcript's specifics are the uploader's tags
        youtube[0].append([("education", 0.2), ("science", 0.1)])
        youtube[1].append([("langchain", 0.7), ("python", 0.6)])
        youtube[2].append(["langchain", "python"])
    merge = LearnedMerge.fit([ted, youtube])
    on_ted = merge.merge([("design", 0.95)], [("random words", 0.6)], k=2)
    on_youtube = merge.merge([("design", 0.15)], [("typescript", 0.7)], k=2)
    assert on_ted[0][0] == "design" and on_ted[0][2] == "closed"
    assert on_youtube[0][0] == "typescript" and on_youtube[0][2] == "transcript"
    assert all(0 <= s <= 1 for _, s, _ in on_ted + on_youtube)
    again = LearnedMerge.from_state(merge.state())
    assert again.merge([("design", 0.15)], [("typescript", 0.7)], k=2) == on_youtube
    with pytest.raises(ValueError):
        LearnedMerge.from_state({**merge.state(), "features": ["other"]})
