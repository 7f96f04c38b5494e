from tubetags.tags import (
    TagRuleReport,
    canonical_forms,
    channel_constant_keys,
    clean_tags,
    fit_youtube_tags,
    normalise_tag,
    tag_key,
    youtube_tag_length,
    youtube_tag_string,
)


def test_normalise_tag_case_folds_and_trims():
    assert normalise_tag("  #Machine   Learning! ") == "machine learning"
    assert normalise_tag("C++") == "c++" and normalise_tag("#Python") == "python" and normalise_tag("C#") == "c#"
    assert tag_key("C++") != tag_key("C")
    assert tag_key("Machine-Learning") == tag_key("machine learning") == tag_key("MachineLearning")
    assert tag_key("Rock & Roll") == tag_key("rock and roll")


def test_spelling_variants_merge_to_the_most_frequent_form():
    canonical = canonical_forms([["machine learning"], ["Machine-Learning"], ["machine learning"], ["AI"]])
    assert canonical[tag_key("machine-learning")] == "machine learning"
    report = TagRuleReport()
    assert clean_tags(["Machine-Learning", "machine learning", "AI"], canonical, report) == ["machine learning", "ai"]
    counts = report.as_dict()
    assert counts["spelling_variant_merged"] == 1
    assert counts["duplicate_removed"] == 1
    assert counts["case_or_punctuation_normalised"] == 2


def test_dropped_keys_are_counted_under_their_reason():
    report = TagRuleReport()
    assert clean_tags(["TEDx", "science"], {}, report, drop_keys={"tedx"}, drop_reason="event_tag_dropped") == ["science"]
    assert report.as_dict()["event_tag_dropped"] == 1


def test_channel_constant_tags_need_a_big_enough_channel():
    videos = [["tech with tim", "python"], ["tech with tim", "django"], ["Tech With Tim", "flask"],
              ["tech with tim", "python"], ["tech with tim", "api"]]
    constant = channel_constant_keys({"techwithtim": videos, "tiny": videos[:2]}, min_videos=5, min_share=0.8)
    assert constant == {"techwithtim": {"techwithtim"}}  # python is on 2/5 videos: content, kept


def test_youtube_tags_fit_in_500_characters_counting_quotes():
    assert youtube_tag_length(["a b", "c"]) == 3 + 2 + 1 + 1
    tags = [f"tag number {i}" for i in range(100)]
    kept = fit_youtube_tags(tags)
    assert youtube_tag_length(kept) <= 500
    assert kept == tags[: len(kept)]  # rank order kept
    assert len(youtube_tag_string(tags)) <= 500


def test_youtube_tags_skip_a_tag_that_does_not_fit_but_keep_later_short_ones():
    kept = fit_youtube_tags(["x" * 495, "y" * 20, "z"], limit=500)
    assert kept == ["x" * 495, "z"]


def test_youtube_tags_drop_duplicates_and_commas():
    assert fit_youtube_tags(["Python", "python", "a,b"]) == ["Python", "a b"]
