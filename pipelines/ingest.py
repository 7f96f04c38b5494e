"""ingest: collect YouTube videos (metadata + transcript + tags) into work_dir()/collected/.

    tubetags ingest --channel-handle @veritasium [--max-videos 200] [--rebuild-corpus true]
    tubetags ingest --playlist-id PL... | --channel-id UC... | --video-ids ID [ID ...]
    mlflow run . -e ingest --env-manager local -P channel_handle=@veritasium

Options: `IngestConfig` below (defaults, then configs/ingest.yaml if present, then the command line).

Needs YOUTUBE_API_KEY. Per video: metadata from the Data API (videos.list, 50 ids per unit of quota),
transcript from manual captions, else auto captions, else Whisper on the audio (yt-dlp). Every record
goes through the data contract: accepted ones land in collected/*.parquet (read by build_corpus),
rejected ones in collected/rejects.jsonl with the reason.

Resumable: the same command after a kill, a crash or a spent quota goes on where it stopped.
A video is done once it is in a collected Parquet file or in rejects.jsonl; both are written before the
state file (collected/state/<request>.json, listing cursor + pending ids) moves on, each atomically.
Exit status 75 (EX_TEMPFAIL) means the daily API quota ran out: run the same command after the reset.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Self

from googleapiclient.errors import HttpError
from pydantic import Field, field_validator, model_validator
from tqdm import tqdm

from data_contracts import Rejection, validate_records
from pipelines import asr, captions
from pipelines.collected_store import REJECTS, CollectedStore, Request, collected_dir
from pipelines.video_records import TransientFailure, WhisperPolicy, record_for, transcript_for, whisper_cache_path
from pipelines.youtube_api import QUOTA_COST, MissingApiKey, NotFound, QuotaExceeded, YouTubeClient
from tubetags.config import JobConfig, comma_list
from tubetags.jobs import Job, JobError

log = logging.getLogger(__name__)
EXIT_QUOTA = 75  # EX_TEMPFAIL: nothing is wrong, try again later


class IngestConfig(JobConfig):
    """What to collect (exactly one source) and how."""

    job = "ingest"

    video_ids: list[str] = Field(default_factory=list, description="video ids")
    playlist_id: str | None = Field(None, description="PL... id")
    channel_id: str | None = Field(None, description="UC... id")
    channel_handle: str | None = Field(None, description="@handle")
    max_videos: int = Field(0, ge=0, description="collect at most this many, a channel's newest first (0: all)")
    batch_size: int = Field(50, ge=1, le=50, description="videos per videos.list call and per Parquet file")
    whisper: bool = Field(True, description="transcribe videos without captions (false: leave them pending)")
    asr_backend: str = Field(asr.DEFAULT_BACKEND, description=f"one of {', '.join(asr.BACKENDS)}")
    asr_model: str | None = Field(None, description="whisper checkpoint / CTranslate2 model dir")
    max_whisper_minutes: float = Field(90.0, gt=0, description="longer videos are not transcribed")
    retries: int = Field(5, ge=0, description="retries on 5xx/429, exponential backoff")
    rebuild_corpus: bool = Field(False, description="rebuild the corpus once collection has finished")
    track: bool = Field(True, description="log the collection as an MLflow run")

    @field_validator("video_ids", mode="before")
    @classmethod
    def split_commas(cls, value: Any) -> Any:
        return list(dict.fromkeys(comma_list(value) or []))

    @field_validator("playlist_id", "channel_id", "channel_handle", "asr_model", mode="before")
    @classmethod
    def blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value  # `mlflow run` passes blanks

    @field_validator("asr_backend")
    @classmethod
    def known_backend(cls, value: str) -> str:
        if value not in asr.BACKENDS:
            raise ValueError(f"unknown ASR backend {value!r}; choose one of {list(asr.BACKENDS)}")
        return value

    @model_validator(mode="after")
    def one_source(self) -> Self:
        self.request()
        return self

    def request(self) -> Request:
        given = [
            (kind, value)
            for kind, value in (
                ("videos", tuple(self.video_ids)),
                ("playlist", self.playlist_id),
                ("channel", self.channel_id),
                ("handle", self.channel_handle),
            )
            if value
        ]
        if len(given) != 1:
            raise ValueError("Give exactly one of --video-ids, --playlist-id, --channel-id, --channel-handle.")
        return Request(*given[0])

    def whisper_policy(self) -> WhisperPolicy:
        return WhisperPolicy(self.whisper, self.max_whisper_minutes, self.asr_backend, self.asr_model)


@dataclass
class Summary:
    accepted: Counter = field(default_factory=Counter)  # by transcript_source
    rejected: Counter = field(default_factory=Counter)  # by stage
    failed: dict[str, str] = field(default_factory=dict)  # transient, retried on the next run
    pending: int = 0
    quota_used: int = 0
    calls: Counter = field(default_factory=Counter)
    stopped_by_quota: QuotaExceeded | None = None

    def lines(self) -> list[str]:
        lines = [
            f"accepted {sum(self.accepted.values())} {dict(self.accepted)}; "
            f"rejected {sum(self.rejected.values())} {dict(self.rejected)} (reasons in {REJECTS}); "
            f"failed {len(self.failed)} (retried next run); pending {self.pending}",
            f"quota used this run: {self.quota_used} units "
            + ", ".join(f"{m} x{n} ({QUOTA_COST[m]} each)" for m, n in sorted(self.calls.items())),
        ]
        lines += [f"  failed {video_id}: {reason}" for video_id, reason in list(self.failed.items())[:20]]
        return lines


def process_batch(
    video_ids: list[str], client: YouTubeClient, options: IngestConfig, api: Any, progress: tqdm
) -> tuple[list[dict[str, Any]], list[Rejection], dict[str, str]]:
    """(accepted rows, rejections, transient failures) for up to 50 videos."""
    items = client.videos(video_ids)
    raw, rejections, failures = [], [], {}
    for video_id in video_ids:
        item = items.get(video_id)
        progress.set_postfix_str(video_id)
        if item is None:
            rejections.append(
                Rejection(
                    {"video_id": video_id, "source": "youtube"},
                    "not returned by videos.list: deleted, private or not a video id",
                    stage="unavailable",
                )
            )
        elif item["snippet"].get("liveBroadcastContent") in ("live", "upcoming"):
            failures[video_id] = "live or upcoming: no transcript yet"
        else:
            try:
                raw.append(record_for(item, transcript_for(item, options.whisper_policy(), api)))
            except TransientFailure as error:
                failures[video_id] = str(error)
            except captions.CouldNotRetrieveTranscript as error:  # unavailable, age-restricted, ...
                rejections.append(
                    Rejection(record_for(item, None), f"captions: {type(error).__name__}", stage="captions")
                )
        progress.update(1)
    accepted, contract_rejections = validate_records(raw)
    return [r.to_row() for r in accepted], rejections + contract_rejections, failures


def list_videos(
    request: Request, state: dict[str, Any], client: YouTubeClient, store: CollectedStore, options: IngestConfig
) -> None:
    """Fill state['pending'] from the request; a playlist is listed page by page, saving the cursor."""
    if request.kind == "videos":
        state["pending"] = list(dict.fromkeys(request.value))
        state["listing_complete"] = True
        store.save_state(request, state)
        return
    if not state.get("playlist_id"):
        if request.kind == "playlist":
            state["playlist_id"] = request.value
        else:
            value = str(request.value)
            state["playlist_id"], state["channel_title"] = (
                client.uploads_playlist(handle=value) if request.kind == "handle" else client.uploads_playlist(value)
            )
        store.save_state(request, state)
    pages = client.playlist_pages(state["playlist_id"], state.get("page_token"))
    for video_ids, next_token in tqdm(pages, desc="listing", unit="page", leave=False):
        pending = list(dict.fromkeys(state["pending"] + video_ids))
        limit_reached = bool(options.max_videos) and len(pending) >= options.max_videos
        state["pending"] = pending[: options.max_videos] if limit_reached else pending
        state["page_token"] = next_token
        state["listing_complete"] = limit_reached or next_token is None
        store.save_state(request, state)
        if limit_reached:
            break


def collect(
    request: Request, client: YouTubeClient, options: IngestConfig, store: CollectedStore | None = None
) -> Summary:
    store = store or CollectedStore(collected_dir())
    store.lock()
    store.repair()
    summary = Summary()
    state = store.load_state(request)
    if state is None or (state.get("listing_complete") and not state.get("pending")):
        # New, or finished before: list again so that new uploads are picked up (done ones are skipped).
        state = {
            "request": {"kind": request.kind, "value": request.value},
            "pending": [],
            "failed": {},
            "listing_complete": False,
        }
    api = captions.YouTubeTranscriptApi()
    try:
        if not state["listing_complete"]:
            list_videos(request, state, client, store, options)
        done = store.done_ids()
        # Ids committed by a run killed before its state update (or by another request) are done.
        state["pending"] = [v for v in state["pending"] if v not in done]
        todo = list(state["pending"])
        store.save_state(request, state)
        with tqdm(total=len(todo), desc="videos", unit="video") as progress:
            for start in range(0, len(todo), options.batch_size):
                batch = todo[start : start + options.batch_size]
                rows, rejections, failures = process_batch(batch, client, options, api, progress)
                store.commit(rows, rejections)
                finished = {r["video_id"] for r in rows} | {r.record["video_id"] for r in rejections}
                state["pending"] = [v for v in state["pending"] if v not in finished]
                state["failed"] = {k: v for k, v in state["failed"].items() if k not in finished} | failures
                store.save_state(request, state)
                for video_id in finished:  # committed: the cached Whisper transcript has served
                    whisper_cache_path(video_id).unlink(missing_ok=True)
                summary.accepted.update(r["transcript_source"] for r in rows)
                summary.rejected.update(r.stage for r in rejections)
                summary.failed.update(failures)
    except QuotaExceeded as error:
        summary.stopped_by_quota = error
        store.save_state(request, state)
    finally:
        store.unlock()
    summary.pending = len(state["pending"])
    summary.quota_used, summary.calls = client.quota_used, client.calls
    return summary


def _log_to_mlflow(request: Request, options: IngestConfig, summary: Summary) -> None:
    import mlflow

    from tubetags import tracking

    tracking.configure("tubetags-ingest")
    with mlflow.start_run(run_name=f"ingest {request.key}"):
        settings_used = options.model_dump(exclude={"video_ids"})
        mlflow.log_params({"request": request.key, **{f"ingest.{k}": v for k, v in settings_used.items()}})
        metrics = {
            "accepted": sum(summary.accepted.values()),
            "rejected": sum(summary.rejected.values()),
            "failed": len(summary.failed),
            "pending": summary.pending,
            "quota_units": summary.quota_used,
        }
        metrics |= {f"accepted_{k}": n for k, n in summary.accepted.items()}
        metrics |= {f"rejected_{k}": n for k, n in summary.rejected.items()}
        mlflow.log_metrics({name: float(value) for name, value in metrics.items()})


def run(options: IngestConfig, http: Any = None) -> Summary:
    """Collect, log the collection to MLflow (`track`), rebuild the corpus if asked.

    `http` (an httplib2.Http-like object) is for tests; by default the client makes its own."""
    request = options.request()
    try:
        client = YouTubeClient.connect(http=http, num_retries=options.retries)
        summary = collect(request, client, options)
    except (MissingApiKey, NotFound, HttpError) as error:  # one clear line rather than a traceback
        raise JobError(str(error)) from None
    if options.track:
        _log_to_mlflow(request, options, summary)
    if options.rebuild_corpus and not summary.stopped_by_quota:
        from pipelines import build_corpus

        manifest = build_corpus.run(build_corpus.BuildConfig.load({"track": options.track}))
        for line in build_corpus.summary_lines(manifest):
            log.info("%s", line)
    return summary


def report(_options: IngestConfig, summary: Summary) -> list[str]:
    lines = summary.lines()
    if summary.stopped_by_quota:
        resets_at = summary.stopped_by_quota.resets_at
        wait = resets_at - dt.datetime.now(dt.UTC)
        lines.append(
            f"Stopped: the YouTube API daily quota is spent ({summary.stopped_by_quota.method}). Progress "
            f"is kept ({summary.pending} videos pending). The quota resets at midnight Pacific time, "
            f"{resets_at:%Y-%m-%d %H:%M %Z} = {resets_at.astimezone(dt.UTC):%H:%M} UTC "
            f"(in {wait.seconds // 3600}h{wait.seconds % 3600 // 60:02d}m): run the same command again then."
        )
    lines.append(f"collected records in {collected_dir()}")
    return lines


JOB = Job(
    "ingest",
    IngestConfig,
    run,
    report=report,
    exit_code=lambda _options, summary: EXIT_QUOTA if summary.stopped_by_quota else 0,
    summary="collect YouTube videos (metadata, captions or Whisper, tags) through the data contract",
)
