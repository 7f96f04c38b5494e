"""Evidence passages for tags: the phrase itself first, then most of its words, never a guess."""

from tubetags.openvocab.evidence import Segment, find_evidence, format_time, segments_from_text

TALK = (
    "Welcome back to the channel. Today we set up a Raspberry Pi as a home server. "
    "First we install Docker on the Pi. Then Docker containers run Nextcloud and Home Assistant. "
    "Robots are next week."
)


def test_the_segment_with_the_whole_phrase_wins():
    segments = segments_from_text(TALK, size=8)
    found = find_evidence("raspberry pi", segments)
    assert found is not None and "Raspberry Pi as a home server" in found.passage and found.start_s is None


def test_plural_and_case_fold_and_unsupported_tags_get_none():
    segments = segments_from_text(TALK, size=8)
    assert "Robots are next week" in find_evidence("robot", segments).passage
    assert find_evidence("technology", segments) is None
    assert "Home Assistant" in find_evidence("home assistant", segments).passage  # the phrase beats one word
    assert find_evidence("home automation", segments).passage.startswith("Welcome")  # half the words: the first


def test_subtitle_cues_carry_their_time():
    cues = [Segment("today we bake sourdough bread", 3.2), Segment("the starter needs flour and water", 65.0)]
    found = find_evidence("sourdough starter", cues)
    assert found.start_s in (3.2, 65.0)
    assert find_evidence("starter", cues).start_s == 65.0 and format_time(65.0) == "1:05"
    assert format_time(3725) == "1:02:05" and format_time(None) is None


def test_unpunctuated_captions_are_cut_into_windows_and_long_passages_clipped():
    text = " ".join(f"word{i}" for i in range(500)) + " langchain agents " + " ".join(f"w{i}" for i in range(500))
    segments = segments_from_text(text)
    assert max(len(s.text.split()) for s in segments) <= 80
    found = find_evidence("LangChain", segments)
    assert "langchain" in found.passage and len(found.passage) <= 245


def test_indexed_segments_give_the_same_evidence_as_plain_ones():
    from tubetags.openvocab.evidence import index_segments

    segments = segments_from_text(
        "We planted trees. The robots water the trees every day. " * 8
        + "Solar panels power the robots. Nothing else here."
    )
    indexed = index_segments(segments)
    for tag in ("robots", "solar panel", "tree", "water robots", "unrelated words", "the"):
        assert find_evidence(tag, indexed) == find_evidence(tag, segments)
    assert find_evidence("solar panel", indexed).passage.startswith("Solar panels")


def test_chinese_segments_are_cut_into_words_for_evidence():
    cues = [
        Segment("今天我们来做面包。", 1.0),
        Segment("首先把面粉和水混合。", 4.0),
        Segment("Then we use Docker.", 9.0),
    ]
    assert find_evidence("面粉", cues).start_s == 4.0
    assert find_evidence("docker", cues).start_s == 9.0
    assert find_evidence("量子", cues) is None
