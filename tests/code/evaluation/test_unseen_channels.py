"""Scoring on unseen channels: folds grouped by channel, histories within a channel and older only, the newer half
scored, strict P@5, and gains with a bootstrap over channels."""

import numpy as np

from experiments.open_vocab import grouped_folds
from tubetags.evaluation.intervals import bootstrap_interval, cluster_bootstrap_interval
from tubetags.evaluation.unseen_channels import CORPUS_ORDER, channel_order, gain, histories, newer_half, p_at_k

CHANNELS = ["fireship"] * 6 + ["mkbhd"] * 4 + ["ted"] * 5 + ["tim"] * 3 + ["babish"] * 2


def rows_of(channels):
    return [
        {"video_id": f"{c}-{i}", "title": f"{c} video {i}", "tags": [f"{c}-tag-{i}"]} for i, c in enumerate(channels)
    ]


def test_grouped_folds_never_put_a_channel_on_both_sides():
    folds = grouped_folds(CHANNELS, 3)
    assert len(folds) == 3
    seen = []
    for train, test in folds:
        assert not {CHANNELS[i] for i in train} & {CHANNELS[i] for i in test}
        seen += list(test)
    assert sorted(seen) == list(range(len(CHANNELS)))  # every video scored once
    assert len(grouped_folds(["a", "a", "b"], 5)) == 2  # no more folds than channels


def test_histories_stay_within_a_channel_and_hold_only_older_videos():
    rows = rows_of(CHANNELS)
    for order in (0, 1, CORPUS_ORDER):
        pasts = histories(rows, CHANNELS, order)
        for i, past in enumerate(pasts):
            assert all(p.title.startswith(CHANNELS[i] + " ") for p in past)  # never another channel's videos
            assert rows[i]["title"] not in {p.title for p in past}  # never itself
        for channel in set(CHANNELS):
            members = [i for i, c in enumerate(CHANNELS) if c == channel]
            sizes = sorted(len(pasts[i]) for i in members)
            assert sizes == list(range(len(members)))  # one order: 0, 1, 2, ... older videos
    by_corpus_order = histories(rows, CHANNELS, CORPUS_ORDER)
    assert [p.title for p in by_corpus_order[3]] == ["fireship video 0", "fireship video 1", "fireship video 2"]
    # Random orders differ from each other, and each is reproducible.
    assert channel_order(list("abcdefgh"), "c", 0) == channel_order(list("abcdefgh"), "c", 0)
    assert channel_order(list("abcdefgh"), "c", 0) != channel_order(list("abcdefgh"), "c", 1)


def test_the_newer_half_of_each_channel_is_scored():
    pasts = histories(rows_of(CHANNELS), CHANNELS, 0)
    scored = newer_half(pasts, CHANNELS)
    for channel in set(CHANNELS):
        members = [i for i, c in enumerate(CHANNELS) if c == channel]
        chosen = [i for i in scored if CHANNELS[i] == channel]
        assert len(chosen) == len(members) - len(members) // 2
        assert min(len(pasts[i]) for i in chosen) >= len(members) // 2


def test_strict_p_at_5_compares_spelling_keys():
    ranked = [[("GPT-5", 0.9), ("OpenAI", 0.8), ("Claude", 0.5), ("a", 0.1), ("b", 0.1), ("gpt 5", 0.05)]]
    assert p_at_k(ranked, [["gpt 5", "openai", "b"]]).tolist() == [0.6]
    assert p_at_k([[]], [["x"]]).tolist() == [0.0]


def test_the_gain_interval_resamples_channels_not_videos():
    rng = np.random.default_rng(0)
    channels = [f"c{i // 30}" for i in range(150)]  # 5 channels of 30 videos
    effect = {f"c{i}": e for i, e in enumerate((0.3, 0.25, -0.1, 0.0, 0.2))}  # the gain depends on the channel
    system = np.array([0.4 + effect[c] + rng.normal(0, 0.05) for c in channels])
    reference = np.full(150, 0.4)
    by_channel = cluster_bootstrap_interval(system - reference, channels)
    by_video = bootstrap_interval(system - reference)
    assert by_channel[0] == by_video[0]
    assert by_channel[2] - by_channel[1] > 2 * (by_video[2] - by_video[1])  # channels, not videos, vary
    assert by_channel[1] < 0 < by_channel[2]  # with 5 such channels the gain is not established
    one = cluster_bootstrap_interval([0.1, 0.3], ["a", "a"])
    assert one == (0.2, 0.2, 0.2)
    summary = gain(system, reference, channels)
    assert summary["channels"] == 5 and summary["videos"] == 150 and summary["gain_low"] == by_channel[1]
