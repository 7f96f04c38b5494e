"""A channel's history as a profile: reused tags, the nearest past videos' tags, and what the merge reads of it."""

import numpy as np
import pytest

from tubetags.inputs import PastVideo
from tubetags.openvocab.history import CANDIDATES, HISTORY_FEATURES, channel_profile, video_vector
from tubetags.openvocab.keyphrases import KeyphraseSuggester
from tubetags.openvocab.language import stop_words
from tubetags.openvocab.static_vectors import StaticVectors

HISTORY = (
    PastVideo("iPhone 17 Pro review", ("iphone 17 pro", "apple", "tech", "review")),
    PastVideo("Galaxy S25 Ultra review", ("samsung", "galaxy s25 ultra", "tech", "Review")),
    PastVideo("The best budget laptops", ("laptops", "tech", "budget laptop")),
    PastVideo("iPhone 17 battery test", ("iphone 17", "apple", "tech", "battery test")),
)


@pytest.fixture(scope="module")
def suggester():
    from tubetags.encoders import Model2VecEncoder

    suggester = KeyphraseSuggester()
    suggester.vectors = StaticVectors.load(Model2VecEncoder()._ensure())
    return suggester


def test_reused_tags_by_share_spelt_as_the_channel_spells_them_and_the_nearest_videos(suggester):
    text = "The new iPhone camera and the Apple battery: I tested the iPhone for a week, the camera is great."
    this = video_vector(suggester.transcript_vector(text), suggester.title_vector("iPhone 17 camera test", "en"))
    profile = channel_profile(HISTORY, this, suggester.vectors, stop_words("en"))
    assert profile.videos == 4 and profile.share["tech"] == 1.0 and profile.share["review"] == 0.5
    assert list(profile.names)[0] == "tech" and profile.names["apple"] == "apple"
    # The two iPhone videos are nearer to this one than the laptop video: their tags weigh more.
    assert profile.neighbours["apple"] > profile.neighbours.get("laptops", 0.0)
    assert profile.best_similarity["iphone17"] > profile.best_similarity["laptops"]
    assert 0 < profile.title_rate < 1  # some tags are in their own video's title ('iphone 17 pro'), some not
    offered = [tag for tag, _ in profile.candidates()]
    assert offered[0] == "tech" and len(offered) == len(set(offered)) <= 2 * CANDIDATES
    rank = {key: i for i, key in enumerate(profile.names)}
    tech, unseen = profile.features("tech", rank), profile.features("gpt5", rank)
    assert len(tech) == len(HISTORY_FEATURES) and tech[0] == 1.0 and tech[1] == 1.0 and tech[4] == 1.0
    assert unseen[:3] == [0.0, 0.0, 0.0] and np.isnan(unseen[3]) and unseen[4] == 0.0
    assert tech[5] == unseen[5] == np.log1p(4)  # video-level: the same on every row


def test_without_vectors_or_history_the_profile_is_counts_only():
    profile = channel_profile(HISTORY, None, None, stop_words("en"))
    assert profile.neighbours == {} and profile.best_similarity == {} and profile.share["apple"] == 0.5
    empty = channel_profile((), None, None, stop_words("en"))
    assert empty.videos == 0 and empty.candidates() == [] and empty.title_rate == 0.0
