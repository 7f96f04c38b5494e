"""The canonical video record and the check every record passes before it enters the corpus."""

from data_contracts.video_record import (
    RECORD_FIELDS,
    Rejection,
    VideoRecord,
    validate_records,
)

__all__ = ["RECORD_FIELDS", "Rejection", "VideoRecord", "validate_records"]
