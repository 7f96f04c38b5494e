"""Keyphrases from speech: candidates, variants, background document frequency, languages other than English."""

import re

import pytest

from tubetags.corpus import CorpusSplit, write_shards
from tubetags.openvocab.keyphrases import BACKGROUND_FILE, KeyphraseSuggester
from tubetags.openvocab.language import detect_language, stop_words
from tubetags.strategies.hybrid import HybridTagger
from tubetags.tags import variant_key

SPOKEN = (
    "So um today we're gonna, you know, build an agent with LangChain and GPT-5. Uh, LangChain is kind of "
    "the glue, and GPT-5 is the model. I mean, we write it in TypeScript, because TypeScript catches bugs. "
    "The AI agent calls tools. LangChain agents, um, basically loop over the tools. Like, GPT-5 picks a tool, "
    "uh, and the agent runs it. You know, TypeScript and LangChain make this, sort of, really easy."
)

# Written for this test: a match report, as a Brazilian football channel would say it.
FUTEBOL = (
    "O Flamengo venceu o Palmeiras por dois a um no Maracanã e assumiu a liderança do Campeonato Brasileiro. "
    "O time carioca começou pressionando desde o primeiro minuto, e o gol de Pedro saiu logo aos dez minutos, "
    "depois de um cruzamento perfeito de Arrascaeta. O Palmeiras reagiu no segundo tempo, empatou com um chute de "
    "fora da área e passou a controlar a posse de bola. Mas o técnico do Flamengo mexeu bem no time: colocou dois "
    "atacantes rápidos, e num contra-ataque nos acréscimos Pedro marcou o segundo gol, o gol da vitória. A torcida "
    "lotou o Maracanã e cantou o jogo inteiro. Depois da partida, o técnico disse que o time ainda precisa melhorar "
    "a defesa, porque o Palmeiras criou muitas chances no segundo tempo. Na próxima rodada do Campeonato Brasileiro, "
    "o Flamengo enfrenta o Corinthians fora de casa, e o Palmeiras recebe o Grêmio."
)


def phrases(ranked):
    return [p for p, _ in ranked]


def test_fillers_go_and_names_keep_their_casing():
    ranked = KeyphraseSuggester().rank(SPOKEN, k=10)
    tags = phrases(ranked)
    # LangChain and agent(s) 4 times each, GPT-5 and TypeScript 3 times
    assert tags[:4] == ["LangChain", "agent", "GPT-5", "TypeScript"] and "AI agent" in tags
    words = {w.lower() for t in tags for w in t.split()}
    assert not words & {"um", "uh", "know", "kind", "sort", "gonna", "like", "basically", "really", "mean"}
    assert all(0 < s <= 1 for _, s in ranked) and ranked[0][1] == 1.0


def test_auto_captions_without_punctuation_or_casing():
    caption = re.sub(r"[^\w\s-]", "", SPOKEN.lower())
    tags = phrases(KeyphraseSuggester().rank(caption, k=5))
    assert {"langchain", "gpt-5", "typescript"} <= set(tags)


def test_spelling_and_number_variants_merge_before_ranking():
    text = (
        "I built a robot. The robots walk. My Raspberry Pi drives each robot. A raspberry pi is cheap; "
        "the raspberry-pi board is small. Robots need a Raspberry Pi. Cables, one cable."
    )
    found = KeyphraseSuggester().candidates(text, "en")
    assert found[variant_key("robot")].count == 4 and found[variant_key("raspberry pi")].count == 4
    assert found[variant_key("cable")].count == 2
    tags = phrases(KeyphraseSuggester().rank(text, k=3))
    # 'Raspberry' and 'Pi' are only ever said inside 'Raspberry Pi': subsumed. Casing: most frequent mid-sentence.
    assert tags[:2] == ["Raspberry Pi", "robot"] or tags[:2] == ["robot", "Raspberry Pi"]
    assert "Pi" not in tags and "Raspberry" not in tags


def test_background_document_frequency_ranks_common_phrases_down(tmp_path):
    doc = "Sourdough needs a starter. The computer timer helps. Sourdough rises. The computer beeps."
    unfitted = KeyphraseSuggester()
    assert unfitted.rank(doc, k=2)[0][1] == unfitted.rank(doc, k=2)[1][1]  # computer and sourdough: 2 each, a tie
    background = [f"My computer number {i} runs a computer program." for i in range(20)] + ["A bakery sells bread."]
    fitted = KeyphraseSuggester(max_phrases=3)
    fitted.fit_texts(background)
    assert fitted.n_docs == 21 and len(fitted.doc_freq) <= 3  # only phrases in more than one transcript, top 3
    assert fitted.doc_freq[variant_key("computer")] == 20
    ranked = fitted.rank(doc, k=20)
    assert ranked[0][0] == "sourdough" and ranked[0][1] == 1.0 and phrases(ranked).index("computer") > 0

    fitted.save(tmp_path)
    assert (tmp_path / BACKGROUND_FILE).stat().st_size < 1000
    loaded = KeyphraseSuggester(max_phrases=3).load(tmp_path)
    assert (loaded.n_docs, loaded.doc_freq) == (fitted.n_docs, fitted.doc_freq)
    assert loaded.rank(doc, k=20) == ranked


def test_hybrid_fits_the_background_on_the_training_split(tmp_path):
    rows = [
        {
            "video_id": str(i),
            "source": "youtube",
            "channel": "c",
            "title": "t",
            "description": "",
            "published": "2025-01-01",
            "language": "en",
            "tags": ["x"],
            "transcript_source": "provided",
            "transcript": f"Welcome back, today the computer {i} talks about the computer.",
        }
        for i in range(5)
    ]
    shards = write_shards(rows, tmp_path / "train", rows_per_shard=2)
    split = CorpusSplit(tuple(tmp_path / "train" / s["path"].split("/")[-1] for s in shards), len(rows))
    hybrid = HybridTagger(closed=None)
    hybrid.fit(split, None, [])
    assert hybrid.keyphrases.n_docs == 5 and hybrid.keyphrases.doc_freq[variant_key("computer")] == 5


def test_empty_and_wordless_texts():
    assert KeyphraseSuggester().suggest(["", "... !!! 123"], k=5) == [[], []]


def test_portuguese_transcript_gets_portuguese_tags():
    suggester = KeyphraseSuggester()
    assert suggester.detect_language(FUTEBOL) == "pt" == detect_language(FUTEBOL)
    caption = re.sub(r"[^\w\s-]", "", FUTEBOL.lower())
    assert detect_language(caption) == "pt"  # auto-captions too

    ranked = suggester.rank(FUTEBOL, k=8)
    tags = phrases(ranked)
    assert {"Flamengo", "Palmeiras"} <= set(tags[:3])  # 4 times each; names keep their capital
    assert "Maracanã" in tags and "Campeonato Brasileiro" in tags
    text_words = {w.lower() for w in re.findall(r"[\w-]+", FUTEBOL)}
    portuguese_stop = stop_words("pt")
    for tag in tags:
        words = tag.lower().split()
        assert set(words) <= text_words, tag  # words of the text, not translated or invented
        assert words[0] not in portuguese_stop and words[-1] not in portuguese_stop, tag
    # 'time' is Portuguese for team: an English filler ('time'), and it must not be removed from Portuguese.
    assert "time" in tags


@pytest.mark.parametrize("language", ["en", "pt"])
def test_stop_words_are_those_of_the_language(language):
    assert ("the" in stop_words(language)) == (language == "en")
    assert ("que" in stop_words(language)) == (language == "pt")


def test_candidate_keys_are_the_variant_keys_of_their_spellings():
    text = SPOKEN + " Node.js, C++ and the JSON-RPC servers. Newton's laws; Robots & robot arms."
    found = KeyphraseSuggester().candidates(text, "en")
    for key, candidate in found.items():
        spellings = {**candidate.surfaces, **candidate.initial}
        assert {variant_key(s) for s in spellings} == {key}, spellings
        assert candidate.key() == key and candidate.words == tuple(w.casefold() for w in candidate.words)


def test_versions_end_or_stand_inside_a_phrase_after_a_word():
    text = (
        "I tried GPT 5 on my iPhone 17 Pro. The iPhone 17 Pro beats Windows 11. In the war of 2029 it costs 50 000 "
        "dollars, chapter 3 explains. 5 people came."
    )
    keys = set(KeyphraseSuggester().candidates(text, "en"))
    assert {variant_key(p) for p in ("GPT 5", "iPhone 17", "iPhone 17 Pro", "Windows 11", "chapter 3")} <= keys
    assert not {variant_key(p) for p in ("war of 2029", "of 2029", "costs 50 000", "5 people", "5")} & keys
    without = set(KeyphraseSuggester(versions=False).candidates(text, "en"))
    assert variant_key("GPT 5") not in without and variant_key("iPhone") in without


# Written for this test: a baking video, in Chinese (written without spaces between words).
CHINESE_BAKING = (
    "今天我们来做面包。首先把面粉和水混合，然后加入酵母和盐。面包需要发酵两个小时，发酵以后面团会变大。"
    "烤箱预热到两百度，面包烤三十分钟。做面包的关键是面粉和酵母的比例，还有发酵的时间。"
    "如果你喜欢这个面包食谱，请订阅我们的频道，下次我们做蛋糕。"
)


def test_chinese_phrases_are_words_never_clauses():
    """Issue 19: split on spaces, a Chinese sentence was one 'word', so tags were 36-53-character clauses."""
    from tubetags.segmentation import MAX_UNSPACED_TAG_CHARS, is_clause

    suggester = KeyphraseSuggester()
    ranked = suggester.rank(CHINESE_BAKING, k=15)
    phrases = [phrase for phrase, _ in ranked]
    assert phrases[0] == "面包"
    assert {"面粉", "酵母"} <= set(phrases)
    for phrase in suggester.candidates(CHINESE_BAKING):
        assert len(phrase) <= 3 * 4  # at most 3 words of at most 4 characters here
    for phrase in phrases:
        assert len(phrase) <= MAX_UNSPACED_TAG_CHARS and not is_clause(phrase), phrase
        assert not re.search(r"[。，！？、]", phrase)


def test_words_are_those_of_the_backtracking_pattern():
    # The tokeniser's word pattern is possessive (no backtracking, ~20% sooner); it must find the very words the
    # plain pattern it replaced found, marks inside and at the ends of words included.
    from tubetags.openvocab.keyphrases import _SEGMENT_END, _TOKEN

    plain = re.compile(rf"([^\W_](?:[\w'.\-]*[\w])?[+#]*)|(?:{_SEGMENT_END.pattern})")
    tricky = "GPT-5. node.js, C++ C# a..b a-- l'amour x' 3.14. ça-été _a_b ab_ JSON-RPC--like e.g. U.S.A. --x y.-z"
    for text in (SPOKEN, FUTEBOL, CHINESE_BAKING, tricky):
        assert _TOKEN.findall(text) == plain.findall(text)
