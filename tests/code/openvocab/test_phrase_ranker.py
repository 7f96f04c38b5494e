"""The learned phrase ranker: candidates from every text, features that carry across channels (own channel left
out), best spelling, semantic centrality, context tags, learning per input setting, persistence; the talk style."""

import numpy as np
import pytest

from tubetags.inputs import Video
from tubetags.openvocab.keyphrases import KeyphraseSuggester
from tubetags.openvocab.phrase_ranker import FEATURE_GROUPS, FEATURES, LabelledVideo, PhraseRanker, TagVocabulary
from tubetags.openvocab.static_vectors import StaticVectors
from tubetags.openvocab.talk_style import TalkStyle, style_features

TUTORIAL = (
    "Today we build a REST API with FastAPI. FastAPI is fast, and FastAPI gives us docs for free. "
    "First install FastAPI, then write the first route. Some people say the weather is nice today. "
    "At the end we deploy the FastAPI app with Docker. Docker makes it simple. "
)


@pytest.fixture(scope="module")
def vectors():
    from tubetags.encoders import Model2VecEncoder

    return StaticVectors.load(Model2VecEncoder()._ensure())


def features_of(candidates, key):
    return dict(zip(FEATURES, candidates.features[candidates.keys.index(key)]))


def test_feature_groups_name_every_feature_once():
    names = [f for group in FEATURE_GROUPS.values() for f in group]
    assert tuple(names) == FEATURES and len(set(names)) == len(names)


def test_candidates_carry_position_casing_and_tag_likeness_without_the_own_channel():
    vocabulary = TagVocabulary.build(
        [("Tech Channel", ["FastAPI", "python"]), ("other", ["fastapi", "api review"]), ("tech channel", ["docker"])]
    )
    assert vocabulary.tags["fastapi"] == {"techchannel", "other"}  # channel spellings fold together
    ranker = PhraseRanker(vocabulary=vocabulary)
    suggester = KeyphraseSuggester()
    everyone = suggester.scored_candidates(TUTORIAL * 3, ranker=ranker)
    own_left_out = suggester.scored_candidates(TUTORIAL * 3, channel="Tech Channel", ranker=ranker)
    fastapi, weather = features_of(everyone, "fastapi"), features_of(everyone, "weather")
    assert everyone.displays[everyone.keys.index("fastapi")] == "FastAPI"
    assert fastapi["capitalised"] == 1.0 and fastapi["inner_capital"] == 1.0 and weather["inner_capital"] == 0.0
    assert fastapi["first_position"] < 0.05 and fastapi["spread"] > 0.85  # said first and throughout
    assert fastapi["log_tag_prior"] > features_of(own_left_out, "fastapi")["log_tag_prior"] > 0  # 2 channels, then 1
    assert features_of(own_left_out, "docker")["log_tag_prior"] == 0  # only its own channel used it
    assert weather["log_tag_prior"] == 0 and weather["english"] == 1.0
    # 'REST API' ends in a word other channels end tags with ('api review' does not count: 'review' is its head)
    assert (
        features_of(everyone, "restapi")["log_head_prior"] == 0
        and features_of(everyone, "restapi")["word_tag_share"] == 0.5
    )
    assert np.isnan(fastapi["title_position"]) and fastapi["in_title"] == 0.0  # no title given
    assert everyone.features.shape == (len(everyone), len(FEATURES))


def test_title_description_and_hashtags_are_sources_with_their_own_features():
    suggester = KeyphraseSuggester()
    video = Video(
        TUTORIAL,
        title="FastAPI Crash Course | Deploy with Docker",
        description="Learn FastAPI and Pydantic in one hour.\nhttps://example.com\n#python #WebDev",
    )
    candidates = suggester.scored_candidates(video)
    fastapi, crash = features_of(candidates, "fastapi"), features_of(candidates, "crashcourse")
    assert fastapi["in_title"] == 1.0 and fastapi["title_position"] == 0.0 and fastapi["log_count"] > 0
    assert crash["in_title"] == 1.0 and crash["log_count"] == 0.0 and np.isnan(crash["first_position"])  # title only
    assert features_of(candidates, "pydantic")["in_description"] == 1.0
    assert features_of(candidates, "webdev")["hashtag"] == 1.0 and features_of(candidates, "python")["hashtag"] == 1.0
    assert video.setting == "description"


def test_versions_and_compounds_are_one_candidate_in_the_spelling_other_channels_tag():
    text = "GPT-5 is out. I tried gpt 5 for coding, and GPT5 wrote the JSON RPC server. jsonrpc is simple. " * 2
    vocabulary = TagVocabulary.build(
        [("a", ["gpt 5", "json rpc"]), ("b", ["gpt 5"]), ("c", ["LLMs"]), ("d", ["llm"]), ("e", ["LLM"])]
    )
    candidates = KeyphraseSuggester().scored_candidates(text, ranker=PhraseRanker(vocabulary=vocabulary))
    shown = dict(zip(candidates.keys, candidates.displays))
    # One candidate each; a spelling of the same key keeps the video's casing.
    assert shown["gpt5"] == "gpt 5" and candidates.keys.count("gpt5") == 1
    assert shown["jsonrpc"] == "JSON RPC" and candidates.keys.count("jsonrpc") == 1
    assert features_of(candidates, "gpt5")["version"] == 1.0 and features_of(candidates, "coding")["version"] == 0.0
    plural = KeyphraseSuggester().scored_candidates(
        "Local LLMs are here. LLMs run on laptops. Small LLMs. " * 3, ranker=PhraseRanker(vocabulary=vocabulary)
    )
    assert (
        "llm" in plural.keys and "llms" not in plural.keys
    )  # said 'LLMs'; tagged 'llm' by two channels, 'LLMs' by one


def test_semantic_centrality_and_context_tags(vectors):
    cooking = "We bake sourdough bread. The oven, the dough, the flour and the yeast make the bread rise. " * 4
    suggester = KeyphraseSuggester()
    suggester.vectors = vectors
    videos = [
        ("bakers", ["baking"], suggester.transcript_vector(cooking)),
        ("pastry", ["baking"], suggester.transcript_vector("Flour, butter and sugar: we bake a cake in the oven.")),
        ("coders", ["python"], suggester.transcript_vector("We write Python code and run the tests in the terminal.")),
        ("devs", ["python"], suggester.transcript_vector("Python functions, classes and modules for programmers.")),
    ]
    vocabulary = TagVocabulary.build([(c, t) for c, t, _ in videos], [v for _, _, v in videos])
    assert set(vocabulary.context) == {"baking", "python"}  # tags of two channels or more
    text = cooking + " By the way my cousin called about the weather."
    candidates = suggester.scored_candidates(text, ranker=PhraseRanker(vocabulary=vocabulary))
    bread, weather = features_of(candidates, "bread"), features_of(candidates, "weather")
    assert bread["centrality"] > weather["centrality"] and bread["centrality_gap"] <= 0
    baking = features_of(candidates, "baking")  # never said: a context tag of other channels' similar videos
    assert baking["in_context"] == 1.0 and baking["log_count"] == 0 and baking["context_similarity"] > 0.3
    assert baking["context_similarity"] > features_of(candidates, "python")["context_similarity"]
    # Its own channel's videos are left out of the prototype: 'bakers' own video no longer counts for 'baking'.
    own = suggester.scored_candidates(text, channel="bakers", ranker=PhraseRanker(vocabulary=vocabulary))
    assert features_of(own, "baking")["context_similarity"] < baking["context_similarity"]


def test_ranker_learns_per_setting_and_round_trips(tmp_path):
    suggester = KeyphraseSuggester()
    filler = "We talk about the weather and the news and the day. " * 3
    names = (
        "Svelte",
        "Kotlin",
        "Rust",
        "Django",
        "Flutter",
        "Vue",
        "Haskell",
        "Elixir",
        "Laravel",
        "Angular",
        "Scala",
        "Julia",
        "Erlang",
        "Clojure",
        "Kubernetes",
        "Terraform",
    ) * 2  # fmt: skip  (enough uploader tags for trees with leaves of 20)
    texts = [f"{filler} Learn {name} today. {name} is great and {name} is simple. {filler}" for name in names]
    ranker = PhraseRanker()
    for setting in ("transcript", "title"):
        videos = [
            LabelledVideo(
                suggester.scored_candidates(
                    Video(t, f"{n} in 100 seconds" if setting == "title" else None), ranker=ranker
                ),
                [n],
                f"c{i}",
            )
            for i, (t, n) in enumerate(zip(texts, names))
        ]
        ranker.fit(videos, setting)
    suggester.ranker = ranker
    zig = f"{filler} Learn Zig today. Zig is great and Zig is simple. {filler}"
    best = suggester.rank(zig, k=3)
    assert best[0][0] == "Zig" and 0 < best[0][1] <= 1 and best[0][1] >= best[1][1]
    assert suggester.rank(Video(zig, "Zig in 100 seconds"), k=1)[0][0] == "Zig"  # the title's model
    assert suggester.rank(Video(zig, "Zig", "About Zig"), k=1)[0][0] == "Zig"  # no description model: the title's
    suggester.save(tmp_path)
    reloaded = KeyphraseSuggester().load(tmp_path)
    assert set(reloaded.ranker.models) == {"transcript", "title"}
    assert reloaded.rank(texts[0], k=3) == suggester.rank(texts[0], k=3)


def test_talk_style_tells_a_talk_from_a_creators_video(tmp_path, vectors):
    suggester = KeyphraseSuggester()
    suggester.vectors = vectors

    def style(text):
        return style_features(suggester.transcript_vector(text), text)

    talks = [
        f"Thank you. So I want to tell you a story about {w}. It changed my life, and it changed how we live."
        for w in ("water", "love", "cities", "music", "trees", "hope")
    ]
    videos = [
        f"hey guys welcome back to the channel today {w} review smash that like button and subscribe"
        for w in ("phone", "laptop", "camera", "tablet", "watch", "drone")
    ]
    model = TalkStyle().fit([style(t) for t in talks], [style(v) for v in videos])
    talk, video = model.probability(
        [style("So I want to tell you a story about bees. It changed my life."), style("hey guys headphones review")]
    )
    assert talk > 0.5 > video
    np.testing.assert_allclose(model.probability([style(talks[0])]), model.model.predict_proba([style(talks[0])])[:, 1])
    model.save(tmp_path / "style.pkl")
    assert (
        TalkStyle.load(tmp_path / "style.pkl").probability([style(videos[0])])[0]
        == model.probability([style(videos[0])])[0]
    )
    assert TalkStyle().probability([style("anything")])[0] == 0.5  # unfitted: no opinion
