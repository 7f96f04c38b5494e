from data_contracts import RECORD_FIELDS, VideoRecord, validate_records

GOOD = {
    "video_id": "abc123",
    "source": "youtube",
    "channel": "Some Channel",
    "title": "t",
    "description": "",
    "published": "2024-01-02",
    "language": "en",
    "tags": ["python"],
    "transcript": "word " * 30,
    "transcript_source": "auto_captions",
}


def test_a_good_record_passes():
    accepted, rejected = validate_records([GOOD])
    assert rejected == [] and accepted[0].published.isoformat() == "2024-01-02"
    assert accepted[0].to_row()["published"] == "2024-01-02"


def test_bad_records_are_rejected_with_their_reasons():
    bad = [
        {**GOOD, "tags": []},
        {**GOOD, "transcript": "too short"},
        {**GOOD, "transcript_source": "telepathy"},
        {**GOOD, "video_id": ""},
        {**GOOD, "surprise": 1},
        {**GOOD, "tags": "not a list"},
        {**GOOD, "published": "yesterday"},
        {**GOOD, "tags": ["x" * 101]},
    ]
    accepted, rejected = validate_records(bad)
    assert accepted == []
    assert len(rejected) == len(bad)
    reasons = [r.reason for r in rejected]
    assert "tags" in reasons[0]
    assert "fewer than 20" in reasons[1]
    assert "transcript_source" in reasons[2]
    assert "video_id" in reasons[3]
    assert "surprise" in reasons[4]
    assert "tags" in reasons[5] and "published" in reasons[6] and "over-long" in reasons[7]
    row = rejected[0].to_row()
    assert row["video_id"] == "abc123" and row["stage"] == "contract" and row["record"]["tags"] == []


def test_contract_fields_are_the_canonical_record():
    # The one place the ten fields are spelled out: everything else derives them from the contract.
    assert (
        RECORD_FIELDS
        == tuple(VideoRecord.model_fields)
        == (
            "video_id",
            "source",
            "channel",
            "title",
            "description",
            "published",
            "language",
            "tags",
            "transcript",
            "transcript_source",
        )
    )


def test_corpus_schema_is_derived_from_the_contract():
    import pyarrow as pa

    from tubetags.corpus import SCHEMA

    assert SCHEMA.names == list(RECORD_FIELDS)
    assert SCHEMA.field("tags").type == pa.list_(pa.string())
    assert all(SCHEMA.field(name).type == pa.string() for name in RECORD_FIELDS if name != "tags")
