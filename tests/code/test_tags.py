from tubetags.tags import (
    TagRuleReport,
    canonical_forms,
    channel_constant_keys,
    clean_tags,
    fit_youtube_tags,
    normalise_tag,
    number_stem,
    tag_key,
    variant_key,
    youtube_ready_tag,
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
    assert clean_tags(["TEDx", "science"], {}, report, drop_keys={"tedx"}, drop_reason="event_tag_dropped") == [
        "science"
    ]
    assert report.as_dict()["event_tag_dropped"] == 1


def test_channel_constant_tags_need_a_big_enough_channel():
    videos = [
        ["tech with tim", "python"],
        ["tech with tim", "django"],
        ["Tech With Tim", "flask"],
        ["tech with tim", "python"],
        ["tech with tim", "api"],
    ]
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
    # 95; "y" * 20 needs 1 comma + 20 -> 116 > 100: skipped; "z" needs 2 -> 97: kept
    kept = fit_youtube_tags(["x" * 95, "y" * 20, "z"], limit=100)
    assert kept == ["x" * 95, "z"]


def test_youtube_tags_drop_duplicates_and_commas():
    assert fit_youtube_tags(["Python", "python", "a,b"]) == ["Python", "a b"]


def test_youtube_length_counts_commas_and_quotes_by_hand():
    # "raspberry pi" 12 + 2 quotes = 14, docker 6, "home server" 11 + 2 quotes = 13, 2 commas: 14 + 6 + 13 + 2 = 35
    assert youtube_tag_length(["raspberry pi", "docker", "home server"]) == 35
    assert youtube_tag_length([]) == 0 and youtube_tag_length(["docker"]) == 6


def test_youtube_budget_is_exact_at_the_limit():
    tags = ["raspberry pi", "docker", "home server", "nextcloud"]
    # limit 35: the first three take exactly 35 (above); nextcloud would need 1 comma + 9 = 10 more -> 45: skipped
    assert fit_youtube_tags(tags, limit=35) == tags[:3]
    # limit 34: after 14 + 1 + 6 = 21, "home server" needs 1 + 13 = 14 -> 35 > 34: skipped;
    # nextcloud needs 1 + 9 = 10 -> 31 <= 34: kept
    assert fit_youtube_tags(tags, limit=34) == ["raspberry pi", "docker", "nextcloud"]


def test_youtube_500_characters_count_the_quotes_of_a_tag_with_a_space():
    long = [c * 97 for c in "abcde"]  # 5 * 97 + 4 commas = 489
    # "ab cdefghi" is 10 characters, + 2 quotes + 1 comma = 13 -> 502 > 500: skipped, although its 10 characters
    # and comma (500) would fit if quotes were not counted;
    # "abcdefghij" 10 + 1 comma = 11 -> exactly 500: kept; then "k" needs 2 -> 502: skipped
    kept = fit_youtube_tags([*long, "ab cdefghi", "abcdefghij", "k"])
    assert kept == [*long, "abcdefghij"]
    assert youtube_tag_length(kept) == 500
    assert len(youtube_tag_string([*long, "ab cdefghi", "abcdefghij", "k"])) == 500  # no quotes here: none has a space


def test_near_duplicates_merge_before_fitting_and_the_higher_ranked_stays():
    ranked = ["robots", "Robot", "GPT-5", "gpt 5", "Machine-Learning", "machine learnings", "stories", "story"]
    assert fit_youtube_tags(ranked) == ["robots", "GPT-5", "Machine-Learning", "stories"]
    assert variant_key("video-game") == variant_key("Video Games") and variant_key("box") == variant_key("boxes")
    assert variant_key("sales team") != variant_key("sale team")  # only the last word's number is ignored
    assert number_stem("gas") == "gas" and number_stem("class") == "class" and number_stem("gpt-5") == "gpt-5"
    # Merged first: "robots" (1 comma + 6) does not fit after "x" * 94 (94 + 7 = 101 > 100), and its variant "robot"
    # (94 + 6 = 100 would fit) is gone with it: the creator gets the higher-ranked spelling or nothing.
    assert fit_youtube_tags(["x" * 94, "robots", "robot"], limit=100) == ["x" * 94]


def test_youtube_rejected_characters_and_empty_tags_go():
    assert youtube_ready_tag("Rock <> Roll") == "Rock Roll"
    assert youtube_ready_tag("<3 python") == "3 python"
    assert fit_youtube_tags(["<>", "", "  ", ",", "#", "python", "a , b"]) == ["python", "a b"]


def test_youtube_tags_over_100_characters_are_dropped_not_cut():
    exactly_100 = "word " * 19 + "abcde"  # 19 * 5 + 5 = 100
    too_long = exactly_100 + "f"  # 101
    assert len(exactly_100) == 100 and youtube_ready_tag(exactly_100) == exactly_100
    assert youtube_ready_tag(too_long) == ""
    assert fit_youtube_tags([too_long, "python"]) == ["python"]
