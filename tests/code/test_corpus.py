import numpy as np

from tubetags.corpus import CorpusSplit, multi_hot, tf_dataset, write_shards


def _rows(n):
    return [
        {
            "video_id": f"v{i}",
            "source": "test",
            "channel": "c",
            "title": "",
            "description": "",
            "published": None,
            "language": "en",
            "tags": ["a"] if i % 2 else ["b", "c"],
            "transcript": f"transcript number {i} " * 5,
            "transcript_source": "provided",
        }
        for i in range(n)
    ]


def test_shards_stream_back_every_record_once(tmp_path):
    shards = write_shards(_rows(25), tmp_path / "split", rows_per_shard=10)
    assert [s["rows"] for s in shards] == [10, 10, 5]
    split = CorpusSplit(tuple(s["path"] for s in shards), 25)
    ids = [r["video_id"] for r in split.records(shuffle_shards_seed=3)]
    assert sorted(ids) == sorted(f"v{i}" for i in range(25))
    assert all(len(b["video_id"]) <= 4 for b in split.batches(batch_size=4))


def test_multi_hot_ignores_tags_outside_the_vocabulary():
    assert multi_hot([["a", "zzz"], ["c"]], ["a", "b", "c"]).tolist() == [[1, 0, 0], [0, 0, 1]]


def test_tf_dataset_yields_text_and_multi_hot_minibatches(tmp_path):
    shards = write_shards(_rows(10), tmp_path / "split", rows_per_shard=4)
    split = CorpusSplit(tuple(s["path"] for s in shards), 10)
    batches = list(tf_dataset(split, ["a", "b", "c"], batch_size=4, shuffle_buffer=3, seed=1))
    assert [int(x.shape[0]) for x, _ in batches] == [4, 4, 2]
    targets = np.concatenate([y.numpy() for _, y in batches])
    assert targets.shape == (10, 3)
    assert targets.sum(axis=0).tolist() == [5, 5, 5]
