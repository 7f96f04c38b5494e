"""One video job, run by the RQ worker (`api.jobs_worker.VideoWorker`): transcript, then tags.

A link: the video's captions (manual, then automatic: pipelines.captions), else its audio with yt-dlp and Whisper.
A file: ffmpeg decodes the upload's sound track, Whisper transcribes it. Then `api.tagging.tag_transcript`, the
service behind POST /api/tags, tags the transcript with the timed segments as evidence.

The job reports its stage and progress in the RQ job's meta (read by GET /api/jobs/{id}), at most once a second.
A transient fault (YouTube blocking or not answering) is tried again in the job, after RETRY_WAITS_S; a failure is
raised as `JobFailure` in words a creator understands, and the worker's exception handler keeps RQ from running the
job again: RQ's retries are for workers killed mid-job. The job's folder (the upload, a download) is removed
when the job ends, unless a retry will need it; `sweep_media` removes what a killed worker left.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from django.conf import settings
from rq import get_current_job
from rq.job import Job, JobStatus
from youtube_transcript_api import (
    AgeRestricted,
    CouldNotRetrieveTranscript,
    InvalidVideoId,
    VideoUnavailable,
    VideoUnplayable,
)

from api import jobs, tagging
from api.errors import ApiError
from api.serializers import TagsResponse
from pipelines import asr, captions, media
from pipelines.youtube_links import watch_url
from tubetags.inputs import parse_history
from tubetags.openvocab.evidence import Segment

log = logging.getLogger("api")

T = TypeVar("T")
SOURCES = {"manual_captions": "manual captions", "auto_captions": "auto captions", "whisper": "whisper"}
REPORT_EVERY_S = 1.0
RETRY_WAITS_S = (5.0, 20.0)  # a transient fault: two more tries, after these pauses


class JobFailure(Exception):
    """Why a job failed, for the creator; `transient`: worth another try later."""

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.message, self.transient = message, transient


@dataclass(frozen=True)
class TimedTranscript:
    segments: Sequence[tuple[float, float | None, str]]  # (start s, end s or None, text)
    language: str
    source: str  # "manual captions", "auto captions", "whisper"
    duration_s: float | None


class Reporter:
    """Stage and progress into the job's meta: written when the stage changes, else at most once a second."""

    def __init__(self, job: Job | None):
        self.job, self.written = job, 0.0

    def __call__(self, state: str, fraction: float = 0.0, detail: str = "", force: bool = False, **extra: Any) -> None:
        if self.job is None:
            return
        changed = self.job.meta.get("state") != state
        self.job.meta.update(state=state, stage_progress=round(fraction, 4), detail=detail, **extra)
        if changed or force or time.monotonic() - self.written >= REPORT_EVERY_S:
            self.job.save_meta()
            self.written = time.monotonic()


def retrying(step: Callable[[], T], report: Reporter) -> T:
    """`step()`, tried again after each pause of RETRY_WAITS_S while it fails with a transient JobFailure."""
    for wait in (*RETRY_WAITS_S, None):
        try:
            return step()
        except JobFailure as failure:
            if not failure.transient or wait is None:
                raise
            log.info("transient failure, trying again in %g s: %s", wait, failure.message)
            report(
                str(report.job.meta.get("state", "fetching")) if report.job else "fetching",
                0.0,
                f"{failure.message} Trying again in {wait:g} s.",
                force=True,
            )
            time.sleep(wait)
    raise AssertionError("unreachable")


def backend() -> str:
    return settings.TUBETAGS_JOBS_ASR_BACKEND


def clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}" if minutes >= 60 else f"{minutes}:{secs:02d}"


def whisper(audio: np.ndarray, report: Reporter) -> TimedTranscript:
    duration = len(audio) / media.SAMPLE_RATE
    started = time.time()
    report(
        "transcribing",
        0.0,
        f"Transcribing 0:00 of {clock(duration)}",
        force=True,
        duration_s=duration,
        transcribe_started=started,
        audio_done_s=0.0,
        rtf=settings.TUBETAGS_JOBS_EXPECTED_RTF,
    )

    def progress(done_s: float) -> None:
        done_s = min(done_s, duration)
        report(
            "transcribing", done_s / duration, f"Transcribing {clock(done_s)} of {clock(duration)}", audio_done_s=done_s
        )

    found, language = asr.transcribe_timed(audio, backend(), on_progress=progress)
    log.info("transcribed %.0f s of audio in %.1f s (%s)", duration, time.time() - started, backend())
    segments = [(s.start_s, s.end_s, s.text) for s in found]
    if not segments:
        raise JobFailure("No speech was heard in this video, so there is nothing to tag.")
    return TimedTranscript(segments, language, "whisper", duration)


def from_file(spec: dict[str, Any], report: Reporter) -> TimedTranscript:
    report("fetching", 0.5, "Reading the sound track", force=True)
    try:
        audio = media.decode_audio(jobs.job_folder(spec["job_id"]) / spec["file"])
    except FileNotFoundError as exc:
        raise JobFailure("The uploaded file is no longer there (the job waited too long). Upload it again.") from exc
    except media.MediaError as exc:
        raise JobFailure(str(exc)) from exc
    return whisper(audio, report)


def from_link(spec: dict[str, Any], report: Reporter) -> TimedTranscript:
    video = spec["video_id"]
    report("fetching", 0.0, "Looking for captions", force=True)
    found = retrying(lambda: read_captions(video), report)
    if found is not None:
        transcript, lines = found
        segments = [(start, None, text) for start, text in lines]
        return TimedTranscript(segments, transcript.language, SOURCES[transcript.source], None)
    report("fetching", 0.1, "No captions: downloading the sound track", force=True)
    path = retrying(lambda: download(video, jobs.job_folder(spec["job_id"]), report), report)
    try:
        audio = media.decode_audio(path)
    except media.MediaError as exc:
        raise JobFailure(str(exc)) from exc
    finally:
        path.unlink(missing_ok=True)
    return whisper(audio, report)


def read_captions(video: str) -> tuple[captions.Transcript, list[tuple[float, str]]] | None:
    try:
        return captions.fetch_caption_track(video)
    except captions.CaptionsTransient as exc:
        raise JobFailure("YouTube did not let us read the captions just now.", transient=True) from exc
    except (VideoUnavailable, InvalidVideoId) as exc:
        raise JobFailure("This YouTube video is not available (removed, private, or the link is wrong).") from exc
    except AgeRestricted as exc:
        raise JobFailure("This video is age-restricted, so it cannot be read without signing in.") from exc
    except VideoUnplayable as exc:
        raise JobFailure("YouTube says this video cannot be played (it may be private or blocked).") from exc
    except CouldNotRetrieveTranscript as exc:
        raise JobFailure(f"YouTube's captions could not be read ({type(exc).__name__}).", transient=True) from exc


def download(video: str, folder: Path, report: Reporter) -> Path:
    try:
        return asr.download_audio(
            video,
            folder,
            max_seconds=settings.TUBETAGS_JOBS_MAX_DURATION_S,
            on_progress=lambda f: report("fetching", 0.1 + 0.8 * f, f"Downloading the sound track ({f:.0%})"),
        )
    except asr.AudioTooLong as exc:
        raise JobFailure(
            f"This video has no captions and is {exc.seconds / 60:.0f} minutes long; without captions the limit "
            f"is {settings.TUBETAGS_JOBS_MAX_DURATION_S / 60:.0f} minutes."
        ) from exc
    except asr.AudioUnavailable as exc:
        text = str(exc)
        if any(word in text for word in ("Private video", "unavailable", "removed", "not available")):
            raise JobFailure("This YouTube video is not available (removed, private, or blocked).") from exc
        if "live stream" in text:
            raise JobFailure("This is a live stream: tag it once it has ended.") from exc
        raise JobFailure("The video's sound track could not be downloaded just now.", transient=True) from exc


def tag_text(spec: dict[str, Any], text: str, segments: list[Segment]) -> tagging.TagsResult:
    try:
        return tagging.tag_transcript(
            text[: settings.TUBETAGS_MAX_TRANSCRIPT_CHARS],
            segments,
            spec["k"],
            spec["alias"],
            spec.get("title"),
            spec.get("description"),
            started=time.perf_counter(),
            channel_history=parse_history(spec.get("channel_history")),
        )
    except ApiError as exc:  # no such model any more, or the registry is down
        raise JobFailure(exc.message, transient=exc.status >= 500) from exc


def tag(spec: dict[str, Any], transcript: TimedTranscript, report: Reporter) -> dict[str, Any]:
    report("tagging", 0.0, "Choosing the tags", force=True)
    text = "\n".join(text for _, _, text in transcript.segments)
    segments = [Segment(text, start) for start, _, text in transcript.segments]
    result = retrying(lambda: tag_text(spec, text, segments), report)
    video_id = spec.get("video_id")
    return {
        **TagsResponse(result).data,
        "transcript": {
            "source": transcript.source,
            "language": transcript.language,
            "segments": [
                {"start_s": round(s, 2), "end_s": e and round(e, 2), "text": t} for s, e, t in transcript.segments
            ],
        },
        "video": {
            "kind": spec["kind"],
            "video_id": video_id,
            "url": watch_url(video_id) if video_id else None,
            "title": spec.get("title"),
            "duration_s": transcript.duration_s,
        },
    }


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """The job: spec is what POST /api/jobs checked (kind, k, alias, title, description, channel_history as JSON
    text when given; video_id or file)."""
    job = get_current_job()
    report = Reporter(job)
    keep = False  # the job's folder stays only for a retry after the worker was stopped mid-job
    try:
        transcript = from_link(spec, report) if spec["kind"] == "url" else from_file(spec, report)
        return tag(spec, transcript, report)
    except JobFailure as failure:
        if job is not None:
            job.meta["error"] = failure.message
            job.save_meta()
        raise
    except (SystemExit, KeyboardInterrupt):
        keep = True
        raise
    finally:
        if not keep:
            shutil.rmtree(jobs.job_folder(spec["job_id"]), ignore_errors=True)


def sweep_media(min_age_s: float = 60.0) -> int:
    """Remove job folders whose job is over or gone (a worker killed mid-job leaves its folder). Returns how many."""
    folder = jobs.media_dir()
    if not folder.is_dir():
        return 0
    removed = 0
    for path in folder.iterdir():
        if time.time() - path.stat().st_mtime < min_age_s:
            continue  # an upload being queued right now
        job = Job.fetch_many([path.name], connection=jobs.connection())[0] if jobs.JOB_ID.match(path.name) else None
        if job is None or job.get_status() in (
            JobStatus.FINISHED,
            JobStatus.FAILED,
            JobStatus.STOPPED,
            JobStatus.CANCELED,
        ):
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
            removed += 1
    return removed


def failure_handler(job: Job, exc_type: type[BaseException], exc_value: BaseException, *_traceback: Any) -> bool:
    """RQ exception handler: only a job whose worker was killed runs again (RQ's retries); a job's own message
    stays as its reason."""
    if isinstance(exc_value, JobFailure):
        job.retries_left = 0  # transient faults were tried again inside the job already
        return True
    if exc_type.__name__ == "AbandonedJobError":
        return True  # retried while retries are left (RQ's clean-up)
    job.retries_left = 0  # a time-out or a bug: another try would fail the same way
    if exc_type.__name__ == "JobTimeoutException":
        job.meta["error"] = "Transcribing took longer than allowed. Try a shorter video."
        job.save_meta()
    return True
