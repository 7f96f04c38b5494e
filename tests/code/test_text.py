from tubetags.text import guess_language, normalise_transcript, word_count


def test_stage_markers_and_caption_noise_are_removed():
    raw = "Thank you. (Laughter)\n(Applause) So  I said (Mock sob) hello [Music] ♪ la ♪ world."
    assert normalise_transcript(raw) == "Thank you. So I said hello la world."


def test_lowercase_parenthetical_speech_is_kept():
    assert normalise_transcript("the data (as you can see) grows") == "the data (as you can see) grows"


def test_language_guess_tells_english_from_other_languages():
    english = "so what I want to talk about today is the way that we think about the future of our cities"
    spanish = "hoy quiero hablar sobre la manera en que pensamos el futuro de nuestras ciudades y pueblos"
    assert guess_language(english) == "en"
    assert guess_language(spanish) == "und"
    assert guess_language("") == "und"


def test_word_count():
    assert word_count("  one two\nthree ") == 3


def test_any_unicode_whitespace_collapses_to_one_space():
    raw = "\ta\u00a0\u00a0b\u2028c\u3000 d\r\n\x1fe\x85 "
    assert normalise_transcript(raw) == "a b c d e"
