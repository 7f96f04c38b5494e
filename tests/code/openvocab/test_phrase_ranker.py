"""The learned keyphrase ranker: its features, the leave-own-channel-out tag prior, learning, persistence."""

from tubetags.openvocab.keyphrases import KeyphraseSuggester
from tubetags.openvocab.phrase_ranker import FEATURES, LabelledVideo, PhraseRanker
from tubetags.openvocab.talk_style import TalkStyle

TUTORIAL = (
    "Today we build a REST API with FastAPI. FastAPI is fast, and FastAPI gives us docs for free. "
    "First install FastAPI, then write the first route. Some people say the weather is nice today. "
    "At the end we deploy the FastAPI app with Docker. Docker makes it simple. "
)


def _features(scored):
    return dict(zip(FEATURES, scored.features))


def test_candidates_carry_position_casing_and_a_prior_without_the_own_channel():
    prior = PhraseRanker.tag_prior(
        [("Tech Channel", ["FastAPI", "python"]), ("other", ["fastapi"]), ("tech channel", ["docker"])]
    )
    assert prior["fastapi"] == {"tech channel", "other"}  # channel spellings fold together
    ranker = PhraseRanker(prior=prior)
    suggester = KeyphraseSuggester()
    everyone = {c.key: c for c in suggester.scored_candidates(TUTORIAL * 3, ranker=ranker)}
    own_left_out = {c.key: c for c in suggester.scored_candidates(TUTORIAL * 3, channel="Tech Channel", ranker=ranker)}
    fastapi, weather = _features(everyone["fastapi"]), _features(everyone["weather"])
    assert everyone["fastapi"].display == "FastAPI" and fastapi["capitalised"] == 1.0
    assert fastapi["first_position"] < 0.05 and fastapi["spread"] > 0.85  # said first and throughout
    assert fastapi["log_tag_prior"] > _features(own_left_out["fastapi"])["log_tag_prior"] > 0  # 2 channels, then 1
    assert _features(own_left_out["docker"])["log_tag_prior"] == 0  # only its own channel used it
    assert weather["log_tag_prior"] == 0 and weather["english"] == 1.0
    assert all(len(c.features) == len(FEATURES) for c in everyone.values())


def test_ranker_learns_what_uploaders_tag_and_round_trips(tmp_path):
    suggester = KeyphraseSuggester()
    filler = "We talk about the weather and the news and the day. " * 3
    texts = [
        f"{filler} Learn {name} today. {name} is great and {name} is simple. {filler}"
        for name in ("Svelte", "Kotlin", "Rust", "Django", "Flutter", "Vue", "Haskell", "Elixir")
    ]
    ranker = PhraseRanker(prior=PhraseRanker.tag_prior([]))
    videos = [
        LabelledVideo(suggester.scored_candidates(t, ranker=ranker), [t.split("Learn ")[1].split()[0]], f"c{i}")
        for i, t in enumerate(texts)
    ]
    ranker.fit(videos)
    suggester.ranker = ranker
    best = suggester.rank(f"{filler} Learn Zig today. Zig is great and Zig is simple. {filler}", k=3)
    assert best[0][0] == "Zig" and 0 < best[0][1] <= 1 and best[0][1] >= best[1][1]
    suggester.save(tmp_path)
    reloaded = KeyphraseSuggester().load(tmp_path)
    assert reloaded.ranker is not None and reloaded.rank(texts[0], k=3) == suggester.rank(texts[0], k=3)


def test_talk_style_tells_a_talk_from_a_creators_video(tmp_path):
    talks = [
        f"Thank you. (Laughter) So I want to tell you a story about {w}. (Applause) It changed my life."
        for w in ("water", "love", "cities", "music", "trees", "hope")
    ]
    videos = [
        f"Hey guys, welcome back to the channel! Today {w} review, smash that like button and subscribe."
        for w in ("phone", "laptop", "camera", "tablet", "watch", "drone")
    ]
    style = TalkStyle().fit(talks, videos)
    talk, video = style.probability(
        [
            "(Laughter) I want to tell you a story about bees. (Applause)",
            "Hey guys, welcome back, today a headphones review, subscribe!",
        ]
    )
    assert talk > 0.5 > video
    style.save(tmp_path / "style.pkl")
    assert (
        TalkStyle.load(tmp_path / "style.pkl").probability(["Hey guys, welcome back, subscribe!"])[0]
        == style.probability(["Hey guys, welcome back, subscribe!"])[0]
    )
    assert TalkStyle().probability(["anything"])[0] == 0.5  # unfitted: no opinion
