"""The learned merge: candidates from the lists, fitted so that each dataset counts, sources kept; a channel's
history joins as its own list with its own model, and without a history nothing changes."""

import numpy as np

from tubetags.inputs import PastVideo
from tubetags.openvocab.history import HISTORY_FEATURES, channel_profile
from tubetags.openvocab.language import stop_words
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


def test_a_history_adds_its_tags_and_columns():
    history = [PastVideo("Svelte 5 in 100 seconds", ("svelte", "code report")), PastVideo("Bun", ("code report",))]
    profile = channel_profile(history, None, None, stop_words("en"))
    keys, _, sources, x = candidates([("technology", 0.9)], [("Svelte", 0.6)], 0.2, profile)
    assert keys == ["technology", "svelte", "codereport"] and sources == ["closed", "transcript", "history"]
    assert x.shape == (3, len(FEATURES) + len(HISTORY_FEATURES))
    history_columns = dict(zip(HISTORY_FEATURES, x[2, len(FEATURES) :]))
    assert history_columns["history_share"] == 1.0 and history_columns["in_history"] == 1.0
    assert dict(zip(HISTORY_FEATURES, x[1, len(FEATURES) :]))["history_share"] == 0.5


def _videos(rng, n=60):
    ted, youtube = MergeInputs([], [], [], []), MergeInputs([], [], [], [])
    for _ in range(n):
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
    return MergeInputs.concat([ted]), MergeInputs.concat([youtube])


def test_merge_learns_from_the_talk_style_which_list_to_trust_and_round_trips(tmp_path):
    """The closed model is just as confident on both kinds of video; only the talk style tells them apart."""
    merge = LearnedMerge.fit(_videos(np.random.default_rng(0)))
    on_talk = merge.merge([("design", 0.8)], [("random words", 0.3)], k=2, talk_style=0.9)
    on_video = merge.merge([("design", 0.8)], [("typescript", 0.3)], k=2, talk_style=0.1)
    assert on_talk[0][0] == "design" and on_talk[0][2] == "closed"
    assert on_video[0][0] == "typescript" and on_video[0][2] == "transcript"
    assert all(0 <= s <= 1 for _, s, _ in on_talk + on_video)
    merge.save(tmp_path / "merge.pkl")
    reloaded = LearnedMerge.load(tmp_path / "merge.pkl")
    assert reloaded.merge([("design", 0.8)], [("typescript", 0.3)], k=2, talk_style=0.1) == on_video


def test_a_channel_history_is_learned_and_without_one_nothing_changes():
    """Creators reuse a series tag that neither list finds; the history model learns to put it first."""
    rng = np.random.default_rng(1)
    ted, youtube = _videos(rng)
    history = [PastVideo(f"episode {i}", ("the code report", f"topic {i}")) for i in range(6)]
    profile = channel_profile(history, None, None, stop_words("en"))
    told = youtube.subset(range(len(youtube.closed)))
    told.profiles = [profile] * len(told.closed)
    told.truths = [[*t, "the code report"] for t in told.truths]
    with_history = LearnedMerge.fit([ted, youtube, told])
    without = LearnedMerge.fit([ted, youtube])
    assert set(with_history.models) == {"transcript", "transcript+history"}
    video = ([("design", 0.8)], [("typescript", 0.3)], 3, 0.1)
    told_merge = {tag: (score, source) for tag, score, source in with_history.merge(*video, profile=profile)}
    assert told_merge["the code report"][1] == "history" and told_merge["the code report"][0] > 0.9
    assert told_merge["the code report"][0] > told_merge.get("design", (0.0,))[0]
    # No history: the model fitted without history answers, exactly as a merge that never saw one.
    assert with_history.merge(*video) == without.merge(*video)
    # A setting without its own model falls back to the closest one fitted.
    assert with_history.merge(*video, setting="description") == without.merge(*video)
