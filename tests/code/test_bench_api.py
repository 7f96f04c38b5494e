"""The API benchmark's real-speech transcripts (--corpus): distinct, each cut to the asked length."""

from scripts.bench_api import corpus_transcripts


def test_corpus_transcripts_are_real_distinct_and_cut(tiny_corpus):
    texts = corpus_transcripts(300, tiny_corpus.root)
    said = [r["transcript"] for r in tiny_corpus.split("ted", "train").records(columns=("transcript",))]
    long_enough = [t for t in said if len(t.split()) >= 300]
    assert long_enough and len(texts) >= len(long_enough) and len(set(texts)) == len(texts)
    assert all(len(t.split()) == 300 for t in texts)
    assert " ".join(long_enough[0].split()[:300]) in texts
    assert corpus_transcripts(10**6, tiny_corpus.root) == []
