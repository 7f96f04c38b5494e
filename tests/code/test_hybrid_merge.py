"""The learned merge: candidates from both lists, fitted so that each dataset counts, sources kept."""

import numpy as np

from tubetags.strategies.hybrid import FEATURES, LearnedMerge, MergeInputs, candidates


def test_candidates_join_both_lists_by_spelling_key():
    keys, names, sources, x = candidates(
        [("technology", 0.9), ("science", 0.4)], [("Technology", 0.7), ("gpt 5", 0.6)], talk_style=0.3
    )
    assert keys == ["technology", "science", "gpt5"] and names[2] == "gpt 5"
    assert sources == ["closed", "closed", "transcript"]
    row = dict(zip(FEATURES, x[0]))
    assert row["in_both"] == 1 and row["open_score"] == 0.7 and row["closed_top_score"] == 0.9
    assert row["talk_style"] == 0.3 and row["open_top_score"] == 0.7  # video-level: the same on every row
    assert dict(zip(FEATURES, x[2]))["closed_reciprocal_rank"] == 0 and x.shape == (3, len(FEATURES))


def test_merge_learns_from_the_talk_style_which_list_to_trust_and_round_trips(tmp_path):
    """The closed model is just as confident on both kinds of video; only the talk style tells them apart."""
    rng = np.random.default_rng(0)
    ted, youtube = MergeInputs([], [], [], []), MergeInputs([], [], [], [])
    for _ in range(60):
        # A talk: the closed topics are the tags, the keyphrases are not.
        ted.closed.append([("education", 0.8), ("science", 0.7)])
        ted.opened.append([(f"phrase {rng.integers(1000)}", 0.3), ("speaker name", 0.2)])
        ted.styles.append(float(rng.uniform(0.7, 1.0)))
        ted.truths.append(["education", "science"])
        # A creator's video: the closed topics are confident and wrong, the transcript's specifics are the tags.
        youtube.closed.append([("education", 0.8), ("science", 0.7)])
        youtube.opened.append([("langchain", 0.3), ("python", 0.2)])
        youtube.styles.append(float(rng.uniform(0.0, 0.3)))
        youtube.truths.append(["langchain", "python"])
    merge = LearnedMerge.fit([ted, youtube])
    on_talk = merge.merge([("design", 0.8)], [("random words", 0.3)], k=2, talk_style=0.9)
    on_video = merge.merge([("design", 0.8)], [("typescript", 0.3)], k=2, talk_style=0.1)
    assert on_talk[0][0] == "design" and on_talk[0][2] == "closed"
    assert on_video[0][0] == "typescript" and on_video[0][2] == "transcript"
    assert all(0 <= s <= 1 for _, s, _ in on_talk + on_video)
    merge.save(tmp_path / "merge.pkl")
    reloaded = LearnedMerge.load(tmp_path / "merge.pkl")
    assert reloaded.merge([("design", 0.8)], [("typescript", 0.3)], k=2, talk_style=0.1) == on_video
