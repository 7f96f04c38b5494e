"""(c, distilled) The MiniLM head's knowledge in a student fast enough to serve.

The teacher is arm (c), MiniLM over every chunk + head (`EncoderHeadTagger` with the `teacher` params), trained
inside `fit` on the same splits as the student (so a refit refits the teacher too). Its soft scores are the
student's targets:
- on the labelled training talks, **out of fold**: `folds` heads, each trained without the fold it scores (for the
  epochs the full teacher's early stopping kept), so the target is what MiniLM says about a talk it has not seen,
  not an echo of the talk's labels; mixed with the labels, `label_weight * label + (1 - label_weight) * score`;
- on every other transcript the fit may read, from the full teacher: the other datasets' transcripts of the same
  splits (YouTube videos, whose uploader tags are not TED's vocabulary) and transcripts without tags (videos whose
  tags were all dropped by the corpus build, and videos `ingest` collected without tags).

What the student never reads is whatever is held out from this fit: with `fit_splits` train, nothing from the
validation or test splits of any dataset, nor untagged videos of the channels in them (a held-out YouTube channel
stays unseen). The teacher is trained on the same splits, so its scores carry no held-out labels either; keeping
the held-out transcripts out as well keeps the test score honest: a student fitted to the teacher's scores on the
very transcripts it is then tested on would be judged transductively, on inputs no served model gets to see first.

The student is wide & deep over features that cost milliseconds: TF-IDF word 1-2-grams -> one linear layer (wide)
plus model2vec static vectors (distilled from the same MiniLM), standardised -> a hidden ReLU layer -> (deep); the
two logits are summed, sigmoid per tag, binary cross-entropy on the soft targets, early stopping on validation P@5
(best epoch restored). Prediction runs in NumPy/SciPy; MiniLM is not needed to serve it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from tubetags import settings
from tubetags.corpus import MANIFEST, Corpus, CorpusSplit, multi_hot
from tubetags.encoders import Model2VecEncoder, cached_shard_embeddings
from tubetags.predictor import Ranked, TagPredictor, best_epoch, fitted
from tubetags.strategies.baseline import reservoir_sample
from tubetags.strategies.encoder_head import EncoderHeadTagger
from tubetags.strategies.keras_training import curves, precision_at_k_stopping, seed_everything
from tubetags.strategies.ranking import sigmoid, top_k
from tubetags.tags import channel_key

log = logging.getLogger(__name__)

SPLIT_NAMES = ("train", "valid", "test")
UNLABELLED = "unlabelled"
MIN_UNLABELLED_WORDS = 100  # as the corpus build's min_words: shorter transcripts carry no topic
# The (c) arm's settings (configs/strategies/encoder_head.yaml): MiniLM over every chunk, standardised, wide head.
DEFAULT_TEACHER = {
    "encoder": "minilm",
    "max_chunks": 0,
    "standardize": True,
    "hidden_units": 1024,
    "dropout": 0.5,
    "epochs": 60,
    "patience": 5,
    "batch_size": 64,
    "learning_rate": 0.001,
}


def corpus_of(split: CorpusSplit) -> Corpus:
    """The corpus a split's shards belong to (<root>/<dataset>/<split>/part-*.parquet)."""
    for root in Path(split.shards[0]).parents:
        if (root / MANIFEST).exists():
            return Corpus.open(root)
    raise FileNotFoundError(f"no {MANIFEST} above {split.shards[0]}")


def unlabelled_records(corpus: Corpus) -> list[dict[str, Any]]:
    """Videos with a transcript but no usable tags: the corpus build's rejects whose tags were all dropped (or
    invalid), and videos `ingest` collected without tags (collected/rejects.jsonl)."""
    out, seen = [], set()
    for path in (corpus.root / "rejects.jsonl", settings.work_dir() / "collected" / "rejects.jsonl"):
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            rejection = json.loads(line)
            record = rejection.get("record") or {}
            text = record.get("transcript") or ""
            untagged = rejection.get("stage") == "tags" or str(rejection.get("reason", "")).startswith("tags")
            if untagged and len(text.split()) >= MIN_UNLABELLED_WORDS and record.get("video_id") not in seen:
                seen.add(record.get("video_id"))
                out.append({"video_id": str(record.get("video_id", "")), "channel": record.get("channel") or ""})
                out[-1]["transcript"] = text
    return out


def _write_unlabelled_shard(rows: Sequence[dict[str, Any]]) -> Path:
    """Untagged videos as a Parquet shard named by its content in the cache: the same videos, the same shard, and
    so the same cached encodings (they are cached per shard checksum, like a corpus shard's)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    digest = hashlib.sha256("\n".join(r["video_id"] + r["transcript"] for r in rows).encode()).hexdigest()[:16]
    path = settings.cache_dir() / UNLABELLED / f"{digest}.parquet"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        table = pa.table(
            {
                "video_id": [r["video_id"] for r in rows],
                "transcript": [r["transcript"] for r in rows],
                "tags": pa.array([[] for _ in rows], pa.list_(pa.string())),
            }
        )
        tmp = path.with_suffix(".tmp")
        pq.write_table(table, tmp)
        tmp.replace(path)
    return path


def unlabelled_split(corpus: Corpus, fit_splits: Sequence[str]) -> CorpusSplit | None:
    """The untagged videos a fit on `fit_splits` may read: none from a channel that is in a split held out of this
    fit (in any dataset). One shard per group of channels (in no split or in train only; latest in valid; in test),
    so fits on train, train+valid and everything share the encodings of what they have in common."""
    latest: dict[str, str] = {}
    for dataset in corpus.manifest["datasets"]:
        for name in SPLIT_NAMES:
            for record in corpus.split(dataset, name).records(columns=("channel",)):
                key = channel_key(record["channel"] or "")
                if SPLIT_NAMES.index(name) >= SPLIT_NAMES.index(latest.get(key, "train")):
                    latest[key] = name
    records = unlabelled_records(corpus)
    shards, rows = [], 0
    for group in SPLIT_NAMES:
        if group not in fit_splits and group != "train":
            continue
        members = [r for r in records if latest.get(channel_key(r["channel"]), "train") == group]
        if members:
            shards.append(_write_unlabelled_shard(members))
            rows += len(members)
    return CorpusSplit(tuple(shards), rows, UNLABELLED, "+".join(fit_splits)) if shards else None


def extra_splits(train: CorpusSplit, use_unlabelled: bool) -> list[CorpusSplit]:
    """Every transcript without labels of `train`'s vocabulary that a fit on the same split names may read: the other
    datasets' videos of those splits and the untagged videos (none if not `use_unlabelled`)."""
    if not use_unlabelled:
        return []
    corpus = corpus_of(train)
    names = train.name.split("+") if train.name else ["train"]
    extras = [corpus.splits(d, names) for d in corpus.manifest["datasets"] if d != train.dataset]
    unlabelled = unlabelled_split(corpus, names)
    return extras + ([unlabelled] if unlabelled is not None else [])


def _texts(split: CorpusSplit) -> list[str]:
    return [t for batch in split.batches(256, columns=("transcript",)) for t in batch["transcript"]]


def _vectors(split: CorpusSplit, encoder) -> tuple[np.ndarray, list]:
    parts, tags = [], []
    for vectors, shard_tags in cached_shard_embeddings(split, encoder):
        parts.append(vectors)
        tags += shard_tags
    return np.concatenate(parts).astype(np.float32), tags


class DistilledTagger(TagPredictor):
    strategy = "distilled"

    def __init__(
        self,
        seed: int = 0,
        teacher: dict[str, Any] | None = None,
        teacher_epochs: int | None = None,
        folds: int = 5,
        label_weight: float = 0.5,
        unlabelled: bool = True,
        max_features: int = 50_000,
        vectorizer_sample: int = 20_000,
        hidden_units: int = 512,
        dropout: float = 0.3,
        epochs: int = 40,
        patience: int = 4,
        batch_size: int = 64,
        learning_rate: float = 0.001,
        wide: bool = True,
        wide_scale: float = 1.0,
        encoder: str | None = None,
    ):
        self.seed, self.teacher = seed, {**DEFAULT_TEACHER, **(teacher or {})}
        self.teacher_epochs, self.folds, self.label_weight, self.unlabelled = (
            teacher_epochs,
            folds,
            label_weight,
            unlabelled,
        )
        self.max_features, self.vectorizer_sample = max_features, vectorizer_sample
        self.hidden_units, self.dropout, self.epochs, self.patience = hidden_units, dropout, epochs, patience
        self.batch_size, self.learning_rate, self.encoder_path = batch_size, learning_rate, encoder
        self.wide, self.wide_scale = wide, wide_scale
        self.encoder = Model2VecEncoder(encoder)
        self.vectorizer: TfidfVectorizer | None = None
        self.vocabulary: list[str] = []
        self.layers: dict[str, np.ndarray] | None = None  # the student, as NumPy arrays
        self.kept_teacher_epochs: int | None = None

    def init_params(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "teacher": self.teacher,
            "teacher_epochs": self.teacher_epochs,
            "folds": self.folds,
            "label_weight": self.label_weight,
            "unlabelled": self.unlabelled,
            "max_features": self.max_features,
            "vectorizer_sample": self.vectorizer_sample,
            "hidden_units": self.hidden_units,
            "dropout": self.dropout,
            "epochs": self.epochs,
            "patience": self.patience,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "wide": self.wide,
            "wide_scale": self.wide_scale,
            "encoder": self.encoder_path,
        }

    def params(self) -> dict[str, Any]:
        return self.init_params() | {
            "student": ("tfidf 1-2-grams linear + " if self.wide else "") + "model2vec MLP",
            "encoder_name": self.encoder.name,
        }

    def refit_params(self, kept_epoch: int | None) -> dict[str, Any]:
        """The student's kept epochs and the teacher's: a refit has no validation split to stop either on."""
        return super().refit_params(kept_epoch) | {"teacher_epochs": self.kept_teacher_epochs or self.teacher_epochs}

    # ------------------------------------------------------------------ the teacher

    def _teacher(self, epochs: int | None = None) -> EncoderHeadTagger:
        params = self.teacher | ({"epochs": epochs} if epochs else {})
        return EncoderHeadTagger(seed=self.seed, **params)

    def _fit_head(self, head: EncoderHeadTagger, vectors: np.ndarray, targets: np.ndarray, valid=None):
        import tensorflow as tf

        head.vocabulary = self.vocabulary
        return head.fit_head(head.batched(tf.data.Dataset.from_tensor_slices((vectors, targets)), True), valid)

    def teacher_scores(
        self, train: CorpusSplit, valid: CorpusSplit | None, extras: Sequence[CorpusSplit]
    ) -> tuple[np.ndarray, list[np.ndarray], dict[str, list[float]]]:
        """(out-of-fold scores on `train`, the full teacher's scores on each extra split, the teacher's curves).

        Cached on disk (data/cache/teacher), keyed by everything they depend on: the teacher's params, the seed,
        the folds, the vocabulary and the checksums of every shard read. The same teacher serves the distilled
        arm and the distilled member of the stacked ensemble with the same seed, and is trained once."""
        key = self._teacher_key(train, valid, extras)
        path = settings.cache_dir() / "teacher" / f"{key}.npz"
        if path.exists():
            with np.load(path) as cached:
                self.kept_teacher_epochs = int(cached["kept"]) or None
                history = json.loads(str(cached["history"]))
                return cached["out_of_fold"], [cached[f"extra_{i}"] for i in range(len(extras))], history
        out_of_fold, extra_scores, history = self._train_teacher(train, valid, extras)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        arrays: dict[str, Any] = {
            "out_of_fold": out_of_fold,
            "kept": self.kept_teacher_epochs or 0,
            "history": json.dumps(history),
        } | {f"extra_{i}": scores for i, scores in enumerate(extra_scores)}
        np.savez(tmp, **arrays)
        tmp.replace(path)
        return out_of_fold, extra_scores, history

    def _teacher_key(self, train: CorpusSplit, valid: CorpusSplit | None, extras: Sequence[CorpusSplit]) -> str:
        from tubetags.corpus import sha256_of

        shards = [[sha256_of(Path(s)) for s in split.shards] for split in (train, valid, *extras) if split is not None]
        what = {
            "teacher": self.teacher,
            "teacher_epochs": None if valid is not None else self.teacher_epochs,
            "seed": self.seed,
            "folds": self.folds,
            "vocabulary": self.vocabulary,
            "shards": shards,
            "valid": valid is not None,
        }
        return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:24]

    def _train_teacher(
        self, train: CorpusSplit, valid: CorpusSplit | None, extras: Sequence[CorpusSplit]
    ) -> tuple[np.ndarray, list[np.ndarray], dict[str, list[float]]]:
        import tensorflow as tf

        teacher = self._teacher()
        encoder = teacher.encoder
        vectors, tags = _vectors(train, encoder)
        targets = multi_hot(tags, self.vocabulary)
        if valid is not None:
            valid_vectors, valid_tags = _vectors(valid, encoder)
            valid_data = tf.data.Dataset.from_tensor_slices((valid_vectors, multi_hot(valid_tags, self.vocabulary)))
            history = self._fit_head(teacher, vectors, targets, valid_data.batch(teacher.batch_size))
            self.kept_teacher_epochs = best_epoch(history)
        else:
            if not self.teacher_epochs:
                raise ValueError("without a validation split the teacher needs teacher_epochs (the refit sets it)")
            teacher = self._teacher(self.teacher_epochs)
            history = self._fit_head(teacher, vectors, targets)
            self.kept_teacher_epochs = self.teacher_epochs
        extra_scores = [teacher.scores(_vectors(split, encoder)[0]) for split in extras]
        # Out of fold: each training talk scored by a head that never saw it, trained as long as the teacher.
        out_of_fold = np.zeros_like(targets)
        folds = np.random.default_rng(self.seed).permutation(len(targets)) % self.folds
        for fold in range(self.folds):
            head = self._teacher(self.kept_teacher_epochs)
            self._fit_head(head, vectors[folds != fold], targets[folds != fold])
            out_of_fold[folds == fold] = head.scores(vectors[folds == fold])
        return out_of_fold, extra_scores, {f"teacher_{k}": v for k, v in (history or {}).items()}

    # ------------------------------------------------------------------ the student

    def features(self, texts: Sequence[str]) -> list[Any]:
        """The student's inputs: model2vec vectors, and (`wide`) TF-IDF rows times `wide_scale`."""
        inputs: list[Any] = [self.encoder.encode(list(texts))]
        if self.wide:
            import scipy.sparse as sp

            words = fitted(self.vectorizer, "the TF-IDF vectorizer").transform(list(texts)) * self.wide_scale
            inputs.append(sp.csr_matrix(words))
        return inputs

    def _student(self, mean: np.ndarray, std: np.ndarray, n_tags: int):
        import keras

        vectors = keras.Input((len(mean),), name="model2vec")
        hidden = keras.layers.Normalization(mean=mean, variance=std**2, name="standardize")(vectors)
        hidden = keras.layers.Dense(self.hidden_units, activation="relu", name="hidden")(hidden)
        hidden = keras.layers.Dropout(self.dropout)(hidden)
        logits = keras.layers.Dense(n_tags, name="deep")(hidden)
        inputs = [vectors]
        if self.wide:
            words = keras.Input((len(fitted(self.vectorizer, "the TF-IDF vectorizer").vocabulary_),), sparse=True)
            inputs.append(words)
            logits = keras.layers.Add()([logits, keras.layers.Dense(n_tags, name="wide")(words)])
        return keras.Model(inputs, keras.layers.Activation("sigmoid")(logits))

    def fit(self, train: CorpusSplit, valid: CorpusSplit | None, vocabulary: Sequence[str]):
        import keras

        self.vocabulary = list(vocabulary)
        extras = extra_splits(train, self.unlabelled)
        log.info("distilled: teacher on %s; extra transcripts: %s", train.name, [(s.dataset, len(s)) for s in extras])
        out_of_fold, extra_scores, teacher_curves = self.teacher_scores(train, valid, extras)
        labels = multi_hot(train.column("tags"), self.vocabulary)
        targets = np.vstack([self.label_weight * labels + (1 - self.label_weight) * out_of_fold, *extra_scores]).astype(
            np.float32
        )
        vectors = np.vstack([_vectors(s, self.encoder)[0] for s in (train, *extras)])
        inputs: list[Any] = [vectors]
        if self.wide:
            import scipy.sparse as sp

            texts = _texts(train) + [t for split in extras for t in _texts(split)]
            self.vectorizer = TfidfVectorizer(
                ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_features=self.max_features, dtype=np.float32
            )
            self.vectorizer.fit(reservoir_sample(iter(texts), self.vectorizer_sample, self.seed))
            inputs.append(sp.csr_matrix(self.vectorizer.transform(texts) * self.wide_scale))
            del texts
        seed_everything(self.seed)
        student = self._student(vectors.mean(0), vectors.std(0) + 1e-6, len(self.vocabulary))
        student.compile(keras.optimizers.Adam(self.learning_rate), "binary_crossentropy")
        callbacks = []
        if valid is not None:
            valid_labels = multi_hot(valid.column("tags"), self.vocabulary)
            valid_inputs: Any = self.features(_texts(valid))  # [vectors, TF-IDF rows]: Keras takes a list of inputs
            callbacks.append(precision_at_k_stopping(valid_inputs, valid_labels, 5, self.patience, 256))
        history = student.fit(
            inputs, targets, epochs=self.epochs, batch_size=self.batch_size, verbose=0, callbacks=callbacks
        )
        self.layers = {
            "mean": np.asarray(student.get_layer("standardize").mean, np.float32).reshape(-1),
            "std": np.sqrt(np.asarray(student.get_layer("standardize").variance, np.float32).reshape(-1)),
        }
        for name in ("hidden", "deep", *(("wide",) if self.wide else ())):
            kernel, bias = (np.asarray(w, np.float32) for w in student.get_layer(name).get_weights())
            self.layers[f"{name}_kernel"], self.layers[f"{name}_bias"] = kernel, bias
        self._column_major()
        return curves(history) | teacher_curves

    def _column_major(self) -> None:
        """The wide kernel column-major, so that the sparse product reads it as a row-major transpose (as the
        baseline's weights: a row-major one is copied whole on every call)."""
        if self.layers is not None and "wide_kernel" in self.layers:
            self.layers["wide_kernel"] = np.asfortranarray(self.layers["wide_kernel"].T).T

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        layers = fitted(self.layers, "the student")
        inputs = self.features(texts)
        standardized = (inputs[0] - layers["mean"]) / layers["std"]
        hidden = np.maximum(standardized @ layers["hidden_kernel"] + layers["hidden_bias"], 0)
        logits = hidden @ layers["deep_kernel"] + layers["deep_bias"]
        if self.wide:
            logits += np.asarray(inputs[1] @ layers["wide_kernel"]) + layers["wide_bias"]
        return sigmoid(logits)

    def predict(self, transcripts: Sequence[str], k: int = 10) -> list[Ranked]:
        if not len(transcripts):
            return []
        return top_k(self.scores(transcripts), self.vocabulary, k)

    # ------------------------------------------------------------------ saving

    def save_state(self, directory: Path) -> None:
        if self.wide:
            with (directory / "vectorizer.pkl").open("wb") as handle:
                pickle.dump(fitted(self.vectorizer, "the TF-IDF vectorizer"), handle)
        layers: dict[str, Any] = fitted(self.layers, "the student")
        np.savez_compressed(directory / "student.npz", **layers)
        self.encoder.name  # noqa: B018 (distils the static vectors first if they are missing)
        shutil.copytree(self.encoder.path, directory / "encoder", dirs_exist_ok=True)
        (directory / "distilled.json").write_text(
            json.dumps({"vocabulary": self.vocabulary, "kept_teacher_epochs": self.kept_teacher_epochs})
        )

    def load_state(self, directory: Path) -> None:
        if self.wide:
            with (directory / "vectorizer.pkl").open("rb") as handle:
                self.vectorizer = pickle.load(handle)
        with np.load(directory / "student.npz") as arrays:
            self.layers = {name: arrays[name] for name in arrays.files}
        self._column_major()
        self.encoder = Model2VecEncoder(directory / "encoder")  # the copy saved with the model
        meta = json.loads((directory / "distilled.json").read_text())
        self.vocabulary, self.kept_teacher_epochs = meta["vocabulary"], meta["kept_teacher_epochs"]
