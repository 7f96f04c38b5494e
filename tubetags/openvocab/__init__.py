"""The open vocabulary: tags for any channel from the transcript itself, and what they stand on.

- `keyphrases`: candidate phrases of a transcript (language-aware, variants merged) ranked against a background;
- `phrase_ranker`: the learned ranking of those candidates (features that carry across channels);
- `talk_style`: P(talk) of a transcript, a video feature of the learned merge;
- `language`: language detection and stop words;
- `evidence`: the passage (and subtitle time) that supports a tag;
- `static_vectors`: word and phrase vectors (the distilled MiniLM static vectors) in NumPy;
- `history`: a channel's past videos as a profile of the tags its creator uses;
- `tree_models`: fitting, NumPy prediction and feature-checked persistence of the small tree models.

`tubetags.strategies.hybrid` joins these with a closed-vocabulary model; `experiments/open_vocab.py` fits it.
"""
